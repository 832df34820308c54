// System calls of the process family: exit, identity, yielding.
#include "kernel/proc/process.hpp"
#include "kernel/proc/scheduler.hpp"
#include "kernel/proc/syscall_handlers.hpp"

namespace kernel::proc {

long sys_exit(Thread&, SyscallArguments a) { exit_current_process(static_cast<int>(a[0] & 0xff)); }
long sys_getpid(Thread& thread, SyscallArguments) { return thread.process->pid; }
long sys_gettid(Thread& thread, SyscallArguments) { return thread.tid; }
long sys_sched_yield(Thread& thread, SyscallArguments) {
    thread.yield_requested = true;
    return 0;
}

} // namespace kernel::proc
