// Completions of asynchronous calls (vdso/completion.hpp) on the host: the arm step submits with the
// coroutine's ID, a refusal wakes the coroutine with the refusal, and a drain delivers a result only
// to the coroutine suspended in that wait; stale, duplicate and foreign IDs are counted and ignored;
// completions held by the "kernel" are flushed in.
#include <catch2/catch.hpp>

#include <coroutine>
#include <cstdint>
#include <vector>

#include "executor_fixture.hpp"
#include "abi/syscall_list.hpp"
#include "vdso/completion.hpp"
#include "vdso/event.hpp"

namespace abi = cokernel::abi;

namespace {

// The fake kernel: records submissions, answers each with `answer`, and keeps held completions.
struct FakeKernel {
    long answer = 0;
    std::vector<uint64_t> tokens;          // submitted tokens, in order
    std::vector<abi::CompletionEntry> held;     // flushed into `ring` by async_flush
    abi::CompletionRing* ring = nullptr;
    long flushes = 0;
    std::vector<long> numbers;                  // submitted numbers (with their AsyncCall bits), in order
    // Completions the "kernel" posts into `ring` during the next submission (as if the call ended
    // inline, or other calls finished on the way back), before it returns.
    std::vector<abi::CompletionEntry> post_during_submission;
    bool post_own_completion = false;           // also post {token, own_result} during each submission
    long own_result = 0;
};
FakeKernel* fake_kernel = nullptr;

// A ring with its entries, as the kernel lays it out.
struct Ring {
    explicit Ring(uint32_t capacity) : memory(sizeof(abi::CompletionRing) / 8 + capacity * 2) {
        header()->capacity = capacity;
    }
    abi::CompletionRing* header() { return reinterpret_cast<abi::CompletionRing*>(memory.data()); }
    bool post(uint64_t token, int64_t result) {
        abi::CompletionRing& ring = *header();
        if (ring.tail - ring.head >= ring.capacity) return false;
        abi::ring_entries(&ring)[ring.tail % ring.capacity] = abi::CompletionEntry{token, result};
        __atomic_store_n(&ring.tail, ring.tail + 1, __ATOMIC_RELEASE);
        return true;
    }
    std::vector<uint64_t> memory;
};

} // namespace

extern "C" long cokernel_host_system_call(long number, const uint64_t*, uint64_t token) {
    if (number == abi::AsyncFlush) {
        ++fake_kernel->flushes;
        long moved = 0;
        auto* ring = fake_kernel->ring;
        while (!fake_kernel->held.empty() && ring->tail - ring->head < ring->capacity) {
            abi::ring_entries(ring)[ring->tail % ring->capacity] = fake_kernel->held.front();
            ring->tail++;
            fake_kernel->held.erase(fake_kernel->held.begin());
            ring->held--;
            ++moved;
        }
        return moved;
    }
    REQUIRE((number & abi::AsyncCallBit) != 0);
    fake_kernel->tokens.push_back(token);
    fake_kernel->numbers.push_back(number);
    auto post = [](abi::CompletionEntry entry) {
        abi::CompletionRing& ring = *fake_kernel->ring;
        REQUIRE(ring.tail - ring.head < ring.capacity);
        abi::ring_entries(&ring)[ring.tail % ring.capacity] = entry;
        __atomic_store_n(&ring.tail, ring.tail + 1, __ATOMIC_RELEASE);
    };
    for (const abi::CompletionEntry& entry : fake_kernel->post_during_submission) post(entry);
    fake_kernel->post_during_submission.clear();
    if (fake_kernel->post_own_completion && fake_kernel->answer == 0) post({token, fake_kernel->own_result});
    return fake_kernel->answer;
}

namespace {

// What user/lib/async.hpp's awaiter does, with the host's arm function.
struct AwaitCall {
    vdso::AsyncCall call;
    bool await_ready() const noexcept { return false; }
    template <typename Promise>
    bool await_suspend(std::coroutine_handle<Promise> frame) noexcept {
        auto arm = reinterpret_cast<vdso::ArmFunction>(reinterpret_cast<void (*)()>(&vdso_async_call_arm));
        return vdso::record_suspension(frame.promise(), frame, vdso::SuspendReason::Wait, arm, &call);
    }
    long await_resume() const noexcept { return call.result; }
};

vdso::Task<> awaiting(vdso::ExecutorState&, long* result) {
    AwaitCall awaiter;
    awaiter.call.number = 63;
    *result = co_await awaiter;
}

// Each case's world: an executor, the fake kernel (installed for cokernel_host_system_call) and a
// ring it flushes into.
struct World {
    explicit World(uint32_t ring_capacity) : ring(ring_capacity) {
        fake_kernel = &fake;
        fake.ring = ring.header();
        context.executor = &executor.state;
        context.ring = ring.header();
    }
    ~World() { fake_kernel = nullptr; }
    vdso_test::TestExecutor executor;
    FakeKernel fake;
    Ring ring;
    vdso::UserInterruptContext context;  // what the runtime gives the handler and completion_poll
};

vdso::Task<> waits_on_event(vdso::ExecutorState&, vdso::Event& event, bool* resumed) {
    co_await event.wait();
    *resumed = true;
}

} // namespace

TEST_CASE("completions: a result reaches only the coroutine waiting for it", "[vdso][completion]") {
    World world(4);
    auto& executor = world.executor;
    auto& fake = world.fake;
    auto& ring = world.ring;

    long result = 0;
    auto handle = vdso::spawn(executor.state, awaiting(executor.state, &result), 10);
    REQUIRE(handle);
    bool event_resumed = false;
    vdso::Event event;
    auto other = vdso::spawn(executor.state, waits_on_event(executor.state, event, &event_resumed), 10);
    REQUIRE(other);
    executor.run();
    // The arm step submitted the call with the coroutine's ID as token; the coroutine waits.
    REQUIRE(fake.tokens.size() == 1);
    CHECK(fake.tokens[0] == handle->id().value);
    CHECK(*vdso::executor_state_of(executor.state, handle->id()) == vdso::CoroutineState::Pending);

    // A foreign ID (waiting on an event), an unknown one and the right one.
    ring.post(other->id().value, 7);
    ring.post(vdso::CoroutineId::make(40, 9).value, 8);
    ring.post(handle->id().value, 42);
    vdso::DrainOutcome outcome = vdso::completion_drain(executor.state, *ring.header());
    CHECK(outcome.delivered == 1);
    CHECK(outcome.stale == 2);
    CHECK(ring.header()->head == ring.header()->tail);
    CHECK(*vdso::executor_state_of(executor.state, other->id()) == vdso::CoroutineState::Pending);

    // A duplicate before it has run: ignored, the first result stands.
    ring.post(handle->id().value, 43);
    outcome = vdso::completion_drain(executor.state, *ring.header());
    CHECK(outcome.delivered == 0);
    CHECK(outcome.stale == 1);
    executor.run();
    CHECK(result == 42);
    CHECK(handle->done());
    CHECK_FALSE(event_resumed);

    // After it has exited: stale.
    ring.post(handle->id().value, 44);
    outcome = vdso::completion_drain(executor.state, *ring.header());
    CHECK(outcome.stale == 1);
    CHECK(result == 42);
    event.set();
    executor.run();
    CHECK(event_resumed);
    CHECK(executor.invariants());
}

TEST_CASE("completions: a refused submission wakes the coroutine with the refusal", "[vdso][completion]") {
    World world(4);
    auto& executor = world.executor;
    world.fake.answer = -11; // -EAGAIN
    long result = 0;
    auto handle = vdso::spawn(executor.state, awaiting(executor.state, &result), 10);
    REQUIRE(handle);
    executor.run();
    CHECK(world.fake.tokens.size() == 1);
    CHECK(result == -11);
    CHECK(handle->done());
}

TEST_CASE("completions: held completions are flushed into the ring and delivered", "[vdso][completion]") {
    World world(2);
    auto& executor = world.executor;
    auto& fake = world.fake;
    auto& ring = world.ring;
    constexpr int Count = 5;
    long results[Count] = {};
    vdso::JoinHandle<void> handles[Count];
    for (int i = 0; i < Count; ++i) {
        auto handle = vdso::spawn(executor.state, awaiting(executor.state, &results[i]), 10);
        REQUIRE(handle);
        handles[i] = std::move(*handle);
    }
    executor.run();
    REQUIRE(fake.tokens.size() == Count);
    // Two fit the ring, three are held by the kernel.
    for (int i = 0; i < Count; ++i) {
        if (!ring.post(fake.tokens[i], 100 + i)) {
            fake.held.push_back(abi::CompletionEntry{fake.tokens[i], 100 + i});
            ring.header()->held++;
        }
    }
    CHECK(ring.header()->held == 3);
    vdso::UserInterruptContext& context = world.context;
    CHECK(vdso::completion_poll(context) == Count);
    CHECK(fake.flushes >= 2);
    CHECK(ring.header()->held == 0);
    executor.run();
    for (int i = 0; i < Count; ++i) CHECK(results[i] == 100 + i);
    CHECK(context.delivered.load() == Count);
}

TEST_CASE("completions: the handler defers when the executor's lock is taken", "[vdso][completion]") {
    World world(4);
    auto& executor = world.executor;
    auto& ring = world.ring;
    long result = 0;
    auto handle = vdso::spawn(executor.state, awaiting(executor.state, &result), 10);
    REQUIRE(handle);
    executor.run();
    ring.post(handle->id().value, 5);
    vdso::UserInterruptContext& context = world.context;
    executor.state.lock.lock(); // as if the interrupted code held it
    vdso::user_interrupt_handler(context);
    executor.state.lock.unlock();
    CHECK(context.deferred.load() == 1);
    CHECK(context.interrupts.load() == 1);
    CHECK(vdso::completion_pending(*ring.header()));
    // The poll loop's turn: it drains.
    CHECK(vdso::completion_poll(context) == 1);
    CHECK(context.deferred.load() == 0);
    executor.run();
    CHECK(result == 5);
}

// abi::AsyncDrainsAfterReturnBit: with a ring of its own executor's (ExecutorState::completions) the arm
// step submits with the bit and drains right after the ecall, so completions the kernel posted during
// the submission (no interrupt raised for them) are delivered without any handler run.
TEST_CASE("completions: the arm step drains what its submission posted", "[vdso][completion]") {
    World world(4);
    auto& executor = world.executor;
    auto& fake = world.fake;
    vdso::UserInterruptContext& context = world.context;

    // Without a ring of its executor's: no bit, nothing drained by the arm step.
    long plain = 0;
    auto first = vdso::spawn(executor.state, awaiting(executor.state, &plain), 10);
    REQUIRE(first);
    executor.run();
    REQUIRE(fake.numbers.size() == 1);
    CHECK((fake.numbers[0] & abi::AsyncDrainsAfterReturnBit) == 0);
    // The waiting coroutine's priority (10) goes with the submission, plus one (0: none named).
    CHECK((fake.numbers[0] & abi::AsyncPriorityMask) >> abi::AsyncPriorityShift == 11);
    world.ring.post(first->id().value, 1);
    CHECK(vdso::completion_poll(context) == 1);
    executor.run();
    CHECK(plain == 1);

    executor.state.completions = &context;
    // Its own call ends inside the submission: delivered by the arm step, the coroutine resumes in
    // the same run.
    fake.post_own_completion = true;
    fake.own_result = 42;
    long result = 0;
    auto handle = vdso::spawn(executor.state, awaiting(executor.state, &result), 10);
    REQUIRE(handle);
    executor.run();
    REQUIRE(fake.numbers.size() == 2);
    CHECK((fake.numbers[1] & abi::AsyncDrainsAfterReturnBit) != 0);
    CHECK(result == 42);
    CHECK(handle->done());
    CHECK(context.interrupts.load() == 0);
    CHECK(context.drained_after_submission.load() == 1);

    // Another waiting coroutine's call completes during this submission: both delivered, once each.
    fake.post_own_completion = false;
    long waiting_result = 0;
    auto waiting = vdso::spawn(executor.state, awaiting(executor.state, &waiting_result), 10);
    REQUIRE(waiting);
    executor.run();
    CHECK(*vdso::executor_state_of(executor.state, waiting->id()) == vdso::CoroutineState::Pending);
    fake.post_own_completion = true;
    fake.own_result = 8;
    long submitter_result = 0;
    auto submitter = vdso::spawn(executor.state, awaiting(executor.state, &submitter_result), 10);
    REQUIRE(submitter);
    fake.post_during_submission.push_back({waiting->id().value, 7});
    executor.run();
    CHECK(waiting_result == 7);
    CHECK(submitter_result == 8);
    CHECK(waiting->done());
    CHECK(submitter->done());
    CHECK(context.drained_after_submission.load() == 3);
    CHECK(context.stale.load() == 0);
    CHECK(world.ring.header()->head == world.ring.header()->tail);

    // A refused submission still drains what others posted meanwhile.
    fake.post_own_completion = false;
    long second_waiting = 0;
    auto second = vdso::spawn(executor.state, awaiting(executor.state, &second_waiting), 10);
    REQUIRE(second);
    executor.run();
    fake.answer = -11;
    long refused = 0;
    auto refused_one = vdso::spawn(executor.state, awaiting(executor.state, &refused), 10);
    REQUIRE(refused_one);
    fake.post_during_submission.push_back({second->id().value, 9});
    executor.run();
    CHECK(refused == -11);
    CHECK(second_waiting == 9);
    CHECK(context.drained_after_submission.load() == 4);
    CHECK(executor.invariants());
}
