// A process's memory limit and the usage it is checked against.
//
// Usage counts what a process makes the kernel hold for it, per thread and per page:
//   * every user page it has mapped (program segments, stack, brk, mmap: AddressSpace::user_pages());
//   * for each live thread, its kernel stack (KernelStackFrames pages; the guard below it is address
//     space only, no memory) and its Thread record (the kernel heap block that holds it); the same
//     for each kernel thread made for its calls (a socket's connection threads, Process::kernel_threads);
//   * its asynchronous calls' completion ring and call slots (async_setup's frames).
// Not counted: page-table pages (the kernel stack area's included), the process record, descriptors and pipes, the shared vDSO and
// priority-table pages (one copy for all processes).
//
// The limit is checked when memory is asked for (mmap, brk, clone), never reserved: two threads of a
// process asking at the same moment may together pass it by one request. A process can only lower
// its own limit (set_memory_limit), so code it runs afterwards cannot lift it; a new process starts
// without one.
#pragma once

#include <cstdint>

#include "kernel/proc/thread.hpp"
#include "kernel/syscall/handlers.hpp"

namespace kernel::proc {

// What one thread costs the kernel: its kernel stack plus the heap block of its Thread record.
uint64_t thread_memory_bytes();

// The usage defined above, in bytes.
uint64_t memory_usage(const Process& process);

// Whether `process` may take `more` bytes without passing its limit.
bool within_memory_limit(const Process& process, uint64_t more);

} // namespace kernel::proc
