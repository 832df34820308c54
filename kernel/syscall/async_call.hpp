// Asynchronous system calls: the per-process state behind them (docs/async-syscalls.md).
//
// A process that calls async_setup gets an AsyncCalls: its completion ring (frames of the kernel's,
// mapped read-write into the process at abi::UserCompletionRingAddress; not a region, so munmap
// cannot take it away) and the number of call slots it asked for (64 by default, at most
// abi::MaxCallsInFlight), each the memory of one call's coroutine frame. Nothing is allocated per call: a call takes a free slot or fails with -EAGAIN.
//
// Life of a slot: free -> (submit) in flight -> (the handler's end) the completion is written into
// the ring and the slot is free again; or, when the ring is full, the slot is held, with its
// completion, on the held list until async_flush finds room. A held slot still counts against
// the process's calls in flight, so a process that never drains its ring soon gets -EAGAIN and loses nothing.
//
// Every call in flight holds its process (Process::holds): memory, files and this state outlive the
// process's threads until the last call has finished.
//
// Lock: AsyncCalls::lock (an IrqSpinLock) guards the free and held lists, the
// ring's tail and counters. It nests inside nothing else and nothing is taken under it.
#pragma once

#include <cstdint>

#include "abi/abi.hpp"
#include "kernel/arch/riscv/irq_lock.hpp"
#include "kernel/proc/thread.hpp"
#include "kernel/syscall/call.hpp"

namespace kernel::proc {

struct CallSlot {
    CallSlot* next = nullptr;   // free list or held list
    Process* process = nullptr;
    uint64_t token = 0;         // the user's completion token (its coroutine's ID)
    long result = 0;
    // The waiter's priority as the submission named it (plus one; 0: none), clamped by call_priority
    // only when it matters: at the call's first wait, or its hand-over to a kernel thread.
    uint8_t named_priority = 0;
    alignas(16) unsigned char frame[CallFrameBytes];
};

struct AsyncCalls {
    IrqSpinLock lock;
    cokernel::abi::CompletionRing* ring = nullptr;  // the kernel's view (direct map)
    uint64_t ring_physical = 0;
    size_t ring_frames = 0;
    uint32_t capacity = 0;
    CallSlot* free_slots = nullptr;
    CallSlot* held_head = nullptr;  // completions waiting for room in the ring, oldest first
    CallSlot* held_tail = nullptr;
    uint32_t in_flight = 0;         // slots not free (running or held)
    // The kernel's copies of the ring's tail and counters (the ring's are published, never read back).
    uint32_t tail = 0;
    uint32_t overflows = 0;
    uint32_t held = 0;
    uint32_t slot_count = 0;
    CallSlot* slots = nullptr;      // slot_count of them, in frames of their own (slot_frames)
    uint64_t slots_physical = 0;
    size_t slot_frames = 0;
    // Control blocks of the work executor this process has reserved (its share, below).
    std::atomic<uint32_t> executor_blocks{0};
};

// One process's share of the work executor (WorkExecutorCapacity blocks, less one spare per
// hart): at most ExecutorShare blocks at once, and the last ExecutorReserve of them only while it
// holds fewer than DefaultCallsInFlight. So however many processes are greedy, a process with at
// most 64 calls in flight finds room until 16 such processes fill the reserve (docs/reliability.md).
constexpr uint32_t ExecutorShare = 512;
constexpr uint32_t ExecutorReserve = 1024;

// What async_setup's frames (ring and slots) cost the process's memory limit, in bytes.
uint64_t async_memory_bytes(const Process& process);

// async_setup(capacity, calls): maps the process's completion ring, `capacity` entries (a power of
// two, 1..MaxCompletionRingCapacity), makes `calls` call slots (1..MaxCallsInFlight; 0: the default,
// DefaultCallsInFlight) and returns the ring's user address. -EINVAL for a bad capacity or count,
// -EEXIST if already done, -ENOMEM.
long async_setup(Thread& thread, uint64_t capacity, uint64_t calls);

// The asynchronous form of a call served by `handler`: a slot, the frame in it, and a first run on
// the calling thread (or, for a socket of the thread model, a hand-over to its connection thread).
// `named_priority` is the waiting coroutine's priority plus one as the submission named it (0: none;
// abi::AsyncPriorityShift). Returns 0 (accepted: a completion will follow) or a negated errno
// (refused: none will).
long submit_async_call(Thread& thread, CallHandler handler, const uint64_t* registers, uint64_t token,
                       uint32_t named_priority = 0);

// async_flush(): moves held completions into the ring while it has room. Returns how many moved.
long async_flush(Thread& thread);

// A finished call (Call::FinalAwaiter, once the frame is gone): its completion goes to the ring, or
// to the held list when the ring is full; then the user is told (user-space interrupt) and the
// call's hold on the process is dropped.
void complete_async_call(CallSlot& slot);

// At the process's teardown (its last hold dropped): unmaps nothing (the address space is gone),
// frees the ring's frames and the state.
void release_async_calls(Process& process);

// Calls in flight for `process` (running or held), for tests and execve.
uint32_t async_calls_in_flight(Process& process);

} // namespace kernel::proc
