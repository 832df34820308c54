// System-call wrappers of the user runtime: `ecall` with the number in a7, arguments in a0..a5,
// result in a0 (negative errno on failure). Numbers are Linux riscv64's.
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "abi/abi.hpp"

namespace user {

enum Syscall : long {
    Dup = 23,
    Dup3 = 24,
    Fcntl = 25,
    Ioctl = 29,
    Readv = 65,
    Writev = 66,
    SetRobustList = 99,
    ClockGetres = 114,
    ClockNanosleep = 115,
    Tkill = 130,
    Tgkill = 131,
    Uname = 160,
    GetPpid = 173,
    GetUid = 174,
    GetEuid = 175,
    GetGid = 176,
    GetEgid = 177,
    Mprotect = 226,
    Madvise = 233,
    Prlimit64 = 261,
    Getrandom = 278,
    Rseq = 293,
    Close = 57,
    Pipe2 = 59,
    Read = 63,
    Write = 64,
    Exit = 93,
    ExitGroup = 94,
    Nanosleep = 101,
    ClockGettime = 113,
    SchedYield = 124,
    Kill = 129,
    Reboot = 142,
    GetPid = 172,
    GetTid = 178,
    Brk = 214,
    Munmap = 215,
    Execve = 221,
    Mmap = 222,
    Wait4 = 260,
};
// The project's own calls (Spawn, ListPrograms, ..., from 1024), ProcessRecord and Timespec: the
// definitions the kernel uses, shared.
using namespace cokernel::abi;
enum Errno : long {
    EPERM = 1, ENOENT = 2, ESRCH = 3, EINTR = 4, ENXIO = 6, E2BIG = 7, ENOEXEC = 8, EBADF = 9, ECHILD = 10,
    EAGAIN = 11, ENOMEM = 12, EFAULT = 14, EBUSY = 16, EEXIST = 17, ENODEV = 19, EINVAL = 22, EMFILE = 24,
    ENOTTY = 25, EPIPE = 32, ENOSYS = 38, ETIMEDOUT = 110,
};

// pipe2() flags, Linux's values.
constexpr int O_CLOEXEC = 0x80000;

// mmap() arguments, Linux's values.
enum Protection : int { PROT_NONE = 0x0, PROT_READ = 0x1, PROT_WRITE = 0x2, PROT_EXEC = 0x4 };
enum MapFlags : int {
    MAP_SHARED = 0x01, MAP_PRIVATE = 0x02, MAP_FIXED = 0x10, MAP_ANONYMOUS = 0x20, MAP_FIXED_NOREPLACE = 0x100000,
};


inline long syscall(long number, long a0 = 0, long a1 = 0, long a2 = 0, long a3 = 0, long a4 = 0, long a5 = 0) {
    register long r_a0 asm("a0") = a0;
    register long r_a1 asm("a1") = a1;
    register long r_a2 asm("a2") = a2;
    register long r_a3 asm("a3") = a3;
    register long r_a4 asm("a4") = a4;
    register long r_a5 asm("a5") = a5;
    register long r_a7 asm("a7") = number;
    asm volatile("ecall"
                 : "+r"(r_a0)
                 : "r"(r_a1), "r"(r_a2), "r"(r_a3), "r"(r_a4), "r"(r_a5), "r"(r_a7)
                 : "memory");
    return r_a0;
}

// A value as an argument register.
template <typename T>
long to_register(T value) {
    if constexpr (std::is_pointer_v<T>) return reinterpret_cast<long>(value);
    else if constexpr (std::is_null_pointer_v<T>) return 0;
    else return static_cast<long>(value);
}

// The system calls that have an asynchronous form, each declared once: `X(name, number, (parameters),
// (arguments))`. This header makes the synchronous `name(...)`, which returns the result;
// user/lib/async.hpp makes `async_name(...)` from the same list, an awaitable whose co_await gives
// the same result (docs/async-syscalls.md).
#define COKERNEL_ASYNC_SYSCALLS(X)                                                                    \
    X(read, Read, (int fd, void* buffer, size_t length), (fd, buffer, length))                         \
    X(write, Write, (int fd, const void* buffer, size_t length), (fd, buffer, length))                 \
    X(nanosleep, Nanosleep, (const Timespec* request), (request, nullptr))

#define COKERNEL_SYNC_FORM(name, number, parameters, arguments)                                      \
    inline long name parameters { return user::system_call(number, COKERNEL_UNPACK arguments); }
#define COKERNEL_UNPACK(...) __VA_ARGS__

template <typename... Arguments>
long system_call(long number, Arguments... arguments) {
    return syscall(number, to_register(arguments)...);
}

COKERNEL_ASYNC_SYSCALLS(COKERNEL_SYNC_FORM)

[[noreturn]] inline void exit(int status) {
    syscall(Exit, status);
    __builtin_unreachable();
}
// Ends every thread of the process (exit ends only the calling one).
[[noreturn]] inline void exit_group(int status) {
    syscall(ExitGroup, status);
    __builtin_unreachable();
}
inline long getpid() { return syscall(GetPid); }
inline long gettid() { return syscall(GetTid); }
inline long sched_yield() { return syscall(SchedYield); }
inline long close(int fd) { return syscall(Close, fd); }
inline long dup3(int old_fd, int new_fd, int flags = 0) { return syscall(Dup3, old_fd, new_fd, flags); }
// fds[0]: the read end, fds[1]: the write end.
inline long pipe2(int fds[2], int flags = 0) { return syscall(Pipe2, reinterpret_cast<long>(fds), flags); }
// Returns only on failure (a negative errno); envp may be NULL.
inline long execve(const char* path, const char* const* argv, const char* const* envp = nullptr) {
    return syscall(Execve, reinterpret_cast<long>(path), reinterpret_cast<long>(argv), reinterpret_cast<long>(envp));
}
inline long clock_gettime(long clock, Timespec* value) { return syscall(ClockGettime, clock, reinterpret_cast<long>(value)); }
inline long wait4(long pid, int* status, long options) {
    return syscall(Wait4, pid, reinterpret_cast<long>(status), options, 0);
}
inline long kill(long pid, long signal) { return syscall(Kill, pid, signal); }
inline long spawn(const char* path, const char* const* argv) {
    return syscall(Spawn, reinterpret_cast<long>(path), reinterpret_cast<long>(argv));
}
inline long list_programs(char* buffer, size_t size) {
    return syscall(ListPrograms, reinterpret_cast<long>(buffer), static_cast<long>(size));
}
inline long process_list(ProcessRecord* records, size_t capacity) {
    return syscall(ProcessList, reinterpret_cast<long>(records), static_cast<long>(capacity));
}
inline long set_priority(long pid, long priority) { return syscall(SetPriority, pid, priority); }
inline long get_priority(long pid) { return syscall(GetPriority, pid); }
inline long set_priority_cap(long pid, long cap) { return syscall(SetPriorityCap, pid, cap); }
// The calling process's memory limit (it can only be lowered) and its usage as the limit counts it
// (user pages, and each thread's kernel stack and record): docs/syscalls.md.
inline long set_memory_limit(size_t bytes) { return syscall(SetMemoryLimit, static_cast<long>(bytes)); }
inline long memory_usage() { return syscall(MemoryUsage); }
// Raises a user interrupt (uip.USIP) for thread `tid` of this process, or with tid 0 for the thread
// the kernel picks among those with a handler (utvec != 0, uie.USIE). 0, or -ESRCH when there is no
// such thread (docs/user-interrupts.md).
inline long raise_user_interrupt(long tid) { return syscall(RaiseUserInterrupt, tid); }
[[noreturn]] inline void power_off() {
    syscall(Reboot, 0xfee1dead, 672274793, 0x4321fedc);
    exit(1);
}
// Threads (user/lib/thread.S): runs entry(argument) on a new thread; *child_tid holds its id until
// it ends, then 0 (futex-woken): join_thread waits for that.
extern "C" long spawn_thread(int (*entry)(void*), void* argument, void* stack_top, int* child_tid);
inline long futex_wait(int* address, int value) {
    return syscall(98, reinterpret_cast<long>(address), 128 /* FUTEX_WAIT | PRIVATE */, value, 0);
}
inline long futex_wake(int* address, int count) {
    return syscall(98, reinterpret_cast<long>(address), 129 /* FUTEX_WAKE | PRIVATE */, count, 0);
}
inline void join_thread(int* child_tid) {
    for (int tid; (tid = __atomic_load_n(child_tid, __ATOMIC_ACQUIRE)) != 0;) futex_wait(child_tid, tid);
}
constexpr long WaitNoHang = 1;
// Linux wait status decoding.
constexpr bool exited_normally(int status) { return (status & 0x7f) == 0; }
constexpr int exit_code(int status) { return (status >> 8) & 0xff; }
constexpr int terminating_signal(int status) { return status & 0x7f; }

// The raw Linux calls: brk returns the (new or unchanged) break, never an errno; mmap returns the
// address or a negative errno (the C library's MAP_FAILED/errno convention is not used here).
inline long brk(uintptr_t address) { return syscall(Brk, static_cast<long>(address)); }
inline long mmap(uintptr_t address, size_t length, int protection, int flags, int fd = -1, long offset = 0) {
    return syscall(Mmap, static_cast<long>(address), static_cast<long>(length), protection, flags, fd, offset);
}
inline long munmap(uintptr_t address, size_t length) {
    return syscall(Munmap, static_cast<long>(address), static_cast<long>(length));
}

} // namespace user
