// Bottom halves (bottom_half.hpp): a raise flag, the waiting coroutine's ID, and the coroutine.
//
// No raise is lost. raise() sets raised_ and then takes waiting_id_; the coroutine, before it
// waits, stores waiting_id_ (the executor's arm step, still Running) and then looks at raised_ again.
// Both sides are sequentially consistent, so at least one sees the other: the raiser finds the ID
// and wakes it, or the arm step finds the flag and takes its own ID back (a wake during the arm step
// makes the coroutine Ready instead of Pending). Whoever takes the ID out of waiting_id_ (an atomic
// exchange) wakes it, so each wait is woken exactly once and a wake never reaches a later wait.
#include "kernel/sched/bottom_half.hpp"

#include "kernel/arch/riscv/csr.hpp"
#include "kernel/sched/scheduler.hpp"
#include "kernel/vdso/kernel_coroutine.hpp"

namespace kernel::proc {

namespace {
std::atomic<BottomHalf*> started_list{nullptr};
} // namespace

struct BottomHalf::Loop {
    // co_await WaitForRaise{half}: Pending until raise() wakes it (or at once when raised meanwhile).
    struct WaitForRaise {
        BottomHalf& half;
        bool await_ready() const noexcept { return false; }
        void await_suspend(std::coroutine_handle<vdso_binding::KernelCoroutine::promise_type> frame) const noexcept {
            vdso_binding::executor_functions().coroutine_record_suspension(frame.promise().self.block, frame.address(),
                                                                   COKERNEL_SUSPEND_WAIT, &BottomHalf::arm, &half);
        }
        void await_resume() const noexcept {}
    };

    static vdso_binding::KernelCoroutine run(BottomHalf& half) {
        for (;;) {
            if (!half.raised_.exchange(false)) {
                co_await WaitForRaise{half};
                continue;
            }
            // Every raise counted here set raised_ before the exchange above: this run covers it.
            half.raises_covered_.store(half.raises_.load(), std::memory_order_release);
            half.work_(half.context_);
            half.runs_.fetch_add(1, std::memory_order_relaxed);
        }
    }
};

void BottomHalf::arm(void* context, void*, uint64_t id) {
    BottomHalf& half = *static_cast<BottomHalf*>(context);
    half.waiting_id_.store(id);
    if (!half.raised_.load()) return;
    // A raise came since the coroutine looked: unless the raiser already took the ID (and wakes it),
    // wake it here (it is still Running in its arm step: it becomes Ready at once).
    if (uint64_t own = half.waiting_id_.exchange(0)) wake_kernel_coroutine(own);
}

void BottomHalf::raise() {
    raises_.fetch_add(1);
    if (raised_.exchange(true)) return;  // already raised: that raise's wake, or the next run, covers this one
    if (uint64_t id = waiting_id_.exchange(0)) {
        // The executor's lock is never held with interrupts on: a tick on this hart could raise too.
        bool interrupts_were_on = riscv::save_and_disable_interrupts();
        wake_kernel_coroutine(id);
        riscv::restore_interrupts(interrupts_were_on);
    }
}

Result<void> BottomHalf::start(uint32_t priority) {
    if (started_.exchange(true)) return Error::AlreadyExists;
    vdso_binding::KernelCoroutine coroutine = Loop::run(*this);
    if (!coroutine.handle) {
        started_.store(false);
        return Error::NoMemory;
    }
    auto& promise = coroutine.handle.promise();
    // The executor's lock is never held with interrupts on (an interrupt handler may wake).
    bool interrupts_were_on = riscv::save_and_disable_interrupts();
    bool spawned = spawn_kernel_work(coroutine.handle.address(), &promise, priority, &promise.self);
    riscv::restore_interrupts(interrupts_were_on);
    if (!spawned) {
        coroutine.handle.destroy();
        started_.store(false);
        return Error::NoMemory;
    }
    next_ = started_list.load();
    while (!started_list.compare_exchange_weak(next_, this)) {
    }
    return success();
}

const BottomHalf* bottom_halves() { return started_list.load(); }

} // namespace kernel::proc
