// System-call wrappers of the user runtime: `ecall` with the number in a7, arguments in a0..a5,
// result in a0 (negative errno on failure). Numbers are Linux riscv64's. Every call has a wrapper
// made from its line in abi/syscall_list.hpp: `user::read(fd, buffer, size)`, and for the calls with
// an asynchronous form `co_await user::async_read(...)` too (user/lib/async.hpp). A few helpers built
// on them follow (power_off, futex_wait, join_thread, ...).
#pragma once

#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "abi/abi.hpp"
#include "abi/errno.hpp"
#include "abi/syscall_list.hpp"

namespace user {

// The numbers (Read, Write, ..., Spawn, ...), ProcessRecord and Timespec: the definitions the kernel
// uses, shared.
using namespace cokernel::abi;
// The POSIX errno names, from the one list (abi/errno.hpp).
enum Errno : long {
#define COKERNEL_POSIX_ERRNO(posix, value, name, text) posix = value,
    COKERNEL_ERRNOS(COKERNEL_POSIX_ERRNO)
#undef COKERNEL_POSIX_ERRNO
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

template <typename... Arguments>
long system_call(long number, Arguments... arguments) {
    return syscall(number, to_register(arguments)...);
}

// system_call with the number bound first, so that a parenthesised argument list from
// abi/syscall_list.hpp, empty or not, can follow it: `Caller{Read}(fd, buffer, length)`.
struct Caller {
    long number;
    template <typename... Arguments>
    long operator()(Arguments... arguments) const { return system_call(number, arguments...); }
};

// One wrapper per line of abi/syscall_list.hpp, by its form.
#define COKERNEL_WRAPPER_Sync(name, Number, parameters, arguments) \
    inline long name parameters { return user::Caller{Number} arguments; }
#define COKERNEL_WRAPPER_Async COKERNEL_WRAPPER_Sync
#define COKERNEL_WRAPPER_NoReturn(name, Number, parameters, arguments)                 \
    [[noreturn]] inline void name parameters {                                         \
        user::Caller{Number} arguments;                                                 \
        __builtin_unreachable();                                                        \
    }
#define COKERNEL_WRAPPER_Raw(name, Number, parameters, arguments)
#define COKERNEL_WRAPPER(number, name, Number, form, parameters, arguments) \
    COKERNEL_WRAPPER_##form(name, Number, parameters, arguments)
COKERNEL_SYSCALLS(COKERNEL_WRAPPER)
#undef COKERNEL_WRAPPER
// What each does is in docs/syscalls.md. They are the raw Linux calls: a negative errno on failure
// (the C library's errno variable and MAP_FAILED are not used here); brk returns the new or unchanged
// break, never an errno; pipe2 fills fds[0] (read end) and fds[1] (write end); execve returns only on
// failure; raise_user_interrupt(0) picks a thread with a handler (docs/user-interrupts.md).

[[noreturn]] inline void power_off() {
    reboot(0xfee1dead, 672274793, 0x4321fedc);  // LINUX_REBOOT_CMD_POWER_OFF
    exit(1);
}
// Threads (user/lib/thread.S): runs entry(argument) on a new thread; *child_tid holds its id until
// it ends, then 0 (futex-woken): join_thread waits for that.
extern "C" long spawn_thread(int (*entry)(void*), void* argument, void* stack_top, int* child_tid);
inline long futex_wait(int* address, int value) {
    return futex(address, 128 /* FUTEX_WAIT | PRIVATE */, value);
}
inline long futex_wake(int* address, int count) {
    return futex(address, 129 /* FUTEX_WAKE | PRIVATE */, count);
}
inline void join_thread(int* child_tid) {
    for (int tid; (tid = __atomic_load_n(child_tid, __ATOMIC_ACQUIRE)) != 0;) futex_wait(child_tid, tid);
}
constexpr long WaitNoHang = 1;
// Linux wait status decoding.
constexpr bool exited_normally(int status) { return (status & 0x7f) == 0; }
constexpr int exit_code(int status) { return (status >> 8) & 0xff; }
constexpr int terminating_signal(int status) { return status & 0x7f; }

} // namespace user
