#include "vdso/poll_loop.hpp"

#include <coroutine>

#include "vdso/completion.hpp"
#include "vdso/executor_fast_path.hpp"
#include "vdso/executor_locked.hpp"

namespace vdso {

namespace {

// Resume one fetched coroutine and, if it waits, run its arm function while it is still Running.
// The arm function is taken out of the block before it runs (ControlBlock: arm is null except
// between the suspension that records it and this call).
[[gnu::always_inline]] inline void run_one(ExecutorState& state, ControlBlock& block, uint32_t index) {
    std::coroutine_handle<>::from_address(block.resume_address).resume();
    if (block.suspend_reason == SuspendReason::Wait && block.arm != nullptr) {
        const ArmFunction arm = block.arm;
        block.arm = nullptr;
        block.arming.store(true, std::memory_order_relaxed);
        arm(block.arm_context, &state, CoroutineId::make(index, block.generation));
    }
}

void release_cancelled(ExecutorState& state, void* owner) {
    if (owner != nullptr && state.hooks.release_cancelled != nullptr) {
        state.hooks.release_cancelled(state.hooks.release_cancelled_context, owner);
    }
}

void count_resumed(PollThread* thread, uint64_t count) {
    if (thread == nullptr) return;
    std::atomic<uint64_t>& resumed = thread->coroutines_resumed;
    resumed.store(resumed.load(std::memory_order_relaxed) + count, std::memory_order_relaxed);
}

bool must_yield_hart(ExecutorState& state) {
    return state.hooks.should_yield_hart != nullptr &&
           state.hooks.should_yield_hart(state.hooks.should_yield_context);
}

// The general path of finish + fetch, out of line. Called with state.lock held (run_until_idle
// took it for the fast path); releases it, then the owner of a cancelled coroutine.
[[gnu::noinline]] locked::Fetched finish_fetch_unlock(ExecutorState& state, PollThread* thread, ControlBlock& ran,
                                                      uint32_t index) {
    void* cancelled = locked::finish(state, thread, ran, index);
    const locked::Fetched next = locked::fetch(state, thread);
    state.lock.unlock();
    release_cancelled(state, cancelled);
    return next;
}

} // namespace

// Fetch, run, finish: two critical sections (the kernel runs one coroutine per step).
PollOutcome poll_once(ExecutorState& state, PollThread* thread) {
    if (locked::nothing_ready(state, thread)) {  // lock-free peek
        (void)flush_submissions(state);           // batched calls go to the kernel before it idles
        return PollOutcome::NothingReady;
    }
    state.lock.lock();
    const locked::Fetched fetched = locked::fetch(state, thread);
    state.lock.unlock();
    if (fetched.block == nullptr) {
        (void)flush_submissions(state);
        return PollOutcome::NothingReady;
    }
    run_one(state, *fetched.block, fetched.index);
    count_resumed(thread, 1);
    state.lock.lock();
    void* cancelled = locked::finish(state, thread, *fetched.block, fetched.index);
    state.lock.unlock();
    release_cancelled(state, cancelled);
    return must_yield_hart(state) ? PollOutcome::YieldHart : PollOutcome::Ran;
}

// One lock acquisition per coroutine: finishing the one that ran and fetching the next are one
// critical section, the yield fast path inline (executor_fast_path.hpp), the general path out of line.
namespace {

struct LoopResult {
    uint64_t resumed;
    PollOutcome outcome;
};

// run_until_idle's loop. One lock acquisition per coroutine: finishing the one that ran and fetching
// the next are one critical section, the yield fast path inline (executor_fast_path.hpp), the general
// path out of line.
[[gnu::noinline]] LoopResult run_loop(ExecutorState& state, PollThread* thread) {
    const PollThread no_thread; // stands for a null thread in the fast path's check: no bound queue
    const PollThread& bound_source = thread != nullptr ? *thread : no_thread;
    locked::Fetched next;
    if (!locked::nothing_ready(state, thread)) {
        state.lock.lock();
        next = locked::fetch(state, thread);
        state.lock.unlock();
    }
    ControlBlock* block = next.block;
    uint32_t index = next.index;
    uint64_t count = 0;
    while (block != nullptr) {
        run_one(state, *block, index);
        ++count;
        if (must_yield_hart(state)) {
            state.lock.lock();
            void* cancelled = locked::finish(state, thread, *block, index);
            state.lock.unlock();
            release_cancelled(state, cancelled);
            return {count, PollOutcome::YieldHart};
        }
        state.lock.lock();
        if (ControlBlock* fast = locked::yield_fast(state, state.blocks, bound_source, *block, index)) [[likely]] {
            state.lock.unlock();
            block = fast;
            continue;
        }
        next = finish_fetch_unlock(state, thread, *block, index);
        block = next.block;
        index = next.index;
    }
    return {count, PollOutcome::NothingReady};
}

} // namespace

// Out of coroutines, or leaving the hart: the calls armed meanwhile go to the kernel in one batch
// (completion.hpp; the arm step of the last call of a round has usually done it already). What that
// woke (calls that ended in it, refusals, completions drained after it) runs next. Outside run_loop,
// whose code stays that of the yield fast path.
PollOutcome run_until_idle(ExecutorState& state, PollThread* thread, uint64_t* resumed) {
    LoopResult result = run_loop(state, thread);
    uint64_t total = result.resumed;
    while (result.outcome == PollOutcome::NothingReady && flush_submissions(state)) [[unlikely]] {
        result = run_loop(state, thread);
        total += result.resumed;
    }
    if (result.outcome == PollOutcome::YieldHart) (void)flush_submissions(state);
    count_resumed(thread, total);
    if (resumed != nullptr) *resumed += total;
    return result.outcome;
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
