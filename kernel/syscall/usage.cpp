// kernel_usage (1042): the kernel's own figures, read-only, for leak checks from user space
// (bin/kstat; tests/net/host_net_test.py compares them before and after traffic and a kill). The same
// figures the in-kernel network self-test compares (kernel/selftest/tests_net.cpp).
#include "kernel/arch/riscv/hart.hpp"
#include "kernel/arch/riscv/interrupts.hpp"
#include "kernel/file/socket.hpp"
#include "kernel/lib/counters.hpp"
#include "kernel/mm/memory.hpp"
#include "kernel/net/stack.hpp"
#include "kernel/proc/process.hpp"
#include "kernel/sched/scheduler.hpp"
#include "kernel/syscall/dispatch.hpp"
#include "kernel/syscall/handlers.hpp"

namespace kernel::proc {

using cokernel::abi::KernelCountersRecord;
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

// kernel_counters(record): fills a KernelCountersRecord (abi/abi.hpp) with the event counts since
// boot (kernel/lib/counters.hpp, and the harts' own tick and kick counts). -EFAULT for a bad pointer.
long sys_kernel_counters(Thread& thread, SyscallArguments a) {
    using counters::values;
    auto value = [](counters::Event event) { return values[event].load(std::memory_order_relaxed); };
    KernelCountersRecord record{};
    for (size_t i = 0; i < hart_count(); ++i) {
        record.timer_interrupts += hart_by_index(i)->timer_ticks.load(std::memory_order_relaxed);
        record.kicks += hart_by_index(i)->kicks_received.load(std::memory_order_relaxed);
    }
    record.external_interrupts = riscv::external_interrupt_count();
    record.idle_waits = value(counters::IdleWaits);
    record.idle_instret = value(counters::IdleInstret);
    record.thread_switches = switch_coroutine_runs();
    record.syscalls = value(counters::Syscalls);
    record.user_interrupts_raised = value(counters::UserInterruptsRaised);
    record.user_interrupts_pending = value(counters::UserInterruptsAlreadyPending);
    record.user_interrupt_waits_ended = value(counters::UserInterruptWaitsEnded);
    record.user_interrupts_delivered = value(counters::UserInterruptsDelivered);
    record.completions_posted = value(counters::CompletionsPosted);
    record.completions_silent = value(counters::CompletionsSilent);
    record.calls_refused = value(counters::CallsRefused);
    record.kernel_calls_on_return = value(counters::KernelCallsOnReturn);
    record.kernel_calls_by_scheduler = value(counters::KernelCallsByScheduler);
    record.network_runs = value(counters::NetworkRuns);
    record.frames_received = value(counters::FramesReceived);
    record.frames_sent = value(counters::FramesSent);
    record.frames_dropped = value(counters::FramesDropped);
    record.futex_waits = value(counters::FutexWaits);
    record.futex_wakes = value(counters::FutexWakes);
    if (!thread.process->address_space.copy_to_user(a[0], &record, sizeof(record))) return -Errno::Fault;
    return 0;
}

} // namespace kernel::proc
