// Self-tests of user mode: programs from the initial archive run as processes, system calls check
// their arguments, faults end only the faulting process, the timer preempts, nothing leaks.
#include <string_view>

#include "kernel/arch/riscv/csr.hpp"
#include "kernel/arch/riscv/hart.hpp"
#include "kernel/arch/riscv/timer.hpp"
#include "kernel/file/pipe.hpp"
#include "kernel/mm/memory.hpp"
#include "kernel/proc/process.hpp"
#include "kernel/sched/scheduler.hpp"
#include "kernel/selftest/selftest.hpp"

namespace kernel {

namespace {

Result<int> run(const char* path, const char* argument = nullptr) {
    const char* arguments[] = {path, argument};
    return proc::run_program(path, arguments, argument ? 2 : 1);
}

bool exits_with(const char* path, const char* argument, int expected) {
    auto status = run(path, argument);
    if (!status) {
        println("    {} {}: {}", path, argument ? argument : "", error_name(status.error()));
        return false;
    }
    if (*status != expected) println("    {} {}: exit status {}, expected {}", path, argument ? argument : "", *status, expected);
    return *status == expected;
}

bool fails_with(const char* path, Error expected) {
    const char* arguments[] = {path};
    auto process = proc::spawn(path, arguments, 1);
    if (process) {
        println("    {}: spawned, expected {}", path, error_name(expected));
        return false;
    }
    if (process.error() != expected)
        println("    {}: {}, expected {}", path, error_name(process.error()), error_name(expected));
    return process.error() == expected;
}

} // namespace

bool selftest_user_programs() {
    SELFTEST_CHECK(proc::init_archive());
    SELFTEST_CHECK(exits_with("bin/hello", "warm-up", 0));  // heap slabs for process records stay cached
    size_t free_before = mm::frames().free_frames();
    uint64_t slices_before = proc::switch_coroutine_runs();

    SELFTEST_CHECK(exits_with("bin/hello", "one", 0));
    SELFTEST_CHECK(exits_with("/bin/hello", nullptr, 0));
    SELFTEST_CHECK(exits_with("bin/badptr", nullptr, 0));
    SELFTEST_CHECK(exits_with("bin/family", nullptr, 0));
    SELFTEST_CHECK(exits_with("bin/threads", nullptr, 0));
    SELFTEST_CHECK(exits_with("bin/threads", "fault", proc::StatusSegmentationFault));
    SELFTEST_CHECK(exits_with("bin/coroutines", nullptr, 0));
    SELFTEST_CHECK(exits_with("bin/vdsobind", nullptr, 0));
    SELFTEST_CHECK(exits_with("bin/fault", "store", proc::StatusSegmentationFault));
    SELFTEST_CHECK(exits_with("bin/fault", "load", proc::StatusSegmentationFault));
    SELFTEST_CHECK(exits_with("bin/fault", "exec", proc::StatusSegmentationFault));
    SELFTEST_CHECK(exits_with("bin/fault", "kernel", proc::StatusSegmentationFault));
    SELFTEST_CHECK(exits_with("bin/fault", "illegal", proc::StatusIllegalInstruction));
    SELFTEST_CHECK(exits_with("bin/memtest", nullptr, 0));
    SELFTEST_CHECK(exits_with("bin/memfault", nullptr, proc::StatusSegmentationFault));
    SELFTEST_CHECK(exits_with("bin/pipetest", nullptr, 0));
    SELFTEST_CHECK(exits_with("bin/exectest", nullptr, 0));  // ends as bin/hello
    SELFTEST_CHECK(proc::pipe_count() == 0);                  // every pipe freed with its last end
    SELFTEST_CHECK(fails_with("bin/not-elf", Error::Malformed));
    SELFTEST_CHECK(fails_with("bin/truncated-elf", Error::Malformed));
    SELFTEST_CHECK(fails_with("bin/no-such-program", Error::NotFound));

    // Every time slice went through a switch coroutine of the switch executor.
    println("    {} time slices given by switch coroutines", proc::switch_coroutine_runs() - slices_before);
    SELFTEST_CHECK(proc::switch_coroutine_runs() > slices_before + 10);
    size_t free_after = mm::frames().free_frames();
    println("    free frames before {} after {}", free_before, free_after);
    SELFTEST_CHECK(free_after == free_before);
    return true;
}

bool selftest_preemption() {
    SELFTEST_CHECK(proc::init_archive());
    // One spinner more than there are harts: every hart is busy with a program that never makes a
    // system call. hello can only run if the timer takes a hart away from a spinner.
    uint32_t spinners[fdt::MaxHarts + 1];
    size_t count = hart_count() + 1;
    for (size_t i = 0; i < count; ++i) {
        const char* arguments[] = {"bin/spin"};
        auto process = proc::spawn("bin/spin", arguments, 1);
        SELFTEST_CHECK(process);
        spinners[i] = (*process)->pid;
    }
    SELFTEST_CHECK(exits_with("bin/hello", "preempted", 0));
    for (size_t i = 0; i < count; ++i) SELFTEST_CHECK(proc::kill(spinners[i]));
    for (size_t i = 0; i < count; ++i) {
        auto status = proc::wait(spinners[i]);
        SELFTEST_CHECK(status && *status == proc::StatusKilled);
    }
    return true;
}

namespace {

// Runs `kernel steps` on this hart for `milliseconds`.
void keep_scheduling(uint64_t milliseconds) {
    uint64_t deadline = riscv::timer::now() + riscv::timer::frequency() * milliseconds / 1000;
    while (riscv::timer::now() < deadline)
        if (!proc::run_kernel_step()) proc::wait_for_kernel_work();
}

// Paper §3.3.2: a thread running coroutines gives its hart away when another process has something
// of higher priority ready. bin/yielder runs coroutines at priority 30 and raises a spinning child to
// priority 2 while it runs: its poll loop must see the child in the global priority table and yield
// the hart (it exits 0 only if it did, once this test has ended the child).
bool coroutine_thread_yields_its_hart() {
    // Every hart but one runs a spinner more urgent than anything below: the yielder gets the last
    // hart, and its child cannot take a free one (a running process is not a ready one).
    uint32_t blockers[fdt::MaxHarts];
    size_t blocker_count = hart_count() - 1;
    for (size_t i = 0; i < blocker_count; ++i) {
        const char* spin[] = {"bin/spin"};
        auto process = proc::spawn("bin/spin", spin, 1);
        SELFTEST_CHECK(process);
        proc::set_process_priority(**process, 1, 0);
        blockers[i] = (*process)->pid;
    }
    const char* arguments[] = {"bin/yielder"};
    auto yielder = proc::spawn("bin/yielder", arguments, 1);
    SELFTEST_CHECK(yielder);
    uint32_t yielder_pid = (*yielder)->pid;
    keep_scheduling(300);
    // The child: the spin process that is not one of the blockers (the yielder may already have
    // ended, leaving it to the kernel).
    struct Search {
        const uint32_t* blockers;
        size_t blocker_count;
        uint32_t child = 0;
    } search{blockers, blocker_count};
    proc::for_each_process(
        [](const proc::Process& process, void* context) {
            auto& wanted = *static_cast<Search*>(context);
            if (std::string_view(process.name) != "spin" || process.state != proc::ProcessState::Alive) return;
            for (size_t i = 0; i < wanted.blocker_count; ++i)
                if (wanted.blockers[i] == process.pid) return;
            wanted.child = process.pid;
        },
        &search);
    SELFTEST_CHECK(search.child != 0);
    SELFTEST_CHECK(proc::kill(search.child));
    // If the yielder has ended, the child is an orphan the kernel reaps itself as it exits.
    auto child_status = proc::wait(search.child);
    SELFTEST_CHECK(child_status || child_status.error() == Error::NotFound);
    auto status = proc::wait(yielder_pid);
    if (status && *status != 0) println("    bin/yielder exited with {}", *status);
    SELFTEST_CHECK(status && *status == 0);
    for (size_t i = 0; i < blocker_count; ++i) SELFTEST_CHECK(proc::kill(blockers[i]));
    for (size_t i = 0; i < blocker_count; ++i) SELFTEST_CHECK(proc::wait(blockers[i]));
    return true;
}

} // namespace

bool selftest_priorities() {
    SELFTEST_CHECK(proc::init_archive());
    // Every hart busy with a high-priority spinner: a low-priority program must not run at all, even
    // though every spinner is preempted every tick. Once the spinners end, it runs to completion.
    uint32_t spinners[fdt::MaxHarts];
    size_t count = hart_count();
    proc::SpawnOptions high;
    high.priority = 2;
    for (size_t i = 0; i < count; ++i) {
        const char* arguments[] = {"bin/spin"};
        auto process = proc::spawn("bin/spin", arguments, 1, high);
        SELFTEST_CHECK(process);
        spinners[i] = (*process)->pid;
    }
    // Every process sees the kernel's global priority table, read-only, at the same frames.
    auto spinner = proc::find_process(spinners[0]);
    SELFTEST_CHECK(spinner);
    auto view = spinner->address_space.page_table().translate(proc::UserPriorityTableAddress);
    SELFTEST_CHECK(view);
    SELFTEST_CHECK(view->physical == proc::priority_table_physical());
    SELFTEST_CHECK((view->flags & mm::pte::User) && (view->flags & mm::pte::Read) && !(view->flags & mm::pte::Write));

    proc::SpawnOptions low;
    low.priority = 40;
    const char* arguments[] = {"bin/hello", "low-priority"};
    auto waiting = proc::spawn("bin/hello", arguments, 2, low);
    SELFTEST_CHECK(waiting);
    uint32_t low_pid = (*waiting)->pid;
    // 300 ms (30 ticks per hart) during which this hart also schedules.
    uint64_t deadline = riscv::timer::now() + riscv::timer::frequency() * 3 / 10;
    while (riscv::timer::now() < deadline)
        if (!proc::run_kernel_step()) proc::wait_for_kernel_work();
    auto low_process = proc::find_process(low_pid);
    SELFTEST_CHECK(low_process && low_process->state == proc::ProcessState::Alive);
    SELFTEST_CHECK(low_process->live_threads.load() == 1);
    println("    low-priority process {} did not run while {} high-priority spinners were ready", low_pid, count);
    for (size_t i = 0; i < count; ++i) SELFTEST_CHECK(proc::kill(spinners[i]));
    for (size_t i = 0; i < count; ++i) SELFTEST_CHECK(proc::wait(spinners[i]));
    auto status = proc::wait(low_pid);
    SELFTEST_CHECK(status && *status == 0);
    return coroutine_thread_yields_its_hart();
}

// Asynchronous system calls (bin/asynctest checks the results from user space), then a process that
// exits with calls in flight: they finish in the kernel, and nothing is left behind.
bool selftest_async_calls() {
    SELFTEST_CHECK(proc::init_archive());
    SELFTEST_CHECK(exits_with("bin/hello", "warm-up", 0));
    // Thousands of calls in flight in three processes, each completed exactly once (before the count
    // of free frames: the kernel heap may keep what it grew by for them).
    SELFTEST_CHECK(exits_with("bin/asyncstress", nullptr, 0));
    // Completions posted while the only poll thread computes, many during its handler's drain.
    SELFTEST_CHECK(exits_with("bin/asyncstress", "upcall", 0));
    size_t free_before = mm::frames().free_frames();
    SELFTEST_CHECK(exits_with("bin/asynctest", nullptr, 0));
    SELFTEST_CHECK(exits_with("bin/asynctest", "exit-in-flight", 0));
    SELFTEST_CHECK(proc::pipe_count() == 0);
    size_t free_after = mm::frames().free_frames();
    println("    free frames before {} after {}", free_before, free_after);
    SELFTEST_CHECK(free_after == free_before);
    return true;
}

} // namespace kernel
