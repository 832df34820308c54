// Self-test of user-space interrupts (docs/user-interrupts.md): bin/uintrtest's cases from user mode,
// and raise_user_interrupt called from kernel contexts that have no thread of the receiver: this
// self-test's own (no current thread), a kernel coroutine in the switch executor, and a timer
// interrupt handler.
#include "kernel/arch/riscv/csr.hpp"
#include "kernel/arch/riscv/hart.hpp"
#include "kernel/arch/riscv/timer.hpp"
#include "kernel/mm/memory.hpp"
#include "kernel/proc/process.hpp"
#include "kernel/sched/scheduler.hpp"
#include "kernel/selftest/selftest.hpp"
#include "kernel/uintr/user_interrupt.hpp"
#include "kernel/vdso/kernel_coroutine.hpp"

namespace kernel {

namespace {

bool case_exits_with(const char* name, const char* argument, int expected) {
    const char* arguments[] = {"bin/uintrtest", name, argument};
    auto status = proc::run_program("bin/uintrtest", arguments, argument ? 3 : 2);
    if (!status) {
        println("    uintrtest {}: {}", name, error_name(status.error()));
        return false;
    }
    if (*status != expected) println("    uintrtest {}: exit status {}, expected {}", name, *status, expected);
    return *status == expected;
}

uint64_t total_kicks() {
    uint64_t kicks = 0;
    for (size_t i = 0; i < hart_count(); ++i) kicks += hart_by_index(i)->kicks_received.load();
    return kicks;
}

// Runs the hart's scheduling until `done` holds for the process `pid` or it has exited.
template <typename Done>
void schedule_until(uint32_t pid, Done done) {
    for (;;) {
        auto process = proc::find_process(pid);
        if (!process || process->state == proc::ProcessState::Exited || done(*process)) return;
        if (!proc::run_kernel_step()) proc::wait_for_kernel_work();
    }
}

// The kernel case of bin/uintrtest waits for one interrupt; this raises it from here, where no thread
// is current (as a kernel coroutine would), as soon as the process has a receiver.
bool raise_from_kernel_context() {
    const char* arguments[] = {"bin/uintrtest", "kernel"};
    auto process = proc::spawn("bin/uintrtest", arguments, 2);
    SELFTEST_CHECK(process);
    uint32_t pid = (*process)->pid;
    bool raised = false;
    schedule_until(pid, [&](proc::Process& target) { return raised = proc::raise_user_interrupt(target); });
    SELFTEST_CHECK(raised);
    auto status = proc::wait(pid);
    SELFTEST_CHECK(status && *status == 0);
    return true;
}

// The same from a kernel coroutine in the switch executor, as the asynchronous system calls will do:
// it runs in some hart's poll loop, on that hart's scheduler stack, beside the switch coroutines (at
// their priority, so that on one hart it takes turns with the user thread). It keeps yielding until
// the process has a receiver (raised) or has exited; this test reaps the process only after that.
struct CoroutineRaise {
    uint32_t pid;
    uint32_t finished;  // 1 once the coroutine is done with the process (atomic)
    bool raised;
};

vdso_binding::KernelCoroutine raising_coroutine(CoroutineRaise& work) {
    for (;;) {
        auto process = proc::find_process(work.pid);
        if (!process || process->state == proc::ProcessState::Exited) break;
        if (proc::raise_user_interrupt(*process)) {
            work.raised = true;
            break;
        }
        co_await vdso_binding::YieldToExecutor{};
    }
    __atomic_store_n(&work.finished, 1, __ATOMIC_RELEASE);
}

bool raise_from_kernel_coroutine() {
    const char* arguments[] = {"bin/uintrtest", "kernel"};
    auto process = proc::spawn("bin/uintrtest", arguments, 2);
    SELFTEST_CHECK(process);
    CoroutineRaise work{(*process)->pid, 0, false};
    constexpr uint32_t SwitchCoroutinePriority = 32;  // kernel/sched/switch_coroutine.cpp
    bool enabled = riscv::save_and_disable_interrupts();  // the executor is called with interrupts off
    bool spawned = vdso_binding::spawn(vdso_binding::switch_executor(), raising_coroutine(work), SwitchCoroutinePriority);
    riscv::restore_interrupts(enabled);
    SELFTEST_CHECK(spawned);
    while (!__atomic_load_n(&work.finished, __ATOMIC_ACQUIRE))
        if (!proc::run_kernel_step()) proc::wait_for_kernel_work();
    SELFTEST_CHECK(work.raised);
    auto status = proc::wait(work.pid);
    SELFTEST_CHECK(status && *status == 0);
    return true;
}

// The same from the timer interrupt handler of this hart (hart 0 runs the self-tests): the tick hook
// raises once for `hooked_pid`. The hook runs only on this hart, never at the same time as this code,
// so clearing the pid here ends its use of the process before the process is reaped.
uint32_t hooked_pid = 0;
bool raised_by_hook = false;

void raising_tick_hook(uint64_t now) {
    proc::timer_tick(now);  // the kernel's own hook: sleepers go on being woken
    if (current_hart()->index != 0 || hooked_pid == 0) return;
    if (auto process = proc::find_process(hooked_pid); process && proc::raise_user_interrupt(*process)) {
        raised_by_hook = true;
        hooked_pid = 0;
    }
}

bool raise_from_interrupt_handler() {
    const char* arguments[] = {"bin/uintrtest", "kernel"};
    auto process = proc::spawn("bin/uintrtest", arguments, 2);
    SELFTEST_CHECK(process);
    uint32_t pid = (*process)->pid;
    raised_by_hook = false;
    bool enabled = riscv::save_and_disable_interrupts();
    hooked_pid = pid;
    riscv::timer::set_tick_hook(raising_tick_hook);
    riscv::restore_interrupts(enabled);
    auto status = proc::wait(pid);
    enabled = riscv::save_and_disable_interrupts();
    hooked_pid = 0;
    riscv::timer::set_tick_hook(proc::timer_tick);
    riscv::restore_interrupts(enabled);
    SELFTEST_CHECK(raised_by_hook);
    SELFTEST_CHECK(status && *status == 0);
    return true;
}

// A process without a handler is no receiver: nothing is raised. (Not bin/spin: its runtime installs
// the completion handler, so it becomes a receiver as soon as it runs.)
bool no_receiver() {
    const char* arguments[] = {"bin/uintrtest", "no-handler"};
    auto process = proc::spawn("bin/uintrtest", arguments, 2);
    SELFTEST_CHECK(process);
    uint32_t pid = (*process)->pid;
    SELFTEST_CHECK(!proc::raise_user_interrupt(**process));
    SELFTEST_CHECK(proc::kill(pid));
    auto status = proc::wait(pid);
    SELFTEST_CHECK(status && *status == proc::StatusKilled);
    return true;
}

} // namespace

bool selftest_user_interrupts() {
    SELFTEST_CHECK(proc::init_archive());
    println("    delivery: {}", proc::user_interrupt_mode());
    SELFTEST_CHECK(case_exits_with("self", nullptr, 0));  // warm-up: heap slabs for records stay cached
    size_t free_before = mm::frames().free_frames();
    uint64_t kicks_before = total_kicks();
    char harts[24];
    auto written = fmt::format_to_n(harts, sizeof(harts) - 1, "{}", hart_count());
    harts[written.size] = '\0';

    SELFTEST_CHECK(case_exits_with("self", nullptr, 0));
    SELFTEST_CHECK(case_exits_with("mask", nullptr, 0));
    SELFTEST_CHECK(case_exits_with("nested", nullptr, 0));
    SELFTEST_CHECK(case_exits_with("spinner", harts, 0));
    SELFTEST_CHECK(case_exits_with("futex", nullptr, 0));
    SELFTEST_CHECK(case_exits_with("nanosleep", nullptr, 0));
    SELFTEST_CHECK(case_exits_with("runnable", harts, 0));
    SELFTEST_CHECK(case_exits_with("clone", nullptr, 0));
    SELFTEST_CHECK(case_exits_with("exec", nullptr, 0));
    SELFTEST_CHECK(case_exits_with("errors", nullptr, 0));
    // Other CSRs and a uret-like encoding that is not uret are still illegal instructions.
    SELFTEST_CHECK(case_exits_with("bad-csr", nullptr, proc::StatusIllegalInstruction));
    SELFTEST_CHECK(case_exits_with("bad-uret", nullptr, proc::StatusIllegalInstruction));
    SELFTEST_CHECK(raise_from_kernel_context());
    SELFTEST_CHECK(raise_from_kernel_coroutine());
    SELFTEST_CHECK(raise_from_interrupt_handler());
    SELFTEST_CHECK(no_receiver());

    println("    {} kick IPIs taken", total_kicks() - kicks_before);
    size_t free_after = mm::frames().free_frames();
    println("    free frames before {} after {}", free_before, free_after);
    SELFTEST_CHECK(free_after == free_before);
    return true;
}

} // namespace kernel
