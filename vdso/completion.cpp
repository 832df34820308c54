#include "vdso/completion.hpp"

#include "abi/syscall_list.hpp"

namespace vdso {

namespace abi = cokernel::abi;

namespace {

// What an ecall returns: a0, and a1 (an asynchronous call that ended in its submission leaves
// its result there: abi::AsyncCompletedInline).
struct Returned {
    long a0;
    long a1;
};

#if defined(__riscv)
Returned system_call2(long number, const uint64_t* arguments, uint64_t token) {
    register long a0 asm("a0") = static_cast<long>(arguments[0]);
    register long a1 asm("a1") = static_cast<long>(arguments[1]);
    register long a2 asm("a2") = static_cast<long>(arguments[2]);
    register long a3 asm("a3") = static_cast<long>(arguments[3]);
    register long a4 asm("a4") = static_cast<long>(arguments[4]);
    register long a5 asm("a5") = static_cast<long>(arguments[5]);
    register long a6 asm("a6") = static_cast<long>(token);
    register long a7 asm("a7") = number;
    asm volatile("ecall"
                 : "+r"(a0), "+r"(a1)
                 : "r"(a2), "r"(a3), "r"(a4), "r"(a5), "r"(a6), "r"(a7)
                 : "memory");
    return {a0, a1};
}

long system_call(long number, const uint64_t* arguments, uint64_t token) {
    register long a0 asm("a0") = static_cast<long>(arguments[0]);
    register long a1 asm("a1") = static_cast<long>(arguments[1]);
    register long a2 asm("a2") = static_cast<long>(arguments[2]);
    register long a3 asm("a3") = static_cast<long>(arguments[3]);
    register long a4 asm("a4") = static_cast<long>(arguments[4]);
    register long a5 asm("a5") = static_cast<long>(arguments[5]);
    register long a6 asm("a6") = static_cast<long>(token);
    register long a7 asm("a7") = number;
    asm volatile("ecall"
                 : "+r"(a0)
                 : "r"(a1), "r"(a2), "r"(a3), "r"(a4), "r"(a5), "r"(a6), "r"(a7)
                 : "memory");
    return a0;
}

// uip.USIP is cleared by the handler, as on hardware (an emulated CSR access on harts without N).
void clear_user_software_interrupt() { asm volatile("csrc 0x044, 1" ::: "memory"); }
#else
} // namespace
} // namespace vdso
// Host builds (unit tests) have no kernel: the test provides the system calls.
// `second` receives what the kernel would leave in a1. A weak default (-ENOSYS) for the host tests
// that link the poll loop but never submit (the poll loop reaches submit_batch).
extern "C" [[gnu::weak]] long cokernel_host_system_call(long, const uint64_t*, uint64_t, long*) { return -38; }
namespace vdso {
namespace {
Returned system_call2(long number, const uint64_t* arguments, uint64_t token) {
    long second = 0;
    const long first = cokernel_host_system_call(number, arguments, token, &second);
    return {first, second};
}
long system_call(long number, const uint64_t* arguments, uint64_t token) {
    return system_call2(number, arguments, token).a0;
}
void clear_user_software_interrupt() {}
#endif

long async_flush() {
    const uint64_t none[6] = {};
    return system_call(abi::AsyncFlush, none, 0);
}

// Under the executor's lock: hands out every entry of the ring.
void drain_locked(ExecutorState& executor, abi::CompletionRing& ring, DrainOutcome& outcome) {
    const uint32_t capacity = __atomic_load_n(&ring.capacity, __ATOMIC_RELAXED);
    if (capacity == 0 || (capacity & (capacity - 1)) != 0) return; // not a ring the kernel set up
    abi::CompletionEntry* entries = abi::ring_entries(&ring);
    uint32_t head = __atomic_load_n(&ring.head, __ATOMIC_RELAXED);
    uint32_t tail = __atomic_load_n(&ring.tail, __ATOMIC_ACQUIRE);
    while (head != tail) {
        const abi::CompletionEntry entry = entries[head & (capacity - 1)];
        ++head;
        __atomic_store_n(&ring.head, head, __ATOMIC_RELEASE); // the kernel may reuse the entry now
        const CoroutineId id{entry.token};
        ControlBlock* block = executor_wakeable_locked(executor, id) ? executor_live_block(executor, id) : nullptr;
        if (block != nullptr && __atomic_load_n(&block->waits_for_completion, __ATOMIC_RELAXED) != 0) {
            // Suspended in vdso_async_call_arm's wait: arm_context is its AsyncCall.
            __atomic_store_n(&block->waits_for_completion, 0, __ATOMIC_RELAXED);
            static_cast<AsyncCall*>(block->arm_context)->result = entry.result;
            (void)executor_wake_locked(executor, id);
            ++outcome.delivered;
        } else {
            ++outcome.stale;
        }
        if (head == tail) tail = __atomic_load_n(&ring.tail, __ATOMIC_ACQUIRE);
    }
}

// After a drain: completions the kernel held for want of room come in now that there is room.
bool flush_held(abi::CompletionRing& ring) {
    return __atomic_load_n(&ring.held, __ATOMIC_ACQUIRE) != 0 && async_flush() > 0;
}

void count(UserInterruptContext& context, const DrainOutcome& outcome) {
    if (outcome.delivered) context.delivered.fetch_add(outcome.delivered, std::memory_order_relaxed);
    if (outcome.stale) context.stale.fetch_add(outcome.stale, std::memory_order_relaxed);
}

// Under the executor's lock: the result of a call of `block`'s (Running in its arm step, or Pending
// with its call in a batch) that needs no ring entry: it ended in its submission, or was refused.
// Only while the coroutine still waits for it (a forged ring entry bearing its ID may have been
// delivered first: that one stands).
bool deliver_locked(ExecutorState& executor, ControlBlock& block, CoroutineId id, long result) {
    if (__atomic_load_n(&block.waits_for_completion, __ATOMIC_RELAXED) == 0) return false;
    __atomic_store_n(&block.waits_for_completion, 0, __ATOMIC_RELAXED);
    static_cast<AsyncCall*>(block.arm_context)->result = result;
    return executor_wake_locked(executor, id) == WakeStatus::Woken;
}

// The arm step's part of batching: appends the call to the batch unless it is being submitted (then
// false: the caller submits the call itself). A full batch is submitted first.
bool append_to_batch(UserInterruptContext& context, const AsyncCall& call, uint64_t id) {
    SubmissionBatch& batch = *context.batch;
    for (int attempt = 0; attempt < 2; ++attempt) {
        batch.lock.lock();
        if (batch.flushing) {
            batch.lock.unlock();
            return false;
        }
        if (batch.count < batch.capacity) {
            abi::SubmissionEntry& entry = batch.entries[batch.count];
            entry.number = call.number;
            entry.token = id;
            for (int i = 0; i < 6; ++i) entry.arguments[i] = call.arguments[i];
            __atomic_store_n(&batch.count, batch.count + 1, __ATOMIC_RELAXED);
            context.deferred.fetch_or(BatchWaiting | BatchFresh, std::memory_order_relaxed);
            batch.lock.unlock();
            return true;
        }
        batch.lock.unlock();
        (void)submit_batch(context);
    }
    return false;
}

} // namespace

} // namespace vdso

extern "C" [[gnu::used]] void vdso_async_call_arm(void* context, void* executor, uint64_t id) {
    auto& call = *static_cast<vdso::AsyncCall*>(context);
    auto& state = *static_cast<vdso::ExecutorState*>(executor);
    // The poll thread runs this for the coroutine (it is Running, arming): its block is stable. Marked
    // before the submission: the completion may be drained before the ecall has even returned (its
    // user interrupt is delivered on that return), on this thread or another.
    vdso::ControlBlock& block = *vdso::executor_live_block(state, vdso::CoroutineId{id});
    __atomic_store_n(&block.waits_for_completion, 1, __ATOMIC_RELAXED);
    // With a ring of this executor's, the submission promises to drain it on return: the kernel then
    // raises no user interrupt for what it posts before this ecall returns (the call ending inline,
    // or calls that kernel coroutines finish on the way back), and the drain below finds it all.
    vdso::UserInterruptContext* const completions =
        state.completions != nullptr && state.completions->executor == &state ? state.completions : nullptr;
    // With a batch: the call waits there for the poll loop's next submission of the batch (the
    // coroutine is Pending meanwhile, as if the kernel already had it).
    // Only when more is to come: other coroutines are ready (their calls may join), or the batch
    // already holds calls; the last call of a round submits the batch at once.
    if (completions != nullptr && completions->batch != nullptr &&
        (vdso::batch_pending(*completions) || vdso::executor_highest_ready(state) != vdso::NoPriority) &&
        vdso::append_to_batch(*completions, call, id)) {
        if (vdso::executor_highest_ready(state) == vdso::NoPriority) (void)vdso::submit_batch(*completions);
        return;
    }
    // A call that ends within the submission comes back in registers (never also in the ring).
    // The waiting coroutine's priority goes with the call: the kernel serves it at that priority
    // (clamped to the process's cap).
    const long number = call.number | vdso::abi::AsyncCallBit | vdso::abi::AsyncResultInRegistersBit |
                        (completions ? vdso::abi::AsyncDrainsAfterReturnBit : 0) |
                        (static_cast<long>(block.priority) + 1) << vdso::abi::AsyncPriorityShift;
    const vdso::Returned returned = vdso::system_call2(number, call.arguments, id);
    const long status = returned.a0;
    if (status == vdso::abi::AsyncCompletedInline) [[likely]] {
        // The result is here: the coroutine resumes as if it had yielded (the yield fast path), its
        // wait is over before anyone could deliver to it. Under the lock: a drain elsewhere may be
        // looking at waits_for_completion for an entry bearing this ID (only a forged or duplicated
        // token: the kernel posts nothing for this call); if one already woke it, it stays woken.
        state.lock.lock();
        __atomic_store_n(&block.waits_for_completion, 0, __ATOMIC_RELAXED);
        if (!block.wake_pending) {
            block.arming.store(false, std::memory_order_relaxed);
            block.suspend_reason = vdso::SuspendReason::Yield;
        }
        state.lock.unlock();
        call.result = returned.a1; // after the lock: a forged delivery before it wrote here too
        if (completions != nullptr) {
            completions->delivered.fetch_add(1, std::memory_order_relaxed);
            completions->completed_inline.fetch_add(1, std::memory_order_relaxed);
        }
    } else if (status != 0) {
        // Refused: no completion will come for this call (others may have: drained below).
        state.lock.lock();
        __atomic_store_n(&block.waits_for_completion, 0, __ATOMIC_RELAXED);
        state.lock.unlock();
        call.result = status;
        (void)vdso::executor_wake(state, vdso::CoroutineId{id});
    }
    if (completions != nullptr) vdso::drain_after_submission(*completions);
}

#if defined(COKERNEL_VDSO_IMAGE)
// The exported name of the same function (one address: the drain recognises it).
extern "C" __attribute__((visibility("default"), alias("vdso_async_call_arm"))) void
cokernel_async_call_arm(void* call, void* executor, uint64_t id);

// Called by vdso/user_interrupt_entry.S with uscratch (the UserInterruptContext).
extern "C" [[gnu::used]] void vdso_user_interrupt_dispatch(void* context) {
    vdso::user_interrupt_handler(*static_cast<vdso::UserInterruptContext*>(context));
}
// Called by cokernel_user_interrupt_upcall_entry with the context the kernel put in a0.
extern "C" [[gnu::used]] void vdso_user_interrupt_upcall_dispatch(void* context) {
    vdso::user_interrupt_upcall_handler(*static_cast<vdso::UserInterruptContext*>(context));
}
#endif

namespace vdso {

DrainOutcome completion_drain(ExecutorState& executor, abi::CompletionRing& ring) {
    DrainOutcome outcome;
    do {
        ScopedLock<SpinLock> guard(executor.lock);
        drain_locked(executor, ring, outcome);
    } while (flush_held(ring));
    return outcome;
}

bool completion_try_drain(ExecutorState& executor, abi::CompletionRing& ring, DrainOutcome& outcome) {
    do {
        if (!executor.lock.try_lock()) return false;
        drain_locked(executor, ring, outcome);
        executor.lock.unlock();
    } while (flush_held(ring));
    return true;
}

namespace {

// Both handlers' work once USIP is clear: drain the ring, or defer to the poll loop.
void handle_user_interrupt(UserInterruptContext& context) {
    context.interrupts.fetch_add(1, std::memory_order_relaxed);
    if (context.executor == nullptr || context.ring == nullptr) return;
    DrainOutcome outcome;
    // The lock found taken defers the rest to the poll loop; what earlier rounds delivered (before an
    // async_flush brought more) still counts, and its coroutines are Ready: idle threads are told.
    if (!completion_try_drain(*context.executor, *context.ring, outcome))
        context.deferred.fetch_or(DeferredDrain, std::memory_order_release);
    count(context, outcome);
    if (outcome.delivered != 0 && context.after_delivery != nullptr)
        context.after_delivery(context.after_delivery_argument, outcome.delivered);
}

} // namespace

void user_interrupt_handler(UserInterruptContext& context) {
    clear_user_software_interrupt(); // first: a completion posted from here on raises it again
    handle_user_interrupt(context);
}

void user_interrupt_upcall_handler(UserInterruptContext& context) {
    context.upcalls.fetch_add(1, std::memory_order_relaxed);
    handle_user_interrupt(context); // the kernel cleared USIP at the delivery, with the same effect
}

namespace {

// completion_poll once it has found something to do: out of line, so that the common case (nothing
// deferred, the ring empty, nothing held) needs no stack frame in the poll loop and the arm step.
[[gnu::noinline]] uint32_t completion_poll_work(UserInterruptContext& context, uint32_t deferred) {
    if ((deferred & (BatchWaiting | BatchFresh)) != 0) [[unlikely]] {
        // A coroutine added to the batch: keep collecting; after one that added nothing, submit
        // (submit_batch drains the ring too).
        if ((deferred & BatchFresh) != 0) {
            context.deferred.fetch_and(~BatchFresh, std::memory_order_relaxed);
        } else if (context.batch != nullptr) {
            if ((deferred & DeferredDrain) != 0) context.deferred.fetch_and(~DeferredDrain, std::memory_order_relaxed);
            return submit_batch(context);
        }
    }
    if ((deferred & DeferredDrain) == 0 && !completion_pending(*context.ring) &&
        __atomic_load_n(&context.ring->held, __ATOMIC_ACQUIRE) == 0)
        return 0;
    if ((deferred & DeferredDrain) != 0) context.deferred.fetch_and(~DeferredDrain, std::memory_order_relaxed);
    const DrainOutcome outcome = completion_drain(*context.executor, *context.ring);
    count(context, outcome);
    return outcome.delivered;
}

} // namespace

uint32_t completion_poll(UserInterruptContext& context) {
    if (context.executor == nullptr || context.ring == nullptr) return 0;
    const uint32_t deferred = context.deferred.load(std::memory_order_acquire);
    if (deferred == 0 && !completion_pending(*context.ring) && __atomic_load_n(&context.ring->held, __ATOMIC_ACQUIRE) == 0)
        return 0;
    return completion_poll_work(context, deferred);
}

// Out of line and cold: inlined (the vDSO is linked with LTO) it would cost the poll loop's hot
// path registers.
[[gnu::noinline, gnu::cold]] uint32_t submit_batch(UserInterruptContext& context) {
    SubmissionBatch& batch = *context.batch;
    batch.lock.lock();
    const uint32_t count = batch.count;
    if (batch.flushing || count == 0) {
        batch.lock.unlock();
        return 0;
    }
    batch.flushing = true;
    batch.lock.unlock();
    // The entries are this thread's until flushing is cleared: no lock is held over the ecall.
    const uint64_t arguments[6] = {reinterpret_cast<uint64_t>(batch.entries), count,
                                   static_cast<uint64_t>(abi::AsyncDrainsAfterReturnBit | abi::AsyncResultInRegistersBit)};
    const long submitted = system_call(abi::AsyncSubmitBatch, arguments, 0);
    uint32_t woken = 0;
    {
        ExecutorState& executor = *context.executor;
        ScopedLock<SpinLock> guard(executor.lock);
        for (uint32_t i = 0; i < count; ++i) {
            const abi::SubmissionEntry& entry = batch.entries[i];
            // The whole batch refused (never for the vDSO's own array): every call gets the refusal.
            const long status = submitted < 0 ? submitted : entry.status;
            if (status == 0) continue; // accepted: its completion comes through the ring
            const CoroutineId id{entry.token};
            ControlBlock* block = executor_live_block(executor, id);
            if (block == nullptr) continue; // cancelled meanwhile
            woken += deliver_locked(executor, *block, id, status == abi::AsyncCompletedInline ? entry.result : status);
        }
    }
    batch.lock.lock();
    __atomic_store_n(&batch.count, 0, __ATOMIC_RELAXED);
    batch.flushing = false;
    context.deferred.fetch_and(~(BatchWaiting | BatchFresh), std::memory_order_relaxed);
    batch.lock.unlock();
    context.batches.fetch_add(1, std::memory_order_relaxed);
    context.batched_calls.fetch_add(count, std::memory_order_relaxed);
    if (woken != 0) {
        context.delivered.fetch_add(woken, std::memory_order_relaxed);
        if (context.after_delivery != nullptr) context.after_delivery(context.after_delivery_argument, woken);
    }
    const uint32_t drained = completion_poll(context);
    if (drained != 0) {
        context.drained_after_submission.fetch_add(drained, std::memory_order_relaxed);
        if (context.after_delivery != nullptr) context.after_delivery(context.after_delivery_argument, drained);
    }
    return woken + drained;
}

void drain_after_submission(UserInterruptContext& context) {
    const uint32_t delivered = completion_poll(context);
    if (delivered == 0) return;
    context.drained_after_submission.fetch_add(delivered, std::memory_order_relaxed);
    if (context.after_delivery != nullptr) context.after_delivery(context.after_delivery_argument, delivered);
}

} // namespace vdso
