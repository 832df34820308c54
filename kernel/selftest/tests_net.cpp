// Self-test of the network stack and sockets (docs/network.md): bin/nettest runs servers and
// clients over 127.0.0.1 inside the guest (both call forms, many connections, UDP, a client killed
// mid-transfer); afterwards every socket must be freed, and the free frames and the kernel heap
// must be back to their figures.
#include "kernel/arch/riscv/hart.hpp"
#include "kernel/arch/riscv/timer.hpp"
#include "kernel/file/socket.hpp"
#include "kernel/mm/memory.hpp"
#include "kernel/net/stack.hpp"
#include "kernel/proc/process.hpp"
#include "kernel/sched/kernel_thread.hpp"
#include "kernel/sched/scheduler.hpp"
#include "kernel/selftest/selftest.hpp"

namespace kernel {

namespace {

bool nettest(const char* role, const char* argument = nullptr) {
    const char* arguments[] = {"bin/nettest", role, argument};
    auto status = proc::run_program("bin/nettest", arguments, !role ? 1 : argument ? 3 : 2);
    if (!status) {
        println("    bin/nettest {}: {}", role ? role : "", error_name(status.error()));
        return false;
    }
    if (*status != 0) println("    bin/nettest {}: exit status {}", role ? role : "", *status);
    return *status == 0;
}

// Schedules on this hart until no socket and no extra process is left, for at most `milliseconds`.
bool settled(size_t processes, uint64_t milliseconds) {
    uint64_t deadline = riscv::timer::now() + riscv::timer::frequency() * milliseconds / 1000;
    // A socket's kernel threads (the thread model) end once it is freed, and are freed soon after.
    while (proc::socket_count() != 0 || process_count() > processes || proc::kernel_thread_count() != 0) {
        if (riscv::timer::now() >= deadline) {
            println("    {} sockets, {} processes, {} kernel threads left", proc::socket_count(), process_count(),
                    proc::kernel_thread_count());
            return false;
        }
        if (!proc::run_kernel_step()) proc::wait_for_kernel_work();
    }
    return true;
}

} // namespace

bool selftest_network() {
    SELFTEST_CHECK(net::network_enabled());
    SELFTEST_CHECK(proc::init_archive());
    size_t processes_before = process_count();
    SELFTEST_CHECK(nettest("warm"));  // heap slabs for sockets and processes stay cached
    SELFTEST_CHECK(settled(processes_before, 10'000));
    size_t free_before = mm::frames().free_frames();
    size_t heap_before = mm::heap().stats().bytes_in_use;
    net::StackUsage usage_before = net::stack_usage();

    SELFTEST_CHECK(nettest(nullptr));
    SELFTEST_CHECK(settled(processes_before, 10'000));
    // Priority reaches the kernel: what can be asserted depends on the harts (nettest.cpp).
    char harts[4] = {static_cast<char>('0' + hart_count() % 10), 0};
    if (hart_count() >= 10) harts[0] = '9';
    SELFTEST_CHECK(nettest("priority", harts));
    SELFTEST_CHECK(settled(processes_before, 10'000));

    size_t free_after = mm::frames().free_frames();
    size_t heap_after = mm::heap().stats().bytes_in_use;
    net::StackUsage usage_after = net::stack_usage();
    println("    free frames before {} after {}, heap bytes in use before {} after {}", free_before, free_after,
            heap_before, heap_after);
    println("    lwIP: heap {} -> {} bytes, TCP pcbs {} -> {} (TIME_WAIT ones stay a while), pool pbufs {} -> {}",
            usage_before.heap_used, usage_after.heap_used, usage_before.tcp_pcbs, usage_after.tcp_pcbs,
            usage_before.pbufs, usage_after.pbufs);
    SELFTEST_CHECK(free_after == free_before);
    SELFTEST_CHECK(heap_after == heap_before);
    SELFTEST_CHECK(usage_after.pbufs == usage_before.pbufs);  // no received data left queued anywhere
    return true;
}

} // namespace kernel
