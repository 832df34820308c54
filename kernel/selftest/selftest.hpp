// In-kernel self-tests, selected by the boot argument `selftest=all` or `selftest=name,name,...`.
//
// Each test prints "selftest: <name> ... ok" or "... FAILED" with the failed checks; the run ends with
// "selftest: N passed, M failed" and the machine powers off (tests/qemu reads the console).
// Tests marked `explicit_only` (a deliberate fatal fault) run only when named.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "kernel/console/log.hpp"

namespace kernel {

struct SelfTest {
    const char* name;
    bool (*run)();
    bool explicit_only;
};

// Runs the selected tests; true when all passed. Unknown names count as failures. `boot_arguments`
// (the whole command line) is what selftest_boot_arguments() gives the tests.
bool run_selftests(std::string_view selection, std::string_view boot_arguments = {});
// The command line the tests were started with (for settings such as `stress.seeds=`).
std::string_view selftest_boot_arguments();

// Inside a test: reports a failed check and makes the test fail.
#define SELFTEST_CHECK(condition)                                                       \
    do {                                                                                \
        if (!(condition)) {                                                             \
            ::kernel::println("    check failed: {} ({}:{})", #condition, __FILE__, __LINE__); \
            return false;                                                               \
        }                                                                               \
    } while (0)

// Helpers of the tests that run programs (kernel/selftest/tests_reliability.cpp): the processes in the
// table; scheduling on this hart until at most `figure` are left (orphans end and are reaped by the
// kernel) or `milliseconds` have passed, true when the figure is reached, the ones left printed
// otherwise.
size_t process_count();
bool table_back_to_within(size_t figure, uint64_t milliseconds);

// The tests, one function each (kernel/selftest/tests_*.cpp).
bool selftest_device_tree();
bool selftest_runtime();
bool selftest_format();
bool selftest_frames();
bool selftest_heap();
bool selftest_poison();
bool selftest_paging();
bool selftest_kernel_stacks();
bool selftest_stack_overflow();
bool selftest_guard_fault();
bool selftest_traps();
bool selftest_timer();
bool selftest_ipi();
bool selftest_smp();
bool selftest_console_receive();
bool selftest_fatal_fault();
bool selftest_user_programs();
bool selftest_preemption();
bool selftest_priorities();
bool selftest_vdso();
bool selftest_async_calls();
bool selftest_user_interrupts();
bool selftest_bottom_half();
bool selftest_reliability();
bool selftest_usercopy();
bool selftest_stress();
bool selftest_network();
bool selftest_fp();
bool selftest_linux_programs();
bool selftest_virtio_net();

} // namespace kernel
