// System calls: `ecall` from user mode with the number in a7, arguments in a0..a5, the result in a0
// (negative errno on failure). Numbers and semantics follow Linux riscv64 where the call exists
// there; the calls are listed once in abi/syscall_list.hpp and described in docs/syscalls.md.
#pragma once

#include <cstdint>

#include "abi/errno.hpp"
#include "abi/result.hpp"
#include "kernel/arch/riscv/trap.hpp"

namespace kernel::proc {

// Linux errno values (abi/errno.hpp); system calls return them negated (`return -Errno::Fault;`).
// Not the <errno.h> names, which are macros.
namespace Errno = cokernel::abi::Errno;

// The one mapping from a kernel Error to the errno a system call returns (negated). Each Error has
// one meaning, so one errno. A call whose Linux contract names another errno for a case (wait4's
// ECHILD, EFAULT for a string that could not be copied) says so at the call site before falling
// back on this. The only inputs whose format a system call checks are executables (spawn, execve),
// so a malformed, truncated or unsupported one is ENOEXEC, as Linux answers.
constexpr long errno_of(Error error) {
    switch (error) {
    case Error::NoMemory: return -Errno::NoMemory;
    case Error::InvalidArgument: return -Errno::Invalid;
    case Error::NotFound: return -Errno::NoEntry;
    case Error::Malformed: return -Errno::NotExecutable;
    case Error::Truncated: return -Errno::NotExecutable;
    case Error::AlreadyExists: return -Errno::Exists;
    case Error::Unsupported: return -Errno::NotExecutable;
    }
    return -Errno::Invalid;
}

// Runs the system call in frame (a7, a0..a5) for the current thread and returns its result.
long dispatch_syscall(riscv::TrapFrame& frame);
// Boot argument log-enosys: log the first call of every unimplemented number (with the caller's pid
// and name), so that the next call a C library needs is found at once.
void set_log_missing_syscalls(bool enabled);

} // namespace kernel::proc
