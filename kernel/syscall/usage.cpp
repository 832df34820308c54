// kernel_usage (1042): the kernel's own figures, read-only, for leak checks from user space
// (bin/kstat; tests/net/host_net_test.py compares them before and after traffic and a kill). The same
// figures the in-kernel network self-test compares (kernel/selftest/tests_net.cpp).
#include "kernel/file/socket.hpp"
#include "kernel/mm/memory.hpp"
#include "kernel/net/stack.hpp"
#include "kernel/proc/process.hpp"
#include "kernel/syscall/dispatch.hpp"
#include "kernel/syscall/handlers.hpp"

namespace kernel::proc {

using cokernel::abi::KernelUsageRecord;

// kernel_usage(record): fills a KernelUsageRecord (abi/abi.hpp). -EFAULT for a bad pointer.
long sys_kernel_usage(Thread& thread, SyscallArguments a) {
    KernelUsageRecord record{};
    record.free_frames = mm::frames().free_frames();
    record.heap_bytes = mm::heap().stats().bytes_in_use;
    record.sockets = socket_count();
    for_each_process([](const Process&, void* context) { ++*static_cast<uint64_t*>(context); }, &record.processes);
    if (net::network_enabled()) {  // with net=off lwIP was never set up: its figures stay 0
        net::StackUsage stack = net::stack_usage();
        record.tcp_pcbs = stack.tcp_pcbs;
        record.udp_pcbs = stack.udp_pcbs;
        record.pool_pbufs = stack.pbufs;
        record.lwip_heap_bytes = stack.heap_used;
    }
    if (!thread.process->address_space.copy_to_user(a[0], &record, sizeof(record))) return -Errno::Fault;
    return 0;
}

} // namespace kernel::proc
