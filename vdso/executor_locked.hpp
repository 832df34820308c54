// The executor's steps that run with ExecutorState::lock held: queue links, the highest-priority
// report, fetch and finish (the yield fast path is apart, in executor_fast_path.hpp). Internal to
// vdso/: executor.cpp builds its public operations from them, and the poll loop (poll_loop.cpp) compiles finish + fetch into its own loop.
// Every function here keeps the invariants of executor.hpp when its caller's critical section ends.
#pragma once

#include <atomic>
#include <cstdint>

#include "vdso/executor.hpp"

namespace vdso::locked {

[[gnu::always_inline]] inline ReadyQueue& queue_of(ExecutorState& state, ControlBlock& block) {
    return block.bound != nullptr ? block.bound->bound_ready : state.ready[block.priority];
}

[[gnu::always_inline]] inline uint32_t index_of(const ExecutorState& state, const ControlBlock& block) {
    return static_cast<uint32_t>(&block - state.blocks);
}

// The ID of a live block (its generation cannot change while it is not Free).
[[gnu::always_inline]] inline CoroutineId id_of(const ExecutorState& state, const ControlBlock& block) {
    return CoroutineId::make(index_of(state, block), block.generation);
}

// Link a block at the tail of its queue and mark it Ready. Keeps "bit p <=> ready[p] non-empty".
// The block is not in a queue, so its next and prev are NoIndex already.
[[gnu::always_inline]] inline void push_ready(ExecutorState& state, ControlBlock& block, uint32_t index) {
    ReadyQueue& queue = queue_of(state, block);
    block.state = CoroutineState::Ready;
    block.prev = queue.tail;
    if (queue.tail == NoIndex) {
        queue.head = index;
        if (block.bound == nullptr) state.ready_levels.set(block.priority);
    } else {
        state.blocks[queue.tail].next = index;
    }
    queue.tail = index;
    if (block.bound != nullptr) {
        std::atomic<uint32_t>& count = block.bound->bound_ready_count;
        count.store(count.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    } else {
        ++state.ready_count;
    }
}

// Unlink a Ready block from wherever it is in its queue (head for fetch, anywhere for cancel).
[[gnu::always_inline]] inline void unlink_ready(ExecutorState& state, ControlBlock& block) {
    ReadyQueue& queue = queue_of(state, block);
    if (block.prev == NoIndex) {
        queue.head = block.next;
    } else {
        state.blocks[block.prev].next = block.next;
    }
    if (block.next == NoIndex) {
        queue.tail = block.prev;
    } else {
        state.blocks[block.next].prev = block.prev;
    }
    block.next = block.prev = NoIndex;
    if (block.bound != nullptr) {
        std::atomic<uint32_t>& count = block.bound->bound_ready_count;
        count.store(count.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
    } else {
        --state.ready_count;
        if (queue.head == NoIndex) state.ready_levels.clear(block.priority);
    }
}

// The paper's rule: after spawn / re_back (and yield, re-prioritise), report the highest ready
// priority if it changed. A bound coroutine made ready counts with its own priority.
[[gnu::always_inline]] inline void report_highest(ExecutorState& state, uint32_t also_ready = NoPriority) {
    uint32_t highest = state.ready_levels.highest();
    if (also_ready < highest) highest = also_ready;
    if (highest == state.published_priority) return;
    state.published_priority = highest;
    if (state.hooks.highest_priority_changed != nullptr) {
        state.hooks.highest_priority_changed(state.hooks.highest_priority_context, highest);
    }
}

// After `block` became Ready. Common case first, without a count of trailing zeros: the last report
// is its level and nothing more urgent is ready, so the highest is still the last report.
[[gnu::always_inline]] inline void report_after_ready(ExecutorState& state, const ControlBlock& block) {
    const uint32_t level = block.priority;
    if (state.published_priority == level && !state.ready_levels.any_more_urgent_than_level(level)) return;
    report_highest(state, block.bound != nullptr ? level : NoPriority);
}

// A Ready block leaves its queue and runs: Running, nothing asked of it yet.
[[gnu::always_inline]] inline void mark_running(ControlBlock& block) {
    block.state = CoroutineState::Running;
    clear_suspension(block);
}

// Fetch's unlink: `block` is the head of `queue` (so its prev is NoIndex) and leaves it Running.
// `level` is its level for a shared queue (its bitmap bit is cleared when the queue empties), or
// NoPriority for a thread's bound queue. The caller adjusts the queue's count.
[[gnu::always_inline]] inline void take_head(ExecutorState& state, ReadyQueue& queue, ControlBlock& block,
                                             uint32_t level) {
    const uint32_t second = block.next;
    queue.head = second;
    if (second == NoIndex) {
        queue.tail = NoIndex;
        if (level != NoPriority) state.ready_levels.clear(level);
    } else {
        state.blocks[second].prev = NoIndex;
        block.next = NoIndex;
    }
    mark_running(block);
}

// Lock-free peek (a value that was true at some moment): no shared coroutine and none bound to
// `thread` is ready. Fetch can skip the lock then.
[[gnu::always_inline]] inline bool nothing_ready(const ExecutorState& state, const PollThread* thread) {
    const bool bound_ready = thread != nullptr && thread->bound_ready_count.load(std::memory_order_relaxed) != 0;
    return !bound_ready && state.ready_levels.empty();
}

// The highest-priority Ready coroutine (FIFO within a level; a bound one of `thread` wins when at
// least as urgent), unlinked and Running; block null if none.
struct Fetched {
    ControlBlock* block = nullptr;
    uint32_t index = NoIndex;
};
[[gnu::always_inline]] inline Fetched fetch(ExecutorState& state, PollThread* thread) {
    const uint32_t shared_level = state.ready_levels.highest();
    if (thread != nullptr && thread->bound_ready.head != NoIndex) {
        const uint32_t index = thread->bound_ready.head;
        ControlBlock& block = state.blocks[index];
        if (block.priority <= shared_level) {
            take_head(state, thread->bound_ready, block, NoPriority);
            std::atomic<uint32_t>& count = thread->bound_ready_count;
            count.store(count.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
            return {&block, index};
        }
    }
    if (shared_level == NoPriority) return {};
    ReadyQueue& queue = state.ready[shared_level];
    const uint32_t index = queue.head;
    ControlBlock& block = state.blocks[index];
    take_head(state, queue, block, shared_level);
    --state.ready_count;
    return {&block, index};
}

// The public form: block and ID (computed once the lock is released: the generation cannot change
// while the coroutine runs).
[[gnu::always_inline]] inline FetchedCoroutine fetched_coroutine(Fetched fetched) {
    if (fetched.block == nullptr) return {};
    return FetchedCoroutine{fetched.block, CoroutineId::make(fetched.index, fetched.block->generation)};
}

void free_slot(ExecutorState& state, ControlBlock& block);

// Apply a suspended coroutine's SuspendReason (and bind requests); `index` is its index. Returns the owner of a coroutine
// whose cancellation was deferred (to release outside the lock), else null.
[[gnu::always_inline]] inline void* finish(ExecutorState& state, PollThread* thread, ControlBlock& block,
                                           uint32_t index) {
    if ((suspension_word(block) & SuspensionRequestMask) == PlainYieldWord) [[likely]] {
        // A plain yield: not arming (that is only for a wait), so no wake is pending either.
        push_ready(state, block, index);
        report_after_ready(state, block);
        return nullptr;
    }
    if (block.cancel_requested || block.suspend_reason == SuspendReason::Exit) {
        void* owner = block.cancel_requested && block.suspend_reason != SuspendReason::Exit ? block.owner
                                                                                             : nullptr;
        free_slot(state, block);
        return owner;
    }
    if (block.bind_request) set_bound(block, thread);
    if (block.unbind_request) set_bound(block, nullptr);
    block.arming.store(false, std::memory_order_relaxed);
    const bool woken = block.wake_pending;
    block.wake_pending = false;
    if (block.suspend_reason == SuspendReason::Yield || woken) {
        push_ready(state, block, index);
        report_after_ready(state, block);
    } else {
        block.state = CoroutineState::Pending;
    }
    return nullptr;
}

} // namespace vdso::locked
