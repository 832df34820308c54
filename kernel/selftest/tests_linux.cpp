// Self-test `linux`: ordinary programs built with Debian's riscv64-linux-gnu-gcc/g++ -static against
// glibc (user/linux/) run unmodified and end with the exit status they have on Linux. What they print
// is compared by the QEMU tests (tests/qemu/CMakeLists.txt, qemu-*-linux).
#include "kernel/proc/process.hpp"
#include "kernel/selftest/selftest.hpp"

namespace kernel {

namespace {

bool exits_with(const char* path, const char* argument, int expected) {
    const char* arguments[] = {path, argument};
    auto status = proc::run_program(path, arguments, argument ? 2 : 1);
    if (!status || *status != expected)
        println("    {} {}: {}, expected exit status {}", path, argument ? argument : "",
                status ? *status : -1, expected);
    return status && *status == expected;
}

} // namespace

bool selftest_linux_programs() {
    SELFTEST_CHECK(proc::init_archive());
    SELFTEST_CHECK(exits_with("bin/linuxcalls", nullptr, 0));  // the calls themselves, with their errors
    SELFTEST_CHECK(exits_with("bin/linux-hello", "one", 3));
    SELFTEST_CHECK(exits_with("bin/linux-atexit", nullptr, 7));
    SELFTEST_CHECK(exits_with("bin/linux-floats", nullptr, 0));
    SELFTEST_CHECK(exits_with("bin/linux-malloc", nullptr, 0));
    SELFTEST_CHECK(exits_with("bin/linux-iostream", nullptr, 0));
    SELFTEST_CHECK(exits_with("bin/linux-auxv", nullptr, 0));
    SELFTEST_CHECK(exits_with("bin/linux-uname", nullptr, 0));
    SELFTEST_CHECK(exits_with("bin/linux-clocks", nullptr, 0));
    SELFTEST_CHECK(exits_with("bin/linux-pthreads", nullptr, 0));
    SELFTEST_CHECK(exits_with("bin/linux-pthreads", "guard", proc::StatusSegmentationFault));
    return true;
}

} // namespace kernel
