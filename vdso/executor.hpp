// The executor: a priority bitmap plus an intrusive FIFO per priority (paper §3.1-3.2).
//
// All state lives in one ExecutorState in the caller's memory, reached through the pointer every
// function takes: no globals, no virtual functions, so the same machine code serves the kernel and,
// later, every process through the vDSO. Every operation is O(1) (no loop depends on how many
// coroutines exist).
//
// Invariants, after every public call returns (checked by executor_check_invariants):
//   * bit p of ready_levels is set  <=>  ready[p] is non-empty;
//   * a block is linked in exactly one queue (ready[priority] or its bound thread's queue) iff Ready;
//   * ready_count = number of Ready unbound blocks; live_count = number of non-Free blocks;
//   * free slots form a singly-linked list through `next`; a block in no queue has next and prev
//     NoIndex otherwise (a Running block's are, which the yield fast path relies on).
// Concurrency: every field marked "guarded" is only touched with `lock` held. ready_levels may be
// read without it (a relaxed peek, used to skip the lock when nothing is ready).
// Highest-priority reporting (paper §4, "update rules"): spawn, wake (re_back), yield, re-prioritise
// and bind/unbind report the highest ready priority through hooks.highest_priority_changed when it
// differs from the last value reported; fetch does not; the poll loop reports NoPriority before idling.
// The hook runs with the lock held, so reports arrive in order; it must not call the executor.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "abi/result.hpp"
#include "vdso/control_block.hpp"
#include "vdso/priority_bitmap.hpp"
#include "abi/spin_lock.hpp"

namespace vdso {

using kernel::Error;
using kernel::Result;

inline constexpr uint32_t PriorityLevels = 64;
inline constexpr uint32_t NoPriority = PriorityLevels; // "nothing ready"

struct FrameAllocator;
struct UserInterruptContext;

// Hooks are plain function pointers plus a context, set by the owner at run time (no relocations).
// A null function pointer means "no hook".
struct ExecutorHooks {
    void (*highest_priority_changed)(void* context, uint32_t priority) = nullptr;
    void* highest_priority_context = nullptr;
    // Poll loop, after each coroutine: true = a higher-priority process is ready, give up the hart.
    bool (*should_yield_hart)(void* context) = nullptr;
    void* should_yield_context = nullptr;
    // Poll loop, nothing ready: block or wait for an interrupt. Returns false to stop the loop.
    bool (*idle)(void* context) = nullptr;
    void* idle_context = nullptr;
    // A cancelled coroutine's owner (ControlBlock::owner), to be destroyed outside the lock.
    void (*release_cancelled)(void* context, void* owner) = nullptr;
    void* release_cancelled_context = nullptr;
};

struct ReadyQueue {
    uint32_t head = NoIndex;
    uint32_t tail = NoIndex;
};

// One per poll thread, in that thread's memory: the private ready queue of coroutines bound to it.
struct PollThread {
    ReadyQueue bound_ready; // guarded by the executor's lock
    // Written under the executor's lock; read without it by its own thread's lock-free peek.
    std::atomic<uint32_t> bound_ready_count{0};
    // Coroutines this thread's poll loop resumed; it asks hooks.should_yield_hart once after each.
    // Written by its own thread only, once per run_until_idle (not per coroutine); read by anyone.
    std::atomic<uint64_t> coroutines_resumed{0};
};

struct ExecutorState {
    SpinLock lock;
    // Guarded by lock:
    ControlBlock* blocks = nullptr;
    uint32_t capacity = 0;
    uint32_t free_head = NoIndex;
    uint32_t live_count = 0;
    uint32_t ready_count = 0;
    uint32_t published_priority = NoPriority; // last value given to highest_priority_changed
    ReadyQueue ready[PriorityLevels];
    PriorityBitmap<PriorityLevels> ready_levels; // writes guarded by lock; relaxed reads allowed
    // Set before the executor is shared, read-only afterwards:
    ExecutorHooks hooks;
    FrameAllocator* frames = nullptr; // where coroutine frames come from (task.hpp)
    // The completion ring this executor's asynchronous calls complete into, with its handler's state
    // (completion.hpp), or null. When set (and its executor is this one), the arm step submits with
    // abi::AsyncDrainsAfterReturnBit and drains the ring itself right after the ecall returns.
    UserInterruptContext* completions = nullptr;
};

// What fetch hands to the poll loop: 16 bytes, so it travels in two registers (the frame to resume
// is block->resume_address; the block cannot be reused while its coroutine is Running).
struct FetchedCoroutine {
    ControlBlock* block = nullptr; // null: nothing ready
    CoroutineId id;
    explicit operator bool() const { return block != nullptr; }
};

enum class WakeStatus : uint8_t {
    Woken,      // was Pending, now Ready
    Duplicate,  // already Ready or Running: nothing to do
    Stale,      // exited or never existed: nothing to do
};

enum class CancelStatus : uint8_t {
    Cancelled, // was Ready or Pending: slot freed, owner returned
    Deferred,  // Running: freed when it next suspends (the poll loop releases the owner)
    Stale,
};

struct CancelOutcome {
    CancelStatus status;
    void* owner = nullptr; // for Cancelled: the caller destroys it
};

// Set up an executor over `capacity` control blocks in caller memory. Hooks and frames may be set
// on `state` afterwards, before the executor is shared.
Result<void> executor_init(ExecutorState& state, ControlBlock* blocks, uint32_t capacity);

// A new Ready coroutine at the tail of its level. NoMemory when the table is full,
// InvalidArgument when priority >= PriorityLevels. If `publish` is given, the new ID and block are
// stored there under the lock, before any other thread can fetch (and resume) the coroutine.
Result<CoroutineId> executor_spawn(ExecutorState& state, void* resume_address, void* owner,
                                   uint32_t priority, CoroutineRef* publish = nullptr);

// Take the highest-priority Ready coroutine (FIFO within a level) and mark it Running. `thread`
// (may be null) offers its bound coroutines too; a bound one wins when at least as urgent.
FetchedCoroutine executor_fetch(ExecutorState& state, PollThread* thread);

// After a fetched coroutine has suspended: apply its SuspendReason (and bind requests).
// Returns the owner of a coroutine whose cancellation was deferred (to release), else null.
void* executor_finish(ExecutorState& state, PollThread* thread, FetchedCoroutine ran);

// finish + fetch under one lock acquisition (the poll loop's step). A plain yield among equals takes
// a fast path (executor_fast_path.hpp, yield_fast): the yielder's level is rotated in O(1) without
// touching the bitmap or the report, with exactly the outcome of finish, then fetch.
FetchedCoroutine executor_finish_and_fetch(ExecutorState& state, PollThread* thread,
                                           FetchedCoroutine ran, void** cancelled_owner);

// The paper's re_back: Pending -> Ready. Harmless on anything else.
WakeStatus executor_wake(ExecutorState& state, CoroutineId id);

// The same, for a caller that holds state.lock (a drain of completions wakes many under one lock).
WakeStatus executor_wake_locked(ExecutorState& state, CoroutineId id);
// Whether a wake of `id` now would make it ready: it is Pending, or Running inside its arm step and
// not yet woken. The caller holds state.lock.
bool executor_wakeable_locked(ExecutorState& state, CoroutineId id);

// Change a live coroutine's priority (a Ready one moves to the tail of its new level).
// InvalidArgument for a bad priority, NotFound for a stale ID.
Result<void> executor_set_priority(ExecutorState& state, CoroutineId id, uint32_t priority);

CancelOutcome executor_cancel(ExecutorState& state, CoroutineId id);

// Ready/Running/Pending for a live ID; Exited for an ID whose slot has moved on; NotFound for an
// ID never issued.
Result<CoroutineState> executor_state_of(ExecutorState& state, CoroutineId id);
Result<uint32_t> executor_priority_of(ExecutorState& state, CoroutineId id);

// Highest ready priority in the shared queues, or NoPriority. Lock-free peek.
inline uint32_t executor_highest_ready(const ExecutorState& state) { return state.ready_levels.highest(); }

// Whether a coroutine of a priority above `priority` is ready in the shared queues. Lock-free peek.
inline bool executor_ready_above(const ExecutorState& state, uint32_t priority) {
    return state.ready_levels.any_more_urgent_than(priority);
}

// Report NoPriority if nothing is ready (the poll loop calls this before idling).
void executor_report_if_idle(ExecutorState& state);

// For tests: the invariants in the header comment. O(capacity).
bool executor_check_invariants(ExecutorState& state);

// The control block of a live ID, or null. Caller must hold the lock or be the coroutine itself.
ControlBlock* executor_live_block(ExecutorState& state, CoroutineId id);

} // namespace vdso
