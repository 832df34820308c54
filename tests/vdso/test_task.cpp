// The coroutine types and the poll loop on one thread: Task chains, spawn/join, yield, events,
// frame exhaustion, cancellation, binding, and the poll loop's hooks.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "executor_fixture.hpp"
#include "vdso/event.hpp"

using namespace vdso;
using vdso_test::TestExecutor;

namespace {

Task<int> add(ExecutorState&, int a, int b) { co_return a + b; }

Task<int> add_after_yield(ExecutorState& executor, int a, int b) {
    co_await yield_now();
    auto sum = co_await add(executor, a, b);
    co_return *sum;
}

Task<int> chain(ExecutorState& executor, int depth) {
    if (depth == 0) co_return 0;
    auto below = co_await chain(executor, depth - 1);
    co_return *below + 1;
}

Task<> record(ExecutorState&, std::vector<std::string>& trace, std::string name, int yields) {
    for (int i = 0; i < yields; ++i) {
        trace.push_back(name + std::to_string(i));
        co_await yield_now();
    }
    trace.push_back(name + "!");
}

Task<> wait_then_record(ExecutorState&, Event& event, std::vector<std::string>& trace, std::string name) {
    co_await event.wait();
    trace.push_back(name);
}

Task<> wait_queue_then_record(ExecutorState&, WaitQueue& queue, std::vector<std::string>& trace,
                              std::string name) {
    co_await queue.wait();
    trace.push_back(name);
}

template <typename T>
JoinHandle<T> must_spawn(ExecutorState& executor, Task<T>&& task, uint32_t priority) {
    auto handle = spawn(executor, std::move(task), priority);
    REQUIRE(handle);
    return std::move(*handle);
}

} // namespace

TEST_CASE("task: a spawned chain of awaited tasks returns its value through the join handle",
          "[vdso][task]") {
    TestExecutor executor;
    auto simple = must_spawn(executor.state, add_after_yield(executor.state, 2, 3), 4);
    auto deep = must_spawn(executor.state, chain(executor.state, 20), 4);
    CHECK_FALSE(simple.done());
    executor.run();
    REQUIRE(simple.done());
    CHECK(*simple.take_result() == 5);
    CHECK(*deep.take_result() == 20);
    CHECK(executor_state_of(executor.state, simple.id()).value() == CoroutineState::Exited);
    CHECK(executor.invariants());
    simple.detach();
    deep.detach();
    CHECK(executor.all_frames_free());
}

TEST_CASE("task: yield round-robins within a level and strict priority orders levels", "[vdso][task]") {
    TestExecutor executor;
    std::vector<std::string> trace;
    auto a = must_spawn(executor.state, record(executor.state, trace, "a", 2), 5);
    auto b = must_spawn(executor.state, record(executor.state, trace, "b", 2), 5);
    auto urgent = must_spawn(executor.state, record(executor.state, trace, "u", 1), 1);
    executor.run();
    CHECK(trace == std::vector<std::string>{"u0", "u!", "a0", "b0", "a1", "b1", "a!", "b!"});
}

TEST_CASE("task: join from another coroutine, before and after completion", "[vdso][task]") {
    TestExecutor executor;
    auto worker = must_spawn(executor.state, add_after_yield(executor.state, 20, 22), 6);
    int seen = 0;
    auto joiner = [](ExecutorState&, JoinHandle<int>& worker, int& seen) -> Task<> {
        auto result = co_await worker;
        seen = result ? *result : -1;
    };
    // Joiner first (more urgent): it waits, then is woken by the worker's completion.
    auto waiting = must_spawn(executor.state, joiner(executor.state, worker, seen), 1);
    executor.run();
    CHECK(seen == 42);
    // Joining a finished task does not suspend.
    auto finished = must_spawn(executor.state, add(executor.state, 1, 1), 1);
    executor.run();
    int seen_late = 0;
    auto late = must_spawn(executor.state, joiner(executor.state, finished, seen_late), 1);
    executor.run();
    CHECK(seen_late == 2);
    CHECK(executor.invariants());
}

TEST_CASE("task: an event wakes every waiter and lets later waits through", "[vdso][task][event]") {
    TestExecutor executor;
    Event event;
    std::vector<std::string> trace;
    auto first = must_spawn(executor.state, wait_then_record(executor.state, event, trace, "first"), 3);
    auto second = must_spawn(executor.state, wait_then_record(executor.state, event, trace, "second"), 3);
    executor.run();
    CHECK(trace.empty());
    CHECK(executor_state_of(executor.state, first.id()).value() == CoroutineState::Pending);
    CHECK(event.has_waiters());
    CHECK(event.set() == 2);
    executor.run();
    CHECK(trace == std::vector<std::string>{"first", "second"});
    auto third = must_spawn(executor.state, wait_then_record(executor.state, event, trace, "third"), 3);
    executor.run();
    CHECK(trace.back() == "third");
    event.reset();
    CHECK_FALSE(event.is_set());
}

TEST_CASE("task: a wait queue wakes its waiters one at a time in FIFO order", "[vdso][task][event]") {
    TestExecutor executor;
    WaitQueue queue;
    std::vector<std::string> trace;
    std::vector<JoinHandle<void>> handles;
    for (const char* name : {"x", "y", "z"}) {
        handles.push_back(must_spawn(executor.state, wait_queue_then_record(executor.state, queue, trace, name), 2));
    }
    executor.run();
    CHECK(queue.notify_one() == 1);
    executor.run();
    CHECK(trace == std::vector<std::string>{"x"});
    CHECK(queue.notify_all() == 2);
    executor.run();
    CHECK(trace == std::vector<std::string>{"x", "y", "z"});
    CHECK(queue.notify_one() == 0); // nobody waiting: lost
}

TEST_CASE("task: frame exhaustion makes spawn and nested awaits return NoMemory", "[vdso][task][frames]") {
    TestExecutor executor(64, 2); // two frames
    auto first = must_spawn(executor.state, add(executor.state, 1, 2), 1);
    auto second = must_spawn(executor.state, add(executor.state, 3, 4), 1);
    auto third = spawn(executor.state, add(executor.state, 5, 6), 1);
    REQUIRE_FALSE(third);
    CHECK(third.error() == Error::NoMemory);
    executor.run();
    CHECK(*first.take_result() == 3);
    first.detach();
    // One frame free: a task that awaits a child finds the child's frame missing.
    auto nested = [](ExecutorState& executor) -> Task<int> {
        auto child = co_await add(executor, 1, 1);
        co_return child ? 0 : -1;
    };
    auto parent = must_spawn(executor.state, nested(executor.state), 1);
    executor.run();
    CHECK(*parent.take_result() == -1);
    parent.detach();
    second.detach();
    CHECK(executor.all_frames_free());
}

TEST_CASE("task: a full control-block table makes spawn fail and frees the frame", "[vdso][task][frames]") {
    TestExecutor executor(1, 8);
    auto only = must_spawn(executor.state, add(executor.state, 1, 2), 1);
    auto rejected = spawn(executor.state, add(executor.state, 1, 2), 1);
    REQUIRE_FALSE(rejected);
    CHECK(rejected.error() == Error::NoMemory);
    CHECK(executor.allocator.free_count == executor.allocator.block_count - 1);
}

TEST_CASE("task: frames larger than a block use the general allocator hook, or fail without it",
          "[vdso][task][frames]") {
    TestExecutor executor(8, 8, 64); // blocks too small for any frame
    auto big = spawn(executor.state, add(executor.state, 1, 2), 1);
    CHECK_FALSE(big);
    int large_allocations = 0;
    executor.allocator.allocate_large = [](void* context, std::size_t size) -> void* {
        ++*static_cast<int*>(context);
        return std::aligned_alloc(16, (size + 15) & ~std::size_t{15});
    };
    executor.allocator.free_large = [](void* context, void* memory, std::size_t) {
        --*static_cast<int*>(context);
        std::free(memory);
    };
    executor.allocator.large_context = &large_allocations;
    {
        auto handle = must_spawn(executor.state, add(executor.state, 1, 2), 1);
        CHECK(large_allocations == 1);
        executor.run();
        CHECK(*handle.take_result() == 3);
    }
    CHECK(large_allocations == 0);
}

TEST_CASE("task: cancelling a waiting coroutine destroys it and unlinks it from its event",
          "[vdso][task][cancel]") {
    TestExecutor executor;
    Event event;
    std::vector<std::string> trace;
    auto waiting = must_spawn(executor.state, wait_then_record(executor.state, event, trace, "w"), 3);
    auto ready = must_spawn(executor.state, record(executor.state, trace, "r", 1), 3);
    executor.run();
    CHECK(trace == std::vector<std::string>{"r0", "r!"});
    CHECK(cancel(executor.state, waiting.id()) == CancelStatus::Cancelled);
    CHECK(waiting.cancelled());
    CHECK(waiting.take_result().error() == Error::NotFound);
    CHECK(cancel(executor.state, waiting.id()) == CancelStatus::Stale);
    // The join handle still shares the frame; when it lets go, the frame and its waiter node go,
    // and the node unlinks itself from the event.
    CHECK(event.has_waiters());
    waiting.detach();
    CHECK_FALSE(event.has_waiters());
    CHECK(event.set() == 0);
    executor.run();
    CHECK(trace.size() == 2);
    // Cancel a Ready coroutine before it ever runs.
    auto never = must_spawn(executor.state, record(executor.state, trace, "n", 1), 3);
    CHECK(cancel(executor.state, never.id()) == CancelStatus::Cancelled);
    executor.run();
    CHECK(trace.size() == 2);
    never.detach();
    ready.detach();
    CHECK(executor.all_frames_free());
    CHECK(executor.invariants());
}

TEST_CASE("task: cancelling a root destroys the whole chain of awaited tasks", "[vdso][task][cancel]") {
    TestExecutor executor;
    Event event;
    std::vector<std::string> trace;
    auto outer = [](ExecutorState& executor, Event& event, std::vector<std::string>& trace) -> Task<> {
        (void)co_await wait_then_record(executor, event, trace, "inner");
        trace.push_back("outer");
    };
    auto handle = must_spawn(executor.state, outer(executor.state, event, trace), 3);
    executor.run();
    CHECK(event.has_waiters());
    CHECK(executor.allocator.free_count == executor.allocator.block_count - 2);
    CHECK(cancel(executor.state, handle.id()) == CancelStatus::Cancelled);
    handle.detach();
    CHECK_FALSE(event.has_waiters());
    CHECK(executor.all_frames_free());
    CHECK(event.set() == 0);
    executor.run();
    CHECK(trace.empty());
}

TEST_CASE("task: a coroutine cancelled while running is destroyed when it suspends", "[vdso][task][cancel]") {
    TestExecutor executor;
    int steps = 0;
    auto self_cancel = [](ExecutorState& executor, int& steps) -> Task<> {
        const CoroutineId self = co_await current_coroutine();
        ++steps;
        CHECK(cancel(executor, self) == CancelStatus::Deferred);
        co_await yield_now();
        ++steps; // never reached
    };
    auto handle = must_spawn(executor.state, self_cancel(executor.state, steps), 2);
    executor.run();
    CHECK(steps == 1);
    CHECK(handle.cancelled());
    handle.detach();
    CHECK(executor.all_frames_free());
}

TEST_CASE("task: a detached coroutine frees its frame when it finishes", "[vdso][task]") {
    TestExecutor executor;
    must_spawn(executor.state, add(executor.state, 1, 2), 1).detach();
    executor.run();
    CHECK(executor.all_frames_free());
}

TEST_CASE("task: bind_to_current_thread keeps a coroutine on its poll thread", "[vdso][task][bind]") {
    TestExecutor executor;
    PollThread mine, other;
    int phase = 0;
    auto bound = [](ExecutorState&, int& phase) -> Task<> {
        co_await bind_to_current_thread();
        phase = 1;
        co_await yield_now();
        phase = 2;
        co_await unbind_from_thread();
        phase = 3;
    };
    auto handle = must_spawn(executor.state, bound(executor.state, phase), 2);
    REQUIRE(poll_once(executor.state, &mine) == PollOutcome::Ran);
    CHECK(mine.bound_ready_count == 1);
    CHECK(poll_once(executor.state, &other) == PollOutcome::NothingReady);
    REQUIRE(poll_once(executor.state, &mine) == PollOutcome::Ran);
    CHECK(phase == 1);
    REQUIRE(poll_once(executor.state, &mine) == PollOutcome::Ran);
    CHECK(phase == 2);
    CHECK(mine.bound_ready_count == 0);
    REQUIRE(poll_once(executor.state, &other) == PollOutcome::Ran); // unbound: anyone may run it
    CHECK(phase == 3);
    CHECK(handle.done());
}

TEST_CASE("poll loop: should_yield_hart is asked after each coroutine, idle when nothing is ready",
          "[vdso][poll]") {
    TestExecutor executor;
    std::vector<std::string> trace;
    auto a = must_spawn(executor.state, record(executor.state, trace, "a", 3), 4);
    struct Counters {
        int asked = 0;
        int yield_after = 2;
        int idled = 0;
    } counters;
    executor.state.hooks.should_yield_hart = [](void* context) {
        auto& c = *static_cast<Counters*>(context);
        return ++c.asked == c.yield_after;
    };
    executor.state.hooks.should_yield_context = &counters;
    executor.state.hooks.idle = [](void* context) {
        ++static_cast<Counters*>(context)->idled;
        return false;
    };
    executor.state.hooks.idle_context = &counters;
    PollThread thread;
    CHECK(run_poll_loop(executor.state, &thread) == PollOutcome::YieldHart);
    CHECK(counters.asked == 2);
    CHECK(trace.size() == 2);
    CHECK(thread.coroutines_resumed == 2); // one check per coroutine resumed
    CHECK(run_poll_loop(executor.state, &thread) == PollOutcome::Stopped);
    CHECK(counters.idled == 1);
    CHECK(trace.size() == 4);
    CHECK(executor.reports.back() == NoPriority);
    CHECK(poll_once(executor.state, &thread) == PollOutcome::NothingReady);
    CHECK(thread.coroutines_resumed == static_cast<uint64_t>(counters.asked));
}
