// Self-test `fp`: floating-point state per thread and per process (kernel/sched/fp_state.hpp).
// With an FPU for user programs: bin/fptest's threads, alone and as three processes at once, find
// every f register and their rounding mode as they left them after each round of spinning and
// yielding; a fresh program and one just exec'ed start with zeros and fcsr 0. Without (harts lacking
// F/D, or boot argument nofpu): a program's first F/D instruction ends it with SIGILL and the message.
#include "kernel/proc/process.hpp"
#include "kernel/sched/fp_state.hpp"
#include "kernel/selftest/selftest.hpp"

namespace kernel {

namespace {

Result<int> run(const char* path, const char* argument) {
    const char* arguments[] = {path, argument};
    return proc::run_program(path, arguments, argument ? 2 : 1);
}

bool exits_with(const char* argument, int expected) {
    auto status = run("bin/fptest", argument);
    if (!status || *status != expected)
        println("    bin/fptest {}: {}, expected exit status {}", argument ? argument : "",
                status ? *status : -1, expected);
    return status && *status == expected;
}

} // namespace

bool selftest_fp() {
    SELFTEST_CHECK(proc::init_archive());
    if (!proc::fp_available()) {
        println("    no FPU for user programs: F/D instructions end the program");
        SELFTEST_CHECK(exits_with("clean", proc::StatusIllegalInstruction));
        SELFTEST_CHECK(exits_with(nullptr, proc::StatusIllegalInstruction));
        return true;
    }
    proc::FpCounters before = proc::fp_counters();
    SELFTEST_CHECK(exits_with("clean", 0));
    SELFTEST_CHECK(exits_with(nullptr, 0));
    SELFTEST_CHECK(exits_with("exec", 0));
    // Three processes of three threads each, at once: more threads than harts, all dirtying the unit.
    uint32_t pids[3];
    for (uint32_t& pid : pids) {
        const char* arguments[] = {"bin/fptest", "3"};
        auto process = proc::spawn("bin/fptest", arguments, 2);
        SELFTEST_CHECK(process);
        pid = (*process)->pid;
    }
    for (uint32_t pid : pids) {
        auto status = proc::wait(pid);
        if (!status || *status != 0) println("    bin/fptest 3 (pid {}): exit status {}", pid, status ? *status : -1);
        SELFTEST_CHECK(status && *status == 0);
    }
    proc::FpCounters after = proc::fp_counters();
    println("    FP state: {} first uses, {} saves, {} loads", after.first_uses - before.first_uses,
            after.saves - before.saves, after.loads - before.loads);
    // clean, the 4-thread run, exec (before and after), three processes: one first use per program;
    // the threads a program starts inherit its state (FS Clean) and need none.
    SELFTEST_CHECK(after.first_uses - before.first_uses >= 1 + 1 + 2 + 3);
    SELFTEST_CHECK(after.saves > before.saves);
    return true;
}

} // namespace kernel
