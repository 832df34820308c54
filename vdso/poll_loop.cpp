#include "vdso/poll_loop.hpp"

#include <coroutine>

#include "vdso/executor_locked.hpp"

namespace vdso {

namespace {

// Resume one fetched coroutine and, if it waits, run its arm function while it is still Running.
// The arm function is taken out of the block before it runs (ControlBlock: arm is null except
// between the suspension that records it and this call).
[[gnu::always_inline]] inline void run_one(ExecutorState& state, ControlBlock& block) {
    std::coroutine_handle<>::from_address(block.resume_address).resume();
    if (block.suspend_reason == SuspendReason::Wait && block.arm != nullptr) {
        const ArmFunction arm = block.arm;
        block.arm = nullptr;
        block.arming.store(true, std::memory_order_relaxed);
        arm(block.arm_context, &state, locked::id_of(state, block));
    }
}

void release_cancelled(ExecutorState& state, void* owner) {
    if (owner != nullptr && state.hooks.release_cancelled != nullptr) {
        state.hooks.release_cancelled(state.hooks.release_cancelled_context, owner);
    }
}

void count_resumed(PollThread* thread, std::uint64_t count) {
    if (thread == nullptr) return;
    std::atomic<std::uint64_t>& resumed = thread->coroutines_resumed;
    resumed.store(resumed.load(std::memory_order_relaxed) + count, std::memory_order_relaxed);
}

bool must_yield_hart(ExecutorState& state) {
    return state.hooks.should_yield_hart != nullptr &&
           state.hooks.should_yield_hart(state.hooks.should_yield_context);
}

// Finish the coroutine that ran and fetch the next, under one lock acquisition: the yield fast path
// inline, the general path out of line.
[[gnu::noinline]] ControlBlock* finish_and_fetch_general_locked(ExecutorState& state, PollThread* thread,
                                                               ControlBlock& ran, void** cancelled) {
    *cancelled = locked::finish(state, thread, ran);
    return locked::fetch(state, thread).block;
}

[[gnu::always_inline]] inline ControlBlock* finish_and_fetch(ExecutorState& state, PollThread* thread,
                                                             ControlBlock& ran) {
    state.lock.lock();
    ControlBlock* next = locked::yield_fast(state, thread, ran);
    if (next != nullptr) [[likely]] {
        state.lock.unlock();
        return next;
    }
    void* cancelled;
    next = finish_and_fetch_general_locked(state, thread, ran, &cancelled);
    state.lock.unlock();
    release_cancelled(state, cancelled);
    return next;
}

} // namespace

PollOutcome poll_once(ExecutorState& state, PollThread* thread) {
    const FetchedCoroutine coroutine = executor_fetch(state, thread);
    if (!coroutine) return PollOutcome::NothingReady;
    run_one(state, *coroutine.block);
    count_resumed(thread, 1);
    release_cancelled(state, executor_finish(state, thread, coroutine));
    return must_yield_hart(state) ? PollOutcome::YieldHart : PollOutcome::Ran;
}

PollOutcome run_until_idle(ExecutorState& state, PollThread* thread, std::uint64_t* resumed) {
    std::uint64_t count = 0;
    ControlBlock* block = executor_fetch(state, thread).block;
    PollOutcome outcome = PollOutcome::NothingReady;
    while (block != nullptr) {
        run_one(state, *block);
        ++count;
        if (must_yield_hart(state)) {
            release_cancelled(state, executor_finish(state, thread, FetchedCoroutine{block, {}}));
            outcome = PollOutcome::YieldHart;
            break;
        }
        block = finish_and_fetch(state, thread, *block);
    }
    count_resumed(thread, count);
    if (resumed != nullptr) *resumed += count;
    return outcome;
}

PollOutcome run_poll_loop(ExecutorState& state, PollThread* thread) {
    for (;;) {
        if (run_until_idle(state, thread) == PollOutcome::YieldHart) return PollOutcome::YieldHart;
        executor_report_if_idle(state);
        if (state.hooks.idle == nullptr || !state.hooks.idle(state.hooks.idle_context)) {
            return PollOutcome::Stopped;
        }
    }
}

} // namespace vdso
