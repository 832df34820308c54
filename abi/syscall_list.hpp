// Every system call, declared once. From this list come the kernel's dispatch table
// (kernel/syscall/dispatch.cpp), the user runtime's wrappers in both forms (user/lib/syscall.hpp,
// user/lib/async.hpp), the numbers both sides use (SyscallNumber, below), and the check that the
// table in docs/syscalls.md lists exactly these calls (tests/layout/check_syscall_docs.sh).
//
//     X(number, name, Number, form, (parameters), (arguments))
//
// number      Linux riscv64's (asm-generic/unistd.h) below 512; the project's own from 1024.
// name        the Linux name; the kernel's handler is sys_<name> (kernel/syscall/handlers.hpp).
// Number      the constant of SyscallNumber.
// form        Sync      a plain handler; synchronous only
//             Async     a system-call coroutine (kernel/syscall/call.hpp): the same handler serves
//                       the synchronous form and the asynchronous one (docs/async-syscalls.md)
//             NoReturn  synchronous; the user wrapper does not return
//             Raw       synchronous; no generated user wrapper (the runtime has its own: clone)
// parameters  the user wrapper's parameter list (types of abi/ only), defaults allowed;
// arguments   the registers a0.. it passes, in order.
//
// Adding a call: one line here (in number order), sys_<name> in kernel/syscall/handlers.hpp and its
// definition in the family's file, a row in docs/syscalls.md. The kernel's build checks that a
// handler exists for every line and that Async lines (only they) have coroutine handlers.
#pragma once

#include <cstddef>
#include <cstdint>

#include "abi/abi.hpp"

#define COKERNEL_SYSCALLS(X)                                                                                       \
    X(23, dup, Dup, Sync, (int fd), (fd))                                                                            \
    X(24, dup3, Dup3, Sync, (int old_fd, int new_fd, int flags = 0), (old_fd, new_fd, flags))                        \
    X(25, fcntl, Fcntl, Sync, (int fd, int command, long argument = 0), (fd, command, argument))                     \
    X(29, ioctl, Ioctl, Sync, (int fd, unsigned long request, void* argument = nullptr), (fd, request, argument))     \
    X(57, close, Close, Sync, (int fd), (fd))                                                                        \
    X(59, pipe2, Pipe2, Sync, (int* fds, int flags = 0), (fds, flags))                                              \
    X(63, read, Read, Async, (int fd, void* buffer, size_t length), (fd, buffer, length))                           \
    X(64, write, Write, Async, (int fd, const void* buffer, size_t length), (fd, buffer, length))                   \
    X(65, readv, Readv, Sync, (int fd, const void* vector, int count), (fd, vector, count))                          \
    X(66, writev, Writev, Sync, (int fd, const void* vector, int count), (fd, vector, count))                        \
    X(93, exit, Exit, NoReturn, (int status), (status))                                                             \
    X(94, exit_group, ExitGroup, NoReturn, (int status), (status))                                                  \
    X(96, set_tid_address, SetTidAddress, Sync, (int* address), (address))                                          \
    X(98, futex, Futex, Sync, (int* address, int operation, int value, const Timespec* timeout = nullptr),           \
      (address, operation, value, timeout))                                                                         \
    X(99, set_robust_list, SetRobustList, Sync, (void* head, size_t length), (head, length))                         \
    X(101, nanosleep, Nanosleep, Async, (const Timespec* request, Timespec* remaining = nullptr), (request, remaining)) \
    X(113, clock_gettime, ClockGettime, Sync, (long clock, Timespec* value), (clock, value))                        \
    X(114, clock_getres, ClockGetres, Sync, (long clock, Timespec* resolution), (clock, resolution))                 \
    X(115, clock_nanosleep, ClockNanosleep, Async,                                                                  \
      (long clock, int flags, const Timespec* request, Timespec* remaining = nullptr),                              \
      (clock, flags, request, remaining))                                                                           \
    X(124, sched_yield, SchedYield, Sync, (), ())                                                                   \
    X(129, kill, Kill, Sync, (long pid, long signal), (pid, signal))                                                \
    X(130, tkill, Tkill, Sync, (long tid, long signal), (tid, signal))                                              \
    X(131, tgkill, Tgkill, Sync, (long pid, long tid, long signal), (pid, tid, signal))                             \
    X(142, reboot, Reboot, Sync, (long magic, long magic2, long command), (magic, magic2, command))                 \
    X(160, uname, Uname, Sync, (void* name), (name))                                                                \
    X(172, getpid, GetPid, Sync, (), ())                                                                            \
    X(173, getppid, GetPpid, Sync, (), ())                                                                          \
    X(174, getuid, GetUid, Sync, (), ())                                                                            \
    X(175, geteuid, GetEuid, Sync, (), ())                                                                          \
    X(176, getgid, GetGid, Sync, (), ())                                                                            \
    X(177, getegid, GetEgid, Sync, (), ())                                                                          \
    X(178, gettid, GetTid, Sync, (), ())                                                                            \
    X(198, socket, Socket, Sync, (int domain, int type, int protocol = 0), (domain, type, protocol))                  \
    X(200, bind, Bind, Sync, (int fd, const void* address, uint32_t length), (fd, address, length))                  \
    X(201, listen, Listen, Sync, (int fd, int backlog), (fd, backlog))                                              \
    X(202, accept, Accept, Async, (int fd, void* address = nullptr, uint32_t* length = nullptr), (fd, address, length)) \
    X(203, connect, Connect, Async, (int fd, const void* address, uint32_t length), (fd, address, length))           \
    X(204, getsockname, GetSockName, Sync, (int fd, void* address, uint32_t* length), (fd, address, length))         \
    X(205, getpeername, GetPeerName, Sync, (int fd, void* address, uint32_t* length), (fd, address, length))         \
    X(206, sendto, SendTo, Async,                                                                                   \
      (int fd, const void* buffer, size_t length, int flags = 0, const void* address = nullptr, uint32_t address_length = 0), \
      (fd, buffer, length, flags, address, address_length))                                                         \
    X(207, recvfrom, RecvFrom, Async,                                                                               \
      (int fd, void* buffer, size_t length, int flags = 0, void* address = nullptr, uint32_t* address_length = nullptr), \
      (fd, buffer, length, flags, address, address_length))                                                         \
    X(208, setsockopt, SetSockOpt, Sync, (int fd, int level, int option, const void* value, uint32_t length),         \
      (fd, level, option, value, length))                                                                           \
    X(209, getsockopt, GetSockOpt, Sync, (int fd, int level, int option, void* value, uint32_t* length),              \
      (fd, level, option, value, length))                                                                           \
    X(210, shutdown, Shutdown, Sync, (int fd, int how), (fd, how))                                                  \
    X(214, brk, Brk, Sync, (uintptr_t address), (address))                                                          \
    X(215, munmap, Munmap, Sync, (uintptr_t address, size_t length), (address, length))                             \
    X(220, clone, Clone, Raw, (), ())                                                                               \
    X(221, execve, Execve, Sync, (const char* path, const char* const* argv, const char* const* envp = nullptr),     \
      (path, argv, envp))                                                                                           \
    X(222, mmap, Mmap, Sync,                                                                                        \
      (uintptr_t address, size_t length, int protection, int flags, int fd = -1, long offset = 0),                  \
      (address, length, protection, flags, fd, offset))                                                             \
    X(226, mprotect, Mprotect, Sync, (uintptr_t address, size_t length, int protection), (address, length, protection)) \
    X(233, madvise, Madvise, Sync, (uintptr_t address, size_t length, int advice), (address, length, advice))       \
    X(242, accept4, Accept4, Async, (int fd, void* address, uint32_t* length, int flags), (fd, address, length, flags)) \
    X(260, wait4, Wait4, Sync, (long pid, int* status, long options, void* rusage = nullptr),                        \
      (pid, status, options, rusage))                                                                               \
    X(261, prlimit64, Prlimit64, Sync, (long pid, int resource, const void* new_limit, void* old_limit),             \
      (pid, resource, new_limit, old_limit))                                                                        \
    X(278, getrandom, Getrandom, Sync, (void* buffer, size_t length, unsigned flags = 0), (buffer, length, flags))   \
    X(293, rseq, Rseq, Sync, (void* area, uint32_t length, int flags, uint32_t signature), (area, length, flags, signature)) \
    X(1024, spawn, Spawn, Sync, (const char* path, const char* const* argv), (path, argv))                          \
    X(1025, list_programs, ListPrograms, Sync, (char* buffer, size_t size), (buffer, size))                         \
    X(1026, process_list, ProcessList, Sync, (ProcessRecord* records, size_t capacity), (records, capacity))        \
    X(1027, set_priority, SetPriority, Sync, (long pid, long priority), (pid, priority))                            \
    X(1028, get_priority, GetPriority, Sync, (long pid), (pid))                                                     \
    X(1029, set_priority_cap, SetPriorityCap, Sync, (long pid, long cap), (pid, cap))                               \
    X(1030, should_yield, ShouldYield, Sync, (), ())                                                                \
    X(1031, priority_slot, PrioritySlot, Sync, (), ())                                                              \
    X(1032, raise_user_interrupt, RaiseUserInterrupt, Sync, (long tid), (tid))                                      \
    X(1033, async_setup, AsyncSetup, Sync, (size_t ring_capacity, size_t calls_in_flight),                          \
      (ring_capacity, calls_in_flight))                                                                             \
    X(1034, async_flush, AsyncFlush, Sync, (), ())                                                                  \
    X(1035, async_submit_batch, AsyncSubmitBatch, Sync, (SubmissionEntry* entries, size_t count, long flags),       \
      (entries, count, flags))                                                                                      \
    X(1040, set_memory_limit, SetMemoryLimit, Sync, (size_t bytes), (bytes))                                        \
    X(1041, memory_usage, MemoryUsage, Sync, (), ())                                                                \
    X(1042, kernel_usage, KernelUsage, Sync, (KernelUsageRecord* usage), (usage)) \
    X(1043, set_child_memory_limit, SetChildMemoryLimit, Sync, (long pid, size_t bytes), (pid, bytes))            \
    X(1044, user_interrupt_upcall, UserInterruptUpcall, Sync, (long operation), (operation))                        \
    X(1048, kernel_counters, KernelCounters, Sync, (KernelCountersRecord* counters), (counters))

namespace cokernel::abi {

// The numbers, for code that issues calls by number (the vDSO, the runtime's raw syscall()).
enum SyscallNumber : long {
#define COKERNEL_SYSCALL_NUMBER(number, name, Number, form, parameters, arguments) Number = number,
    COKERNEL_SYSCALLS(COKERNEL_SYSCALL_NUMBER)
#undef COKERNEL_SYSCALL_NUMBER
};

// The project's own calls start here (Linux riscv64 numbers stay below 512).
constexpr long FirstProjectSyscall = Spawn;

} // namespace cokernel::abi
