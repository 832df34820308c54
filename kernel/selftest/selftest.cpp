#include "kernel/selftest/selftest.hpp"

#include "kernel/lib/bootargs.hpp"

namespace kernel {

namespace {

constexpr SelfTest Tests[] = {
    {"devicetree", selftest_device_tree, false},
    {"runtime", selftest_runtime, false},
    {"format", selftest_format, false},
    {"frames", selftest_frames, false},
    {"heap", selftest_heap, false},
    {"paging", selftest_paging, false},
    {"kstacks", selftest_kernel_stacks, false},
    {"traps", selftest_traps, false},
    {"timer", selftest_timer, false},
    {"ipi", selftest_ipi, false},
    {"smp", selftest_smp, false},
    {"user", selftest_user_programs, false},
    {"preemption", selftest_preemption, false},
    {"priorities", selftest_priorities, false},
    {"vdso", selftest_vdso, false},
    {"async", selftest_async_calls, false},
    {"uintr", selftest_user_interrupts, false},
    {"bottom-half", selftest_bottom_half, false},
    {"usercopy", selftest_usercopy, true},        // races on every hart: run by its own tests
    {"reliability", selftest_reliability, true},  // long (races on every hart): run by its own test
    {"stress", selftest_stress, true},            // the fuzzer (bin/stress): its own test, make fuzz
    {"net", selftest_network, true},              // long (MiB over TCP): run by its own tests
    {"fp", selftest_fp, false},
    {"linux", selftest_linux_programs, false},
    {"virtio-net", selftest_virtio_net, true},    // the device alone (boot with net=off); needs one (virt)
    {"uart-rx", selftest_console_receive, true},  // needs input on the console
    {"fault", selftest_fatal_fault, true},        // ends the kernel on purpose
    {"stack-overflow", selftest_stack_overflow, true},  // ends the kernel on purpose
    {"guard-fault", selftest_guard_fault, true},        // ends the kernel on purpose
    {"poison", selftest_poison, true},                  // the memory debug build: ends the kernel on purpose
};

std::string_view boot_arguments_seen;

bool is_known(std::string_view name) {
    if (name == "all") return true;
    for (const SelfTest& test : Tests)
        if (name == test.name) return true;
    return false;
}

} // namespace

std::string_view selftest_boot_arguments() { return boot_arguments_seen; }

bool run_selftests(std::string_view selection, std::string_view boot_arguments) {
    boot_arguments_seen = boot_arguments;
    if (selection.empty()) selection = "all";
    size_t passed = 0, failed = 0;
    // Names in the selection that match no test are failures: a typo must not pass silently.
    size_t start = 0;
    while (start <= selection.size()) {
        size_t comma = selection.find(',', start);
        if (comma == std::string_view::npos) comma = selection.size();
        std::string_view name = selection.substr(start, comma - start);
        if (!is_known(name)) {
            println("selftest: no test named '{}' ... FAILED", name);
            ++failed;
        }
        start = comma + 1;
    }
    bool all = list_contains(selection, "all");
    for (const SelfTest& test : Tests) {
        bool selected = list_contains(selection, test.name) || (all && !test.explicit_only);
        if (!selected) continue;
        println("selftest: {} ...", test.name);
        bool ok = test.run();
        println("selftest: {} ... {}", test.name, ok ? "ok" : "FAILED");
        (ok ? passed : failed)++;
    }
    println("selftest: {} passed, {} failed", passed, failed);
    return failed == 0 && passed > 0;
}

} // namespace kernel
