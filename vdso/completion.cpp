#include "vdso/completion.hpp"

#include "abi/syscall_list.hpp"

namespace vdso {

namespace abi = cokernel::abi;

namespace {

#if defined(__riscv)
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
extern "C" long cokernel_host_system_call(long number, const uint64_t* arguments, uint64_t token);
namespace vdso {
namespace {
long system_call(long number, const uint64_t* arguments, uint64_t token) {
    return cokernel_host_system_call(number, arguments, token);
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
    // The waiting coroutine's priority goes with the call: the kernel serves it at that priority
    // (clamped to the process's cap).
    const long number = call.number | vdso::abi::AsyncCallBit | (completions ? vdso::abi::AsyncDrainsAfterReturnBit : 0) |
                        (static_cast<long>(block.priority) + 1) << vdso::abi::AsyncPriorityShift;
    const long status = vdso::system_call(number, call.arguments, id);
    if (status != 0) {
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

void user_interrupt_handler(UserInterruptContext& context) {
    clear_user_software_interrupt(); // first: a completion posted from here on raises it again
    context.interrupts.fetch_add(1, std::memory_order_relaxed);
    if (context.executor == nullptr || context.ring == nullptr) return;
    DrainOutcome outcome;
    if (!completion_try_drain(*context.executor, *context.ring, outcome)) {
        context.deferred.store(1, std::memory_order_release);
        return;
    }
    count(context, outcome);
    if (outcome.delivered != 0 && context.after_delivery != nullptr)
        context.after_delivery(context.after_delivery_argument, outcome.delivered);
}

uint32_t completion_poll(UserInterruptContext& context) {
    if (context.executor == nullptr || context.ring == nullptr) return 0;
    const bool deferred = context.deferred.load(std::memory_order_acquire) != 0;
    if (!deferred && !completion_pending(*context.ring) && __atomic_load_n(&context.ring->held, __ATOMIC_ACQUIRE) == 0)
        return 0;
    context.deferred.store(0, std::memory_order_relaxed);
    const DrainOutcome outcome = completion_drain(*context.executor, *context.ring);
    count(context, outcome);
    return outcome.delivered;
}

void drain_after_submission(UserInterruptContext& context) {
    const uint32_t delivered = completion_poll(context);
    if (delivered == 0) return;
    context.drained_after_submission.fetch_add(delivered, std::memory_order_relaxed);
    if (context.after_delivery != nullptr) context.after_delivery(context.after_delivery_argument, delivered);
}

} // namespace vdso
