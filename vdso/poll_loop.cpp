#include "vdso/poll_loop.hpp"

#include <coroutine>

namespace vdso {

namespace {

// Resume one fetched coroutine and, if it waits, run its arm function while it is still Running.
[[gnu::always_inline]] inline void run_one(ExecutorState& state, FetchedCoroutine coroutine) {
    std::coroutine_handle<>::from_address(coroutine.block->resume_address).resume();
    ControlBlock& block = *coroutine.block;
    if (block.suspend_reason == SuspendReason::Wait && block.arm != nullptr) {
        block.arming.store(true, std::memory_order_relaxed);
        block.arm(block.arm_context, &state, coroutine.id);
    }
}

void release_cancelled(ExecutorState& state, void* owner) {
    if (owner != nullptr && state.hooks.release_cancelled != nullptr) {
        state.hooks.release_cancelled(state.hooks.release_cancelled_context, owner);
    }
}

bool must_yield_hart(ExecutorState& state) {
    return state.hooks.should_yield_hart != nullptr &&
           state.hooks.should_yield_hart(state.hooks.should_yield_context);
}

} // namespace

PollOutcome poll_once(ExecutorState& state, PollThread* thread) {
    const FetchedCoroutine coroutine = executor_fetch(state, thread);
    if (!coroutine) return PollOutcome::NothingReady;
    run_one(state, coroutine);
    release_cancelled(state, executor_finish(state, thread, coroutine));
    return must_yield_hart(state) ? PollOutcome::YieldHart : PollOutcome::Ran;
}

PollOutcome run_until_idle(ExecutorState& state, PollThread* thread, std::uint64_t* resumed) {
    std::uint64_t count = 0;
    FetchedCoroutine coroutine = executor_fetch(state, thread);
    PollOutcome outcome = PollOutcome::NothingReady;
    while (coroutine) {
        run_one(state, coroutine);
        ++count;
        if (must_yield_hart(state)) {
            release_cancelled(state, executor_finish(state, thread, coroutine));
            outcome = PollOutcome::YieldHart;
            break;
        }
        void* cancelled = nullptr;
        coroutine = executor_finish_and_fetch(state, thread, coroutine, &cancelled);
        release_cancelled(state, cancelled);
    }
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
