// System calls: `ecall` from user mode with the number in a7, arguments in a0..a5, the result in a0
// (negative errno on failure). Numbers and semantics follow Linux riscv64 where the call exists
// there; the table of what exists is docs/syscalls.md.
#pragma once

#include <cstdint>

#include "kernel/arch/riscv/trap.hpp"

namespace kernel::proc {

// Linux errno values; system calls return them negated (`return -Errno::Fault;`). Not the <errno.h>
// names, which are macros.
namespace Errno {
constexpr long NotPermitted = 1;   // EPERM
constexpr long NoEntry = 2;        // ENOENT
constexpr long Interrupted = 4;    // EINTR
constexpr long NoDeviceOrAddress = 6;  // ENXIO
constexpr long ArgumentsTooLong = 7;  // E2BIG
constexpr long NotExecutable = 8;  // ENOEXEC
constexpr long BadFile = 9;        // EBADF
constexpr long NoChild = 10;       // ECHILD
constexpr long TryAgain = 11;      // EAGAIN
constexpr long NoMemory = 12;      // ENOMEM
constexpr long Fault = 14;         // EFAULT
constexpr long Busy = 16;          // EBUSY
constexpr long Exists = 17;        // EEXIST
constexpr long NoDevice = 19;      // ENODEV
constexpr long Invalid = 22;       // EINVAL
constexpr long TooManyFiles = 24;  // EMFILE
constexpr long BrokenPipe = 32;    // EPIPE
constexpr long NoProcess = 3;      // ESRCH
constexpr long NoSystemCall = 38;  // ENOSYS
} // namespace Errno

// Runs the system call in frame (a7, a0..a5) for the current thread and returns its result.
long dispatch_syscall(riscv::TrapFrame& frame);
// Boot argument log-enosys: log the first call of every unimplemented number (with the caller's pid
// and name), so that the next call a C library needs is found at once.
void set_log_missing_syscalls(bool enabled);

} // namespace kernel::proc
