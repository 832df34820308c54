// Completions of asynchronous system calls, on the process side (docs/async-syscalls.md).
//
// A coroutine awaiting an asynchronous call suspends with vdso_async_call_arm as its arm function and its
// AsyncCall record (in its own frame) as the arm context. The arm step, which runs once the
// coroutine has suspended, submits the call with the coroutine's ID as the completion token. The
// kernel later writes {token, result} into the process's completion ring and raises a user-space
// interrupt; whoever drains the ring (the interrupt handler, or a poll thread between coroutines or
// before it idles) hands each result to its coroutine and wakes it.
//
// Safety of the drain: an entry is delivered only to a live coroutine that is suspended in
// vdso_async_call_arm's wait right now (ControlBlock::waits_for_completion set, state Pending, or
// Running inside its arm step). Anything else - an ID from an exited coroutine (its generation moved on), one
// delivered twice, one waiting for something else - is counted as stale and ignored: no result is
// written into a frame that is not waiting for it.
//
// Locking: the drain holds the executor's lock for the whole ring, so drains by several threads (or
// by a handler and a poll loop) never overlap: the ring has one consumer at a time.
#pragma once

#include <atomic>
#include <cstdint>

#include "abi/abi.hpp"
#include "vdso/executor.hpp"

namespace vdso {

// An asynchronous call being awaited: what to submit, and where its result lands.
struct AsyncCall {
    long number = 0;             // the call's number, without abi::AsyncCallBit
    uint64_t arguments[6] = {};
    long result = 0;             // the completion's result, or the submission's refusal (-EAGAIN, ...)
};

} // namespace vdso

// The arm function of a coroutine awaiting `call` (an AsyncCall*): submits it with the coroutine's
// ID as token. A refused submission stores the refusal as the result and wakes the coroutine at once.
// The vDSO exports it as cokernel_async_call_arm (the same address); a process passes that address
// to cokernel_coroutine_record_suspension.
extern "C" void vdso_async_call_arm(void* call, void* executor, uint64_t id);

namespace vdso {

struct DrainOutcome {
    uint32_t delivered = 0; // results handed to their coroutines (each woken)
    uint32_t stale = 0;     // entries for no waiting coroutine: ignored
};

// Consumes every entry of `ring` (taking the executor's lock). The caller then wakes idle poll
// threads if anything was delivered, and calls async_flush if ring.held is not zero.
DrainOutcome completion_drain(ExecutorState& executor, cokernel::abi::CompletionRing& ring);
// The same without waiting for the lock, for a handler that may have interrupted the lock's holder
// on its own thread: false when it found the lock held, at the first round or at a later one (after
// async_flush moved held completions in, when another thread may have taken the lock meanwhile).
// Either way `outcome` holds what it delivered: those coroutines are woken and must be counted.
bool completion_try_drain(ExecutorState& executor, cokernel::abi::CompletionRing& ring, DrainOutcome& outcome);

// Whether the ring has entries (a relaxed peek, no lock).
inline bool completion_pending(const cokernel::abi::CompletionRing& ring) {
    return __atomic_load_n(&ring.tail, __ATOMIC_ACQUIRE) != __atomic_load_n(&ring.head, __ATOMIC_RELAXED);
}

// Armed calls waiting to be submitted together by one async_submit_batch (docs/async-syscalls.md,
// "Batched submission"). The arm step appends its call (the coroutine stays Pending, waiting for its
// completion); the poll loop submits the batch before it runs out of coroutines (before it idles or
// yields its hart), and the arm step when the batch is full. One flusher at a time: while a batch is
// being submitted, arm steps on other threads submit their calls directly.
struct SubmissionBatch {
    SpinLock lock;          // guards count and flushing (never held across a system call)
    uint32_t count = 0;
    bool flushing = false;  // entries[0 .. count) are in a system call: nothing is appended
    // Set before the batch is used: the process's submission area (abi::UserSubmissionAreaAddress,
    // which the kernel reads in place) or any memory of the process's.
    uint32_t capacity = 0;
    cokernel::abi::SubmissionEntry* entries = nullptr;
};

// The bits of UserInterruptContext::deferred.
constexpr uint32_t DeferredDrain = 1;
constexpr uint32_t BatchWaiting = 2;
constexpr uint32_t BatchFresh = 4;

// What the user-interrupt handler works on: uscratch holds its address (docs/user-interrupts.md).
struct UserInterruptContext {
    ExecutorState* executor = nullptr;
    cokernel::abi::CompletionRing* ring = nullptr;
    // Work left to the poll loop's next step between two coroutines (the runtime's hart-yield hook
    // looks at this one word, zero in the common case, and then calls completion_poll):
    // DeferredDrain when the handler found the executor's lock held (perhaps by the very code it
    // interrupted), BatchWaiting while the batch holds calls, BatchFresh when the coroutine that just
    // suspended added one (the batch is submitted at the first step after a coroutine that added none).
    std::atomic<uint32_t> deferred{0};
    // Called by the handler after it has delivered results (no lock held): wakes idle poll threads.
    void (*after_delivery)(void* argument, uint32_t delivered) = nullptr;
    void* after_delivery_argument = nullptr;
    // Counters, for tests and measurements.
    std::atomic<uint64_t> interrupts{0}; // handler runs
    std::atomic<uint64_t> upcalls{0};    // of `interrupts`: delivered as upcalls (the upcall entry)
    std::atomic<uint64_t> delivered{0};  // results handed out (handler, poll loops, arm steps, batches)
    std::atomic<uint64_t> stale{0};      // entries ignored: no coroutine waiting for them
    std::atomic<uint64_t> drained_after_submission{0}; // of `delivered`: by the arm step's drain
    std::atomic<uint64_t> completed_inline{0}; // of `delivered`: ended in their own submission, from a1
    // Where the arm step collects calls for batched submission (with executor->completions == this),
    // or null: each call is its own ecall.
    SubmissionBatch* batch = nullptr;
    std::atomic<uint64_t> batches{0};        // async_submit_batch calls made
    std::atomic<uint64_t> batched_calls{0};  // calls submitted in them
};

// The body of the user-interrupt handler (vdso/user_interrupt_entry.S saves and restores the
// interrupted registers around it): clears uip.USIP, drains the ring or defers, flushes held
// completions into the ring.
void user_interrupt_handler(UserInterruptContext& context);
// The same work as the body of an upcall (vdso/user_interrupt_entry.S, the upcall entry;
// docs/user-interrupts.md, "Upcall delivery"): the kernel took USIP and saved the interrupted
// registers, so it only drains the ring or defers, and flushes held completions.
void user_interrupt_upcall_handler(UserInterruptContext& context);

// The poll loop's part: drains if the ring has entries or a handler deferred, and submits the batch
// if the coroutine that just suspended added nothing to it. Returns what it delivered (0 when there
// was nothing). Calls async_flush while completions are held.
uint32_t completion_poll(UserInterruptContext& context);

// The arm step's drain, right after its submission returned (abi::AsyncDrainsAfterReturnBit): the
// kernel raised no interrupt for what it posted during that system call, so it is taken here.
// completion_poll, then the wake-up of idle poll threads if anything was delivered.
void drain_after_submission(UserInterruptContext& context);

// Whether context.batch holds calls to submit (a relaxed peek, no lock).
inline bool batch_pending(const UserInterruptContext& context) {
    return context.batch != nullptr && __atomic_load_n(&context.batch->count, __ATOMIC_RELAXED) != 0;
}

// Submits the batch's calls with one async_submit_batch (unless another thread is submitting it),
// hands every call that ended in its submission or was refused its result (waking its coroutine),
// then drains the ring as after any submission. Returns the coroutines woken (by results and by
// the drain). Called with no executor lock held.
uint32_t submit_batch(UserInterruptContext& context);

// The poll loop's part: before it runs out of work or yields its hart. True if coroutines were woken.
inline bool flush_submissions(ExecutorState& state) {
    UserInterruptContext* const context = state.completions;
    return context != nullptr && batch_pending(*context) && submit_batch(*context) != 0;
}

} // namespace vdso
