// Kernel threads: threads that run kernel code only, never user mode (the thread model of sockets,
// docs/network.md "Two kernel-side models").
//
// A kernel thread is a Thread of the kernel threads' process (create_kernel_process): a kernel
// stack of the stack area like every thread's, no address space of its own (the scheduler loads the
// kernel page table for it), no pid. The scheduler runs it like any thread, picked through the
// global priority table: that process stands there at the priority of its first runnable thread,
// and its run queue is ordered by each thread's `priority` (FIFO among equals), so a kernel thread
// competes with user processes at its own priority. It runs with interrupts off, as all kernel code
// does, until it blocks (sleep_on), yields or exits: the timer never preempts it.
#pragma once

#include <cstddef>
#include <cstdint>

#include "abi/result.hpp"
#include "kernel/proc/thread.hpp"

namespace kernel::proc {

// The most kernel threads at once (each costs a 16 KiB stack and its record).
constexpr uint32_t MaxKernelThreads = 2048;

// Makes the kernel threads' process. Once, at boot (init_network); NoMemory when it cannot be had
// (then create_kernel_thread fails too).
Result<void> init_kernel_threads();

// A new kernel thread, runnable at once at `priority` (0 highest .. 63), that runs entry(argument)
// and exits when it returns. NoMemory (no stack or record), InvalidArgument (MaxKernelThreads exist,
// or no kernel threads' process).
Result<Thread*> create_kernel_thread(void (*entry)(void*), void* argument, uint8_t priority);

// Kernel threads that exist now: made and not yet freed (a stack and a record each).
uint32_t kernel_thread_count();
// release_exited_thread has freed a kernel thread's stack and record.
void kernel_thread_released();

// Whether `thread` is a kernel thread.
bool is_kernel_thread(const Thread& thread);

} // namespace kernel::proc
