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
// Every call in flight beyond its first run holds its process (Process::holds, CallSlot::holds_process):
// memory, files and this state outlive the process's threads until the last call has finished.
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

// Where a submission with abi::AsyncResultInRegistersBit finds the completion of a call that ended
// in its first run (on the calling thread, inside submit_async_call): in submit_async_call's frame.
struct InlineCompletion {
    bool ended = false;
    long result = 0;
};

struct CallSlot {
    CallSlot* next = nullptr;   // free list or held list
    Process* process = nullptr;
    uint64_t token = 0;         // the user's completion token (its coroutine's ID)
    long result = 0;
    // The waiter's priority as the submission named it (plus one; 0: none), clamped by call_priority
    // only when it matters: at the call's first wait, or its hand-over to a kernel thread.
    uint8_t named_priority = 0;
    // The call holds its process (Process::holds) from the moment it leaves the calling thread (its
    // first wait, WaitOn, or its hand-over to a kernel thread) to its completion; a call that ends
    // in its first run is covered by the calling thread's own hold and takes none. (Beside
    // named_priority: in its padding, the slot does not grow.)
    bool holds_process = false;
    // Set by submit_async_call for the call's first run when the submitter takes an inline
    // completion in registers; cleared by WaitOn before the call moves to the work executor. While it
    // is set, complete_async_call writes the result there instead of into the ring.
    InlineCompletion* inline_completion = nullptr;
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
    // The submission area (abi::UserSubmissionAreaAddress), frames of the kernel's like the ring.
    cokernel::abi::SubmissionEntry* submissions = nullptr;  // the kernel's view (direct map)
    uint64_t submissions_physical = 0;
    size_t submission_frames = 0;
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
// Returns 0 (accepted: a completion will follow in the ring) or a negated errno (refused: none will).
// With `inline_result` (abi::AsyncResultInRegistersBit), a call that ends in that first run returns
// abi::AsyncCompletedInline and its result in *inline_result, and nothing goes into the ring for it.
// `named_priority` is the waiting coroutine's priority plus one as the submission named it (0: none;
// abi::AsyncPriorityShift).
long submit_async_call(Thread& thread, CallHandler handler, const uint64_t* registers, uint64_t token,
                       long* inline_result = nullptr, uint32_t named_priority = 0);

// async_submit_batch(entries, count, flags): the asynchronous calls of `count` abi::SubmissionEntry
// records at user address `entries`, each exactly as if submitted by its own ecall (flags: the
// AsyncDrainsAfterReturnBit and AsyncResultInRegistersBit of such an ecall), in order; each entry's
// status (and result) is written back. Returns `count`, or -EINVAL for bad flags or a count above
// abi::MaxSubmissionBatch, -EFAULT when the array is not readable and writable user memory (then
// nothing is submitted), -ENXIO without async_setup. `handler_of` gives the asynchronous handler of a
// number (null: -ENOSYS in that entry).
long async_submit_batch(Thread& thread, uint64_t entries, uint64_t count, uint64_t flags,
                        CallHandler (*handler_of)(uint64_t number));

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
