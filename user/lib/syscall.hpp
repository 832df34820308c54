// System-call wrappers of the user runtime: `ecall` with the number in a7, arguments in a0..a5,
// result in a0 (negative errno on failure). Numbers are Linux riscv64's.
#pragma once

#include <cstddef>
#include <cstdint>

namespace user {

enum Syscall : long { Write = 64, Exit = 93, ExitGroup = 94, SchedYield = 124, GetPid = 172, GetTid = 178 };
enum Errno : long { EBADF = 9, EFAULT = 14, ENOSYS = 38 };

inline long syscall(long number, long a0 = 0, long a1 = 0, long a2 = 0) {
    register long r_a0 asm("a0") = a0;
    register long r_a1 asm("a1") = a1;
    register long r_a2 asm("a2") = a2;
    register long r_a7 asm("a7") = number;
    asm volatile("ecall" : "+r"(r_a0) : "r"(r_a1), "r"(r_a2), "r"(r_a7) : "memory");
    return r_a0;
}

inline long write(int fd, const void* buffer, size_t length) {
    return syscall(Write, fd, reinterpret_cast<long>(buffer), static_cast<long>(length));
}
[[noreturn]] inline void exit(int status) {
    syscall(Exit, status);
    __builtin_unreachable();
}
inline long getpid() { return syscall(GetPid); }
inline long gettid() { return syscall(GetTid); }
inline long sched_yield() { return syscall(SchedYield); }

} // namespace user
