// CoroutineId and ControlBlock: the executor's record of one coroutine.
//
// A CoroutineId is (generation << 32) | index into the caller-provided control-block table. A slot's
// generation grows every time the slot is freed, so an ID outlives its coroutine harmlessly: a
// lookup whose generation differs from the slot's finds nothing, and the operation reports Stale.
// Generation 0 is never issued, so CoroutineId{} (value 0) is never a live coroutine.
//
// States (paper §3.3.1):  spawn -> Ready -> (fetch) -> Running -> yield -> Ready
//                                                       Running -> wait  -> Pending -> (wake) -> Ready
//                                                       Running -> exit  -> Exited (slot freed)
// cancel: Ready/Pending -> Exited at once; Running -> Exited when it next suspends.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace vdso {

struct ExecutorState;
struct PollThread;

struct CoroutineId {
    uint64_t value = 0;

    static constexpr CoroutineId make(uint32_t index, uint32_t generation) {
        return CoroutineId{(uint64_t{generation} << 32) | index};
    }
    constexpr uint32_t index() const { return static_cast<uint32_t>(value); }
    constexpr uint32_t generation() const { return static_cast<uint32_t>(value >> 32); }
    constexpr bool is_null() const { return value == 0; }
    friend constexpr bool operator==(CoroutineId, CoroutineId) = default;
};

enum class CoroutineState : uint8_t { Free, Ready, Running, Pending, Exited };

// What the running coroutine asks the poll loop to do with it once it has suspended.
enum class SuspendReason : uint8_t {
    Wait,  // become Pending until woken (the default: a suspension nobody explained is a wait)
    Yield, // back to the tail of its ready queue
    Exit,  // finished: free the slot
};

// Runs on the poll thread once a coroutine that waits has suspended (its frame is quiescent), before
// the executor marks it Pending; it hands the coroutine's ID to whatever will wake it (an event's list,
// a join handle, a system-call submission). A wake that arrives while `arm` runs is remembered
// (wake_pending), so it is never lost; any other wake of a Running coroutine is a duplicate.
using ArmFunction = void (*)(void* arm_context, ExecutorState* executor, CoroutineId id);

inline constexpr uint32_t NoIndex = 0xffff'ffffu;

// One cache line per coroutine: no block straddles two lines, and harts working on neighbouring
// coroutines do not share a line.
// Besides the states above: `next` and `prev` are NoIndex while a block is not in a ready queue
// (next is the free-list link while Free); `arm` is null except between a suspension that records
// one and the poll loop running it.
struct alignas(64) ControlBlock {
    // Guarded by ExecutorState::lock, except that resume_address is also written by the coroutine
    // itself while Running (the innermost suspended frame of a chain of awaited tasks).
    void* resume_address;  // std::coroutine_handle<>::address() of the frame to resume
    void* owner;           // opaque to the executor; handed back when the coroutine is cancelled
    PollThread* bound;     // non-null: runs only on this poll thread (its private ready queue)
    // Written by the coroutine while Running (only its own poll thread reads them, after resume).
    ArmFunction arm;
    void* arm_context;
    // Guarded by ExecutorState::lock.
    uint32_t generation;
    uint32_t next;    // ready-queue link, or free-list link while Free
    uint32_t prev;    // ready-queue link
    uint8_t priority; // 0 = highest
    CoroutineState state;
    bool wake_pending;     // woken while arming: Ready instead of Pending at finish
    // Set by the poll thread (without the lock) while it runs `arm`; read by wakers under the lock.
    // A wake of a Running coroutine counts only inside this window: it was handed out by `arm`.
    // Outside it, a wake of a Running coroutine is a duplicate and is ignored.
    std::atomic<bool> arming;
    // The suspension word: eight bytes the poll loop reads as one (suspension_word).
    // Written by the coroutine while Running, like arm:
    SuspendReason suspend_reason;
    bool bind_request;     // bind to the current poll thread when it next suspends
    bool unbind_request;
    // Guarded by ExecutorState::lock:
    bool cancel_requested; // cancelled while Running: freed when it next suspends
    bool is_bound;         // bound != nullptr (kept by set_bound), so that the word covers it
    // 1 while the coroutine waits for the completion of an asynchronous call (vdso/completion.hpp):
    // set by the call's arm step before it submits, cleared by the drain that delivers the result
    // (under the lock), or by the arm step if the call is refused; 0 in a new coroutine.
    uint8_t waits_for_completion;
    uint8_t reserved[2];
};
static_assert(sizeof(ControlBlock) == 64, "a control block is one cache line");
static_assert(offsetof(ControlBlock, suspend_reason) % 8 == 0 &&
                  offsetof(ControlBlock, reserved) + 2 == offsetof(ControlBlock, suspend_reason) + 8,
              "the suspension word is eight aligned bytes");

// The suspension word: suspend_reason, the bind, unbind and cancel requests and is_bound as one
// 64-bit load. It equals PlainYieldWord exactly when the coroutine yielded, nothing else was asked
// of it (no binding change, no cancellation) and it is not bound: the poll loop's yield fast path.
inline uint64_t suspension_word(const ControlBlock& block) {
    const void* bytes = reinterpret_cast<const unsigned char*>(&block) + offsetof(ControlBlock, suspend_reason);
    uint64_t word;
    __builtin_memcpy(&word, __builtin_assume_aligned(bytes, 8), sizeof word);
    return word;
}
struct SuspensionBytes {
    unsigned char bytes[8];
};
inline constexpr uint64_t PlainYieldWord = __builtin_bit_cast(
    uint64_t, SuspensionBytes{{static_cast<unsigned char>(SuspendReason::Yield), 0, 0, 0, 0, 0, 0, 0}});
// The requests alone (suspension word without is_bound): PlainYieldWord for a plain yield of a
// bound or unbound coroutine.
inline constexpr uint64_t SuspensionRequestMask = __builtin_bit_cast(
    uint64_t, SuspensionBytes{{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0}});
static_assert(static_cast<unsigned char>(SuspendReason::Wait) == 0, "a cleared suspension means Wait");

// Back to "suspends to wait, nothing asked" (what a coroutine that does not record its suspension
// gets). One 32-bit store (is_bound stays).
inline void clear_suspension(ControlBlock& block) {
    block.suspend_reason = SuspendReason::Wait;
    block.bind_request = false;
    block.unbind_request = false;
    block.cancel_requested = false;
}

// The only way `bound` changes (with the executor's lock held).
inline void set_bound(ControlBlock& block, PollThread* thread) {
    block.bound = thread;
    block.is_bound = thread != nullptr;
}

// A live coroutine as its own code sees it: its block (stable while it lives) and its ID.
struct CoroutineRef {
    ControlBlock* block = nullptr;
    CoroutineId id;
};

} // namespace vdso
