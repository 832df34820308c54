// System calls: `ecall` from user mode with the number in a7, arguments in a0..a5, the result in a0
// (negative errno on failure). Numbers and semantics follow Linux riscv64 where the call exists
// there; the calls are listed once in abi/syscall_list.hpp and described in docs/syscalls.md.
#pragma once

#include <cstdint>

#include "abi/errno.hpp"
#include "kernel/arch/riscv/trap.hpp"

namespace kernel::proc {

// Linux errno values (abi/errno.hpp); system calls return them negated (`return -Errno::Fault;`).
// Not the <errno.h> names, which are macros.
namespace Errno = cokernel::abi::Errno;

// Runs the system call in frame (a7, a0..a5) for the current thread and returns its result.
long dispatch_syscall(riscv::TrapFrame& frame);
// Boot argument log-enosys: log the first call of every unimplemented number (with the caller's pid
// and name), so that the next call a C library needs is found at once.
void set_log_missing_syscalls(bool enabled);

} // namespace kernel::proc
