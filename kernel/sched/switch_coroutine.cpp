// The switch coroutines: user space inside the switch executor (paper §3.3).
//
// Every hart runs the poll loop of the switch executor (which is the vDSO's code). One switch
// coroutine per hart lives in that executor at SwitchPriority: when resumed it runs one user thread
// (run_once: the highest-priority process's next thread) until the thread gives the hart back, then
// yields, so that kernel coroutines of higher priority run between user time slices. When no thread
// is runnable it waits (Pending, costing nothing) and the hart's loop wakes it once threads are
// runnable again.
//
// Interrupts: the loop calls into the executors only with interrupts off (an interrupt handler may
// wake a coroutine of the work executor, so no executor's lock is ever held with interrupts
// on), and opens a window after every coroutine so that pending interrupts are taken.
#include <atomic>

#include "kernel/arch/riscv/csr.hpp"
#include "kernel/arch/riscv/hart.hpp"
#include "kernel/console/log.hpp"
#include "kernel/lib/counters.hpp"
#include "kernel/sched/kernel_work.hpp"
#include "kernel/sched/scheduler.hpp"
#include "kernel/vdso/binding.hpp"
#include "kernel/vdso/kernel_coroutine.hpp"
#include "vdso/executor.hpp"

namespace kernel::proc {

const ::vdso::ExecutorState* work_state = nullptr;

namespace {

// The work executor (set once, at boot): kernel coroutines that finish asynchronous calls, bottom halves,
// apart from the switch executor so that a thread can run them on its way back to user mode without
// ever fetching a switch coroutine. Every hart's loop polls it first.
void* work_executor = nullptr;

// Kernel coroutines above this priority run before user threads (0 is the highest).
constexpr uint32_t SwitchPriority = 32;

// The ID of each waiting switch coroutine (0: running or ready). Written by the executor's arm
// (atomic store), taken by wake_switch_coroutines (atomic exchange): each wait is woken once.
uint64_t waiting_switch[fdt::MaxHarts];
size_t switch_count = 0;
uint64_t threads_run_by_switch = 0;  // time slices given by switch coroutines (atomic adds)

vdso_binding::KernelCoroutine switch_coroutine(size_t index) {
    for (;;) {
        if (run_once()) {
            __atomic_fetch_add(&threads_run_by_switch, 1, __ATOMIC_RELAXED);
            co_await vdso_binding::YieldToExecutor{};
            continue;
        }
        co_await vdso_binding::WaitForWake{&waiting_switch[index]};
    }
}

void wake_switch_coroutines() {
    for (size_t i = 0; i < switch_count; ++i) {
        uint64_t id = __atomic_exchange_n(&waiting_switch[i], 0, __ATOMIC_ACQUIRE);
        if (id) vdso_binding::executor_functions().executor_wake(vdso_binding::switch_executor(), id);
    }
}

} // namespace

void start_switch_coroutines() {
    auto calls = vdso_binding::create_executor(WorkExecutorCapacity);
    if (!calls) panic("no memory for the work executor");
    work_executor = calls->state;
    work_state = static_cast<const ::vdso::ExecutorState*>(work_executor);
    for (size_t i = 0; i < hart_count(); ++i) {
        if (!vdso_binding::spawn(vdso_binding::switch_executor(), switch_coroutine(i), SwitchPriority))
            panic("cannot spawn switch coroutine {}: switch executor or heap exhausted", i);
        ++switch_count;
    }
}

namespace {
// Harts waiting for interrupts in run_scheduler, a bit per Hart::index.
std::atomic<uint64_t> idle_harts{0};
static_assert(fdt::MaxHarts <= 64);
} // namespace

void wake_idle_hart() {
    uint64_t idle = idle_harts.load();
    if (!idle) return;
    Hart* hart = hart_by_index(static_cast<size_t>(__builtin_ctzll(idle)));
    if (hart && hart != current_hart()) send_ipi(*hart, IpiReason::Schedule);
}

bool spawn_kernel_work(void* resume_address, void* owner, uint32_t priority, cokernel_coroutine_ref* publish) {
    if (vdso_binding::executor_functions().executor_spawn(work_executor, resume_address, owner, priority, publish, nullptr) != 0)
        return false;
    wake_idle_hart();
    return true;
}

void wake_kernel_coroutine(uint64_t id) {
    if (vdso_binding::executor_functions().executor_wake(work_executor, id) == COKERNEL_WAKE_WOKEN) wake_idle_hart();
}

bool kernel_work_pending() { return kernel_work_ready(); }

bool run_kernel_calls(size_t limit) {
    for (size_t i = 0; i < limit; ++i) {
        if (vdso_binding::executor_functions().poll_once(work_executor, nullptr) == COKERNEL_POLL_NOTHING_READY) return true;
        counters::count(counters::KernelCallsOnReturn);
    }
    return !kernel_work_pending();
}

uint64_t switch_coroutine_runs() { return __atomic_load_n(&threads_run_by_switch, __ATOMIC_RELAXED); }

bool run_kernel_step() {
    bool interrupts_were_on = riscv::save_and_disable_interrupts();
    int outcome = kernel_work_pending() ? vdso_binding::executor_functions().poll_once(work_executor, nullptr)
                                        : COKERNEL_POLL_NOTHING_READY;
    if (outcome != COKERNEL_POLL_NOTHING_READY) counters::count(counters::KernelCallsByScheduler);
    if (outcome == COKERNEL_POLL_NOTHING_READY) outcome = vdso_binding::executor_functions().poll_once(vdso_binding::switch_executor(), nullptr);
    if (outcome == COKERNEL_POLL_NOTHING_READY && threads_waiting()) {
        wake_switch_coroutines();
        outcome = vdso_binding::executor_functions().poll_once(vdso_binding::switch_executor(), nullptr);
    }
    riscv::restore_interrupts(interrupts_were_on);
    return outcome != COKERNEL_POLL_NOTHING_READY;
}

void wait_for_kernel_work() {
    // Whoever makes work ready afterwards reads idle_harts (after making it ready) and sends this
    // hart an IPI; work made ready before the bit was set, by another hart or by an interrupt handler
    // of this one, is seen by the check below (both sides sequentially consistent). wfi returns when
    // an interrupt enabled in sie is pending, even with SIE off: nothing that arrives from here on is
    // missed.
    bool interrupts_were_on = riscv::save_and_disable_interrupts();
    uint64_t bit = uint64_t{1} << current_hart()->index;
    idle_harts.fetch_or(bit);
    if (!threads_waiting() && !kernel_work_pending() &&
        vdso_binding::executor_functions().executor_highest_ready(vdso_binding::switch_executor()) == COKERNEL_NO_PRIORITY) {
        counters::count(counters::IdleWaits);
        const uint64_t before = riscv::read_instret();
        riscv::wait_for_interrupt();
        counters::count(counters::IdleInstret, riscv::read_instret() - before);
    }
    idle_harts.fetch_and(~bit);
    riscv::restore_interrupts(interrupts_were_on);  // takes what is pending
}

void run_scheduler() {
    riscv::disable_interrupts();
    for (;;) {
        if (!run_kernel_step()) wait_for_kernel_work();
        riscv::enable_interrupts();  // take what is pending
        riscv::disable_interrupts();
    }
}

} // namespace kernel::proc
