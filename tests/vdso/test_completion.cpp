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
    // The call ends in its submission and its result comes back in a1 (abi::AsyncResultInRegistersBit).
    bool complete_inline = false;
    long inline_result = 0;
    // async_submit_batch: the size of each batch; entries whose number is bad_number get -ENOSYS.
    std::vector<uint64_t> batch_sizes;
    long bad_number = -1;
    // Taken by async_flush after it moved held completions in: another thread took it meanwhile.
    vdso::SpinLock* lock_on_flush = nullptr;
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

extern "C" long cokernel_host_system_call(long number, const uint64_t* arguments, uint64_t token, long* second) {
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
        if (fake_kernel->lock_on_flush != nullptr) fake_kernel->lock_on_flush->lock();
        return moved;
    }
    if (number == abi::AsyncSubmitBatch) {
        auto* entries = reinterpret_cast<abi::SubmissionEntry*>(arguments[0]);
        const uint64_t count = arguments[1];
        REQUIRE((arguments[2] & abi::AsyncResultInRegistersBit) != 0);
        fake_kernel->batch_sizes.push_back(count);
        for (uint64_t i = 0; i < count; ++i) {
            abi::SubmissionEntry& entry = entries[i];
            fake_kernel->tokens.push_back(entry.token);
            fake_kernel->numbers.push_back(entry.number);
            if (entry.number == fake_kernel->bad_number) {
                entry.status = -38; // -ENOSYS
            } else if (fake_kernel->complete_inline && fake_kernel->answer == 0) {
                entry.status = abi::AsyncCompletedInline;
                entry.result = fake_kernel->inline_result + static_cast<long>(i);
            } else {
                entry.status = fake_kernel->answer;
            }
        }
        return static_cast<long>(count);
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
    if (fake_kernel->complete_inline && fake_kernel->answer == 0) {
        REQUIRE((number & abi::AsyncResultInRegistersBit) != 0);
        *second = fake_kernel->inline_result;
        return abi::AsyncCompletedInline;
    }
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

vdso::Task<> awaiting(vdso::ExecutorState&, long* result, long number = 63) {
    AwaitCall awaiter;
    awaiter.call.number = number;
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

// The handler drained a full ring, async_flush brought held completions in, and another thread took
// the executor's lock before the next round: the handler defers that round, but what it delivered in
// the first still counts and its idle threads are told (asyncstress with batching on lost whole rings
// of completions from `delivered` this way).
TEST_CASE("completions: the handler counts what it delivered before it deferred", "[vdso][completion]") {
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
    for (int i = 0; i < Count; ++i) {
        if (!ring.post(fake.tokens[i], 100 + i)) {
            fake.held.push_back(abi::CompletionEntry{fake.tokens[i], 100 + i});
            ring.header()->held++;
        }
    }
    vdso::UserInterruptContext& context = world.context;
    uint32_t told = 0;
    context.after_delivery = [](void* argument, uint32_t delivered) { *static_cast<uint32_t*>(argument) += delivered; };
    context.after_delivery_argument = &told;
    fake.lock_on_flush = &executor.state.lock;
    vdso::user_interrupt_handler(context);
    CHECK(fake.flushes == 1);
    CHECK(context.deferred.load() == vdso::DeferredDrain);
    CHECK(context.delivered.load() == 2); // the first round's two, though the second found the lock taken
    CHECK(told == 2);
    CHECK(ring.header()->held == 1);
    fake.lock_on_flush = nullptr;
    executor.state.lock.unlock();
    CHECK(vdso::completion_poll(context) == 3);
    CHECK(context.delivered.load() == Count);
    CHECK(context.stale.load() == 0);
    executor.run();
    for (int i = 0; i < Count; ++i) CHECK(results[i] == 100 + i);
}

// The upcall form of the handler (docs/user-interrupts.md, "Upcall delivery"): the same drain, and
// the same deferral, counted as upcalls as well as interrupts.
TEST_CASE("completions: the upcall handler drains, or defers, as the CSR handler does", "[vdso][completion]") {
    World world(4);
    auto& executor = world.executor;
    auto& ring = world.ring;
    vdso::UserInterruptContext& context = world.context;
    long first = 0, second = 0;
    auto one = vdso::spawn(executor.state, awaiting(executor.state, &first), 10);
    auto two = vdso::spawn(executor.state, awaiting(executor.state, &second), 10);
    REQUIRE(one);
    REQUIRE(two);
    executor.run();
    ring.post(one->id().value, 7);
    vdso::user_interrupt_upcall_handler(context);
    CHECK(context.interrupts.load() == 1);
    CHECK(context.upcalls.load() == 1);
    CHECK(context.delivered.load() == 1);
    CHECK(!vdso::completion_pending(*ring.header()));
    ring.post(two->id().value, 8);
    executor.state.lock.lock(); // as if the interrupted code held it
    vdso::user_interrupt_upcall_handler(context);
    executor.state.lock.unlock();
    CHECK(context.deferred.load() == vdso::DeferredDrain);
    CHECK(context.upcalls.load() == 2);
    CHECK(vdso::completion_poll(context) == 1);
    executor.run();
    CHECK(first == 7);
    CHECK(second == 8);
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

namespace {
vdso::Task<> looping(vdso::ExecutorState&, int* count, int who, std::vector<int>* order) {
    for (int i = 0; i < 3; ++i) {
        AwaitCall awaiter;
        awaiter.call.number = 63;
        (void)co_await awaiter;
        ++*count;
        order->push_back(who);
    }
}
} // namespace

// abi::AsyncResultInRegistersBit: a call that ends in its own submission comes back in registers; the
// arm step hands the result over and the coroutine goes on as after a yield (no ring entry, no drain
// for it), with or without a ring of the executor's, while what else the kernel posted during the
// submission is still drained.
TEST_CASE("completions: the arm step takes its own call's completion from the registers", "[vdso][completion]") {
    World world(4);
    auto& executor = world.executor;
    auto& fake = world.fake;
    vdso::UserInterruptContext& context = world.context;
    fake.complete_inline = true;

    for (const bool own_ring : {false, true}) {
        executor.state.completions = own_ring ? &context : nullptr;
        fake.inline_result = own_ring ? 21 : 12;
        long result = 0;
        auto handle = vdso::spawn(executor.state, awaiting(executor.state, &result), 10);
        REQUIRE(handle);
        executor.run();
        CHECK((fake.numbers.back() & abi::AsyncResultInRegistersBit) != 0);
        CHECK(result == fake.inline_result);
        CHECK(handle->done());
        // Counted only with a ring of the executor's (the context is its).
        CHECK(context.completed_inline.load() == (own_ring ? 1u : 0u));
        CHECK(context.delivered.load() == (own_ring ? 1u : 0u));
        CHECK(context.drained_after_submission.load() == 0);
        CHECK(context.interrupts.load() == 0);
    }

    // Another coroutine's completion posted during the submission is drained by the same arm step; a
    // forged entry carrying the submitter's own ID is stale (its wait is over), the registers' result
    // stands.
    fake.complete_inline = false;
    long waiting_result = 0;
    auto waiting = vdso::spawn(executor.state, awaiting(executor.state, &waiting_result), 10);
    REQUIRE(waiting);
    executor.run();
    CHECK(*vdso::executor_state_of(executor.state, waiting->id()) == vdso::CoroutineState::Pending);
    fake.complete_inline = true;
    fake.inline_result = 5;
    fake.post_own_completion = true; // the forgery: {own token, 66}
    fake.own_result = 66;
    long result = 0;
    auto submitter = vdso::spawn(executor.state, awaiting(executor.state, &result), 10);
    REQUIRE(submitter);
    fake.post_during_submission.push_back({waiting->id().value, 7});
    executor.run();
    CHECK(result == 5);
    CHECK(waiting_result == 7);
    CHECK(waiting->done());
    CHECK(submitter->done());
    CHECK(context.completed_inline.load() == 2);
    CHECK(context.delivered.load() == 3); // the two in registers, the waiting one's by the drain
    CHECK(context.drained_after_submission.load() == 1);
    CHECK(context.stale.load() == 1);
    CHECK(world.ring.header()->head == world.ring.header()->tail);

    // A coroutine that loops on inline completions yields to its equals in between, as with yield_now.
    fake.post_own_completion = false;
    int rounds[2] = {};
    std::vector<int> order;
    auto a = vdso::spawn(executor.state, looping(executor.state, &rounds[0], 0, &order), 10);
    auto b = vdso::spawn(executor.state, looping(executor.state, &rounds[1], 1, &order), 10);
    REQUIRE(a);
    REQUIRE(b);
    executor.run();
    CHECK(rounds[0] == 3);
    CHECK(rounds[1] == 3);
    CHECK(order == std::vector<int>{0, 1, 0, 1, 0, 1});
    CHECK(executor.invariants());
}

namespace {
vdso::Task<> yield_until(vdso::ExecutorState&, const bool* flag, int* turns) {
    while (!*flag) {
        ++*turns;
        co_await vdso::yield_now();
    }
}
} // namespace

// Batched submission: calls armed while other coroutines are ready wait in the batch; the arm step
// of the last one submits them all with one async_submit_batch; each entry's status comes back:
// ended inline (the result), refused (-ENOSYS for a bad number), or accepted (the ring brings it).
TEST_CASE("completions: calls armed in one round go to the kernel in one batch", "[vdso][completion]") {
    World world(8);
    auto& executor = world.executor;
    auto& fake = world.fake;
    vdso::UserInterruptContext& context = world.context;
    abi::SubmissionEntry area[8];
    vdso::SubmissionBatch batch;
    batch.entries = area;
    batch.capacity = 8;
    context.batch = &batch;
    executor.state.completions = &context;
    constexpr int Count = 6;

    // All end inline, one has a bad number.
    fake.complete_inline = true;
    fake.inline_result = 100;
    fake.bad_number = 99;
    long results[Count] = {};
    vdso::JoinHandle<void> handles[Count];
    for (int i = 0; i < Count; ++i) {
        auto handle = vdso::spawn(executor.state, awaiting(executor.state, &results[i], i == 2 ? 99 : 63), 10);
        REQUIRE(handle);
        handles[i] = std::move(*handle);
    }
    executor.run();
    REQUIRE(fake.batch_sizes == std::vector<uint64_t>{Count});
    for (int i = 0; i < Count; ++i) {
        CHECK(handles[i].done());
        CHECK(results[i] == (i == 2 ? -38 : 100 + i));
    }
    CHECK(context.delivered.load() == Count);
    CHECK(context.batched_calls.load() == Count);
    CHECK(batch.count == 0);
    CHECK(context.deferred.load() == 0);

    // All accepted: they wait; the ring brings the results (in another order), once each.
    fake.complete_inline = false;
    fake.tokens.clear();
    for (int i = 0; i < Count; ++i) {
        auto handle = vdso::spawn(executor.state, awaiting(executor.state, &results[i]), 10);
        REQUIRE(handle);
        handles[i] = std::move(*handle);
    }
    executor.run();
    REQUIRE(fake.batch_sizes.size() == 2);
    CHECK(fake.batch_sizes[1] == Count);
    REQUIRE(fake.tokens.size() == Count);
    for (int i = 0; i < Count; ++i) CHECK_FALSE(handles[i].done());
    for (int i = Count; i-- > 0;) world.ring.post(fake.tokens[i], 200 + i);
    CHECK(vdso::completion_poll(context) == Count);
    executor.run();
    for (int i = 0; i < Count; ++i) {
        CHECK(handles[i].done());
        CHECK(results[i] == 200 + i);
    }

    // A lone call (nothing else ready) is submitted directly, not batched.
    fake.complete_inline = true;
    fake.inline_result = 7;
    long lone = 0;
    auto single = vdso::spawn(executor.state, awaiting(executor.state, &lone), 10);
    REQUIRE(single);
    executor.run();
    CHECK(fake.batch_sizes.size() == 2);
    CHECK(lone == 7);

    // A call armed while a coroutine yields in a loop: the batch is submitted at the first step after
    // a coroutine that added nothing to it (the runtime's hart-yield hook calls completion_poll), so
    // the yielder cannot hold it back.
    bool stop = false;
    int turns = 0;
    auto yielder = vdso::spawn(executor.state, yield_until(executor.state, &stop, &turns), 10);
    long held_back = 0;
    auto caller = vdso::spawn(executor.state, awaiting(executor.state, &held_back), 10);
    REQUIRE(yielder);
    REQUIRE(caller);
    vdso::FetchedCoroutine ran = vdso::executor_fetch(executor.state, nullptr); // the yielder
    std::coroutine_handle<>::from_address(ran.block->resume_address).resume();
    vdso::executor_finish(executor.state, nullptr, ran);
    CHECK(vdso::completion_poll(context) == 0);
    CHECK(turns == 1);
    // The caller arms with the yielder ready: batched.
    CHECK(vdso::poll_once(executor.state, nullptr) == vdso::PollOutcome::Ran);
    CHECK(batch.count == 1);
    CHECK(vdso::completion_poll(context) == 0); // right after the coroutine that added it: kept
    CHECK(batch.count == 1);
    CHECK(vdso::poll_once(executor.state, nullptr) == vdso::PollOutcome::Ran); // the yielder again
    CHECK(vdso::completion_poll(context) == 1); // submitted now, and the caller woken
    CHECK(fake.batch_sizes.size() == 3);
    stop = true;
    executor.run();
    CHECK(caller->done());
    CHECK(held_back == 7);
    CHECK(yielder->done());
    CHECK(executor.invariants());
}
