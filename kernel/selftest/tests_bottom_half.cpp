// Self-test of driver bottom halves (kernel/sched/bottom_half.hpp): a bottom half raised from the
// timer interrupt handler, on every hart and on this one, checked for: every raise followed by a run
// that started after it, never more runs than raises, the work never in interrupt context, a raise
// during a run making one more run, and prompt runs (before the raising hart's next tick) while that
// hart is otherwise idle and while it runs a user thread.
#include <atomic>

#include "kernel/arch/riscv/csr.hpp"
#include "kernel/arch/riscv/hart.hpp"
#include "kernel/arch/riscv/timer.hpp"
#include "kernel/proc/process.hpp"
#include "kernel/sched/bottom_half.hpp"
#include "kernel/sched/scheduler.hpp"
#include "kernel/selftest/selftest.hpp"

namespace kernel {

namespace {

struct Probe {
    std::atomic<uint64_t> runs_in_interrupt{0};   // must stay 0
    std::atomic<uint32_t> raise_inside{0};        // runs left that raise their own bottom half
    std::atomic<uint64_t> raised_inside{0};
    std::atomic<uint64_t> completed_covered{0};   // raises_covered() of the latest finished run
    // Promptness: the raising hart's tick count at the raise (0: none outstanding), and whether the
    // run started before that hart's next tick.
    std::atomic<uint64_t> tick_at_raise{0};
    std::atomic<uint64_t> prompt{0}, late{0};
    // The hook: off, raising on every hart's tick, or on one hart's only.
    std::atomic<bool> hook_on{false};
    std::atomic<bool> every_hart{false};
    std::atomic<uint32_t> hook_hart{0};
    std::atomic<uint64_t> hook_raises{0};
};

Probe probe;
void probe_work(void*);
proc::BottomHalf probe_half{"selftest", probe_work};

void probe_work(void*) {
    if (in_interrupt_handler()) probe.runs_in_interrupt.fetch_add(1);
    if (uint64_t at = probe.tick_at_raise.exchange(0)) {
        Hart* raiser = hart_by_index(probe.hook_hart.load());
        (raiser->timer_ticks.load() == at ? probe.prompt : probe.late).fetch_add(1);
    }
    uint32_t left = probe.raise_inside.load();
    if (left > 0) {
        probe.raise_inside.store(left - 1);
        probe.raised_inside.fetch_add(1);
        probe_half.raise();  // during the run: there must be another one
    }
    probe.completed_covered.store(probe_half.raises_covered());
}

void raising_tick_hook(uint64_t now) {
    proc::timer_tick(now);  // the kernel's own hook
    if (!probe.hook_on.load()) return;
    Hart* hart = current_hart();
    if (!probe.every_hart.load()) {
        if (hart->index != probe.hook_hart.load()) return;
        probe.tick_at_raise.store(hart->timer_ticks.load());
    }
    probe.hook_raises.fetch_add(1);
    probe_half.raise();
}

uint64_t deadline_in_milliseconds(uint64_t milliseconds) {
    return riscv::timer::now() + riscv::timer::frequency() * milliseconds / 1000;
}

// Schedules on this hart (idle in wait_for_kernel_work when nothing is ready) until `done` or the
// deadline; returns done().
template <typename Done>
bool schedule_until(uint64_t milliseconds, Done done) {
    uint64_t deadline = deadline_in_milliseconds(milliseconds);
    while (!done() && riscv::timer::now() < deadline)
        if (!proc::run_kernel_step()) proc::wait_for_kernel_work();
    return done();
}

// Every raise so far is covered by a finished run (bounded wait).
bool all_raises_run() {
    return schedule_until(2000, [] { return probe.completed_covered.load() >= probe_half.raises(); });
}

void set_hook(bool on, bool every_hart) {
    bool enabled = riscv::save_and_disable_interrupts();
    probe.every_hart.store(every_hart);
    probe.hook_hart.store(current_hart()->index);
    probe.tick_at_raise.store(0);
    probe.hook_on.store(on);
    riscv::restore_interrupts(enabled);
}

// `count` raises from this hart's tick; how many of their runs were prompt.
bool prompt_runs_from_this_hart(uint64_t count, const char* while_doing) {
    probe.prompt.store(0);
    probe.late.store(0);
    uint64_t first = probe.hook_raises.load();
    set_hook(true, false);
    bool raised = schedule_until(5000, [&] { return probe.hook_raises.load() - first >= count; });
    set_hook(false, false);
    SELFTEST_CHECK(raised);
    SELFTEST_CHECK(all_raises_run());
    uint64_t prompt = probe.prompt.load(), late = probe.late.load();
    println("    {}: {} runs before the raising hart's next tick, {} after", while_doing, prompt, late);
    // A run waiting for an unrelated interrupt would always be late; the host may delay a few.
    SELFTEST_CHECK(prompt + late > 0 && late * 4 <= prompt + late);
    return true;
}

} // namespace

bool selftest_bottom_half() {
    if (!probe_half.started()) {
        auto started = probe_half.start();
        SELFTEST_CHECK(started);
    }
    SELFTEST_CHECK(probe_half.start().error() == Error::AlreadyExists);
    riscv::timer::set_tick_hook(raising_tick_hook);

    // Raised from every hart's timer interrupt, a few of the runs raising once more themselves.
    probe.raise_inside.store(3);
    uint64_t first = probe.hook_raises.load();
    set_hook(true, true);
    bool raised = schedule_until(5000, [&] { return probe.hook_raises.load() - first >= 40; });
    set_hook(false, true);
    SELFTEST_CHECK(raised);
    SELFTEST_CHECK(all_raises_run());
    SELFTEST_CHECK(probe_half.runs() >= 1 && probe_half.runs() <= probe_half.raises());
    SELFTEST_CHECK(probe.raised_inside.load() == 3);
    println("    every hart: {} raises, {} runs", probe_half.raises(), probe_half.runs());

    // A raise during a run makes exactly one more run.
    SELFTEST_CHECK(schedule_until(100, [] { return probe.raise_inside.load() == 0; }));
    uint64_t runs_before = probe_half.runs();
    probe.raise_inside.store(1);
    probe_half.raise();
    SELFTEST_CHECK(all_raises_run());
    SELFTEST_CHECK(probe_half.runs() - runs_before == 2);

    // From this hart's tick while it is otherwise idle, then while it (or another hart) runs a user
    // thread that never enters the kernel by itself.
    SELFTEST_CHECK(prompt_runs_from_this_hart(20, "idle"));
    SELFTEST_CHECK(proc::init_archive());
    const char* arguments[] = {"bin/spin"};
    auto spinner = proc::spawn("bin/spin", arguments, 1);
    SELFTEST_CHECK(spinner);
    uint32_t pid = (*spinner)->pid;
    bool prompt_with_user = prompt_runs_from_this_hart(20, "user thread running");
    SELFTEST_CHECK(proc::kill(pid));
    auto status = proc::wait(pid);
    riscv::timer::set_tick_hook(proc::timer_tick);
    SELFTEST_CHECK(prompt_with_user);
    SELFTEST_CHECK(status && *status == proc::StatusKilled);

    SELFTEST_CHECK(probe.runs_in_interrupt.load() == 0);
    SELFTEST_CHECK(probe_half.runs() <= probe_half.raises());
    println("    total: {} raises, {} runs", probe_half.raises(), probe_half.runs());
    return true;
}

} // namespace kernel
