// The system-call handlers, one function each, grouped in files by family (io.cpp, process.cpp,
// ...). The list of calls is abi/syscall_list.hpp: a line there names sys_<name>, and dispatch.cpp
// makes the table from it (and checks each handler's kind against the line's form).
//
// A handler gets the calling thread and its six argument registers a0..a5 and returns the value
// for a0: a result, or a negated Errno.
#pragma once

#include <cstdint>

#include "kernel/proc/thread.hpp"
#include "kernel/syscall/call.hpp"

namespace kernel::proc {

using SyscallArguments = const uint64_t*;

// Handlers that may wait are system-call coroutines (call.hpp): one handler for the synchronous
// and the asynchronous form.
// io.cpp
Call sys_read(CallMemory& memory, Process& process, CallArguments arguments);
Call sys_write(CallMemory& memory, Process& process, CallArguments arguments);
long sys_close(Thread& thread, SyscallArguments arguments);
long sys_dup3(Thread& thread, SyscallArguments arguments);
long sys_pipe2(Thread& thread, SyscallArguments arguments);
// socket.cpp (the sockets themselves: kernel/file/socket.cpp)
long sys_socket(Thread& thread, SyscallArguments arguments);
long sys_bind(Thread& thread, SyscallArguments arguments);
long sys_listen(Thread& thread, SyscallArguments arguments);
Call sys_accept(CallMemory& memory, Process& process, CallArguments arguments);
Call sys_accept4(CallMemory& memory, Process& process, CallArguments arguments);
Call sys_connect(CallMemory& memory, Process& process, CallArguments arguments);
long sys_getsockname(Thread& thread, SyscallArguments arguments);
long sys_getpeername(Thread& thread, SyscallArguments arguments);
Call sys_sendto(CallMemory& memory, Process& process, CallArguments arguments);
Call sys_recvfrom(CallMemory& memory, Process& process, CallArguments arguments);
long sys_setsockopt(Thread& thread, SyscallArguments arguments);
long sys_getsockopt(Thread& thread, SyscallArguments arguments);
long sys_shutdown(Thread& thread, SyscallArguments arguments);
// kernel/file/console_file.cpp
// Connects console input to readers blocked in a console read: the receive interrupt raises the
// console's bottom half, started (at boot, after start_switch_coroutines) by start_console_input.
// If it cannot be started, the interrupt wakes the readers itself.
void init_console_input();
Result<void> start_console_input();
void wake_console_readers();

// exec.cpp (and sys_spawn, below)
long sys_execve(Thread& thread, SyscallArguments arguments);

// time.cpp
long sys_clock_gettime(Thread& thread, SyscallArguments arguments);
Call sys_nanosleep(CallMemory& memory, Process& process, CallArguments arguments);
Call sys_clock_nanosleep(CallMemory& memory, Process& process, CallArguments arguments);
long sys_clock_getres(Thread& thread, SyscallArguments arguments);
// CLOCK_REALTIME: the real time now, in nanoseconds since the Unix epoch (at boot: from the goldfish
// RTC, else the boot argument realtime=SECONDS; 0 = the epoch at boot if neither).
void set_realtime(uint64_t epoch_nanoseconds);
uint64_t realtime_at_boot_nanoseconds();  // CLOCK_REALTIME minus the time since boot

// memory.cpp
long sys_brk(Thread& thread, SyscallArguments arguments);
long sys_mmap(Thread& thread, SyscallArguments arguments);
long sys_munmap(Thread& thread, SyscallArguments arguments);
long sys_mprotect(Thread& thread, SyscallArguments arguments);
long sys_madvise(Thread& thread, SyscallArguments arguments);
// linux.cpp: what C libraries call before and around main
long sys_uname(Thread& thread, SyscallArguments arguments);
long sys_getuid(Thread& thread, SyscallArguments arguments);
long sys_geteuid(Thread& thread, SyscallArguments arguments);
long sys_getgid(Thread& thread, SyscallArguments arguments);
long sys_getegid(Thread& thread, SyscallArguments arguments);
long sys_getppid(Thread& thread, SyscallArguments arguments);
long sys_set_robust_list(Thread& thread, SyscallArguments arguments);
long sys_prlimit64(Thread& thread, SyscallArguments arguments);
long sys_getrandom(Thread& thread, SyscallArguments arguments);
long sys_rseq(Thread& thread, SyscallArguments arguments);
long sys_writev(Thread& thread, SyscallArguments arguments);
long sys_readv(Thread& thread, SyscallArguments arguments);
long sys_dup(Thread& thread, SyscallArguments arguments);
long sys_fcntl(Thread& thread, SyscallArguments arguments);
long sys_ioctl(Thread& thread, SyscallArguments arguments);
long sys_tgkill(Thread& thread, SyscallArguments arguments);
long sys_tkill(Thread& thread, SyscallArguments arguments);

// process.cpp
long sys_getpid(Thread& thread, SyscallArguments arguments);
long sys_gettid(Thread& thread, SyscallArguments arguments);
long sys_sched_yield(Thread& thread, SyscallArguments arguments);
long sys_wait4(Thread& thread, SyscallArguments arguments);
long sys_kill(Thread& thread, SyscallArguments arguments);
long sys_reboot(Thread& thread, SyscallArguments arguments);
// thread.cpp
long sys_clone(Thread& thread, SyscallArguments arguments);
long sys_exit(Thread& thread, SyscallArguments arguments);
long sys_exit_group(Thread& thread, SyscallArguments arguments);
long sys_set_tid_address(Thread& thread, SyscallArguments arguments);
long sys_futex(Thread& thread, SyscallArguments arguments);
long sys_raise_user_interrupt(Thread& thread, SyscallArguments arguments);  // project call 1032
long sys_user_interrupt_upcall(Thread& thread, SyscallArguments arguments);  // project call 1044
void clear_child_tid_at_exit(Thread& thread);  // CLONE_CHILD_CLEARTID: zero and wake, on the thread's way out

// project-specific, numbered from 1024 (docs/syscalls.md)
long sys_spawn(Thread& thread, SyscallArguments arguments);
long sys_list_programs(Thread& thread, SyscallArguments arguments);
long sys_process_list(Thread& thread, SyscallArguments arguments);
long sys_set_priority(Thread& thread, SyscallArguments arguments);
long sys_get_priority(Thread& thread, SyscallArguments arguments);
long sys_set_priority_cap(Thread& thread, SyscallArguments arguments);
long sys_should_yield(Thread& thread, SyscallArguments arguments);
long sys_priority_slot(Thread& thread, SyscallArguments arguments);
long sys_async_setup(Thread& thread, SyscallArguments arguments);
long sys_async_flush(Thread& thread, SyscallArguments arguments);
long sys_async_submit_batch(Thread& thread, SyscallArguments arguments);
// kernel/proc/memory_limit.cpp
long sys_set_memory_limit(Thread& thread, SyscallArguments arguments);
long sys_memory_usage(Thread& thread, SyscallArguments arguments);
long sys_set_child_memory_limit(Thread& thread, SyscallArguments arguments);
// kernel/syscall/usage.cpp
long sys_kernel_usage(Thread& thread, SyscallArguments arguments);
long sys_kernel_counters(Thread& thread, SyscallArguments arguments);

} // namespace kernel::proc
