// The executor's operations. Every public function takes the lock once and does O(1) work under it.
#include "vdso/executor.hpp"

#include <new>

namespace vdso {

namespace {

using Guard = ScopedLock<SpinLock>;

[[gnu::always_inline]] inline ReadyQueue& queue_of(ExecutorState& state, ControlBlock& block) {
    return block.bound != nullptr ? block.bound->bound_ready : state.ready[block.priority];
}

[[gnu::always_inline]] inline std::uint32_t index_of(const ExecutorState& state, const ControlBlock& block) {
    return static_cast<std::uint32_t>(&block - state.blocks);
}

// Link a block at the tail of its queue and mark it Ready. Keeps "bit p <=> ready[p] non-empty".
[[gnu::always_inline]] inline void push_ready(ExecutorState& state, ControlBlock& block) {
    ReadyQueue& queue = queue_of(state, block);
    const std::uint32_t index = index_of(state, block);
    block.state = CoroutineState::Ready;
    block.next = kNoIndex;
    block.prev = queue.tail;
    if (queue.tail == kNoIndex) {
        queue.head = index;
        if (block.bound == nullptr) state.ready_levels.set(block.priority);
    } else {
        state.blocks[queue.tail].next = index;
    }
    queue.tail = index;
    if (block.bound != nullptr) {
        std::atomic<std::uint32_t>& count = block.bound->bound_ready_count;
        count.store(count.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    } else {
        ++state.ready_count;
    }
}

// Unlink a Ready block from wherever it is in its queue (head for fetch, anywhere for cancel).
[[gnu::always_inline]] inline void unlink_ready(ExecutorState& state, ControlBlock& block) {
    ReadyQueue& queue = queue_of(state, block);
    if (block.prev == kNoIndex) {
        queue.head = block.next;
    } else {
        state.blocks[block.prev].next = block.next;
    }
    if (block.next == kNoIndex) {
        queue.tail = block.prev;
    } else {
        state.blocks[block.next].prev = block.prev;
    }
    block.next = block.prev = kNoIndex;
    if (block.bound != nullptr) {
        std::atomic<std::uint32_t>& count = block.bound->bound_ready_count;
        count.store(count.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
    } else {
        --state.ready_count;
        if (queue.head == kNoIndex) state.ready_levels.clear(block.priority);
    }
}

void free_slot(ExecutorState& state, ControlBlock& block) {
    block.state = CoroutineState::Free;
    block.resume_address = nullptr;
    block.owner = nullptr;
    block.bound = nullptr;
    block.arm = nullptr;
    block.wake_pending = false;
    block.arming.store(false, std::memory_order_relaxed);
    block.generation = block.generation == 0xffff'ffffu ? 1 : block.generation + 1;
    block.next = state.free_head;
    state.free_head = index_of(state, block);
    --state.live_count;
}

// The paper's rule: after spawn / re_back (and yield, re-prioritise), report the highest ready
// priority if it changed. A bound coroutine made ready counts with its own priority.
[[gnu::always_inline]] inline void report_highest(ExecutorState& state, std::uint32_t also_ready = kNoPriority) {
    std::uint32_t highest = state.ready_levels.highest();
    if (also_ready < highest) highest = also_ready;
    if (highest == state.published_priority) return;
    state.published_priority = highest;
    if (state.hooks.highest_priority_changed != nullptr) {
        state.hooks.highest_priority_changed(state.hooks.highest_priority_context, highest);
    }
}

[[gnu::always_inline]] inline void report_after_ready(ExecutorState& state, const ControlBlock& block) {
    report_highest(state, block.bound != nullptr ? block.priority : kNoPriority);
}

[[gnu::always_inline]] inline FetchedCoroutine fetch_locked(ExecutorState& state, PollThread* thread) {
    const std::uint32_t shared_level = state.ready_levels.highest();
    std::uint32_t index = kNoIndex;
    if (thread != nullptr && thread->bound_ready.head != kNoIndex) {
        const std::uint32_t bound_index = thread->bound_ready.head;
        if (state.blocks[bound_index].priority <= shared_level) index = bound_index;
    }
    if (index == kNoIndex) {
        if (shared_level == kNoPriority) return {};
        index = state.ready[shared_level].head;
    }
    ControlBlock& block = state.blocks[index];
    unlink_ready(state, block);
    block.state = CoroutineState::Running;
    block.suspend_reason = SuspendReason::Wait;
    block.arm = nullptr;
    block.bind_request = block.unbind_request = false;
    block.wake_pending = false;
    return FetchedCoroutine{&block, CoroutineId::make(index, block.generation)};
}

[[gnu::always_inline]] inline void* finish_locked(ExecutorState& state, PollThread* thread, ControlBlock& block) {
    if (block.cancel_requested || block.suspend_reason == SuspendReason::Exit) {
        void* owner = block.cancel_requested && block.suspend_reason != SuspendReason::Exit ? block.owner
                                                                                             : nullptr;
        free_slot(state, block);
        return owner;
    }
    if (block.bind_request) block.bound = thread;
    if (block.unbind_request) block.bound = nullptr;
    block.arming.store(false, std::memory_order_relaxed);
    const bool woken = block.wake_pending;
    block.wake_pending = false;
    if (block.suspend_reason == SuspendReason::Yield || woken) {
        push_ready(state, block);
        report_after_ready(state, block);
    } else {
        block.state = CoroutineState::Pending;
    }
    return nullptr;
}

[[gnu::always_inline]] inline bool valid_live(const ExecutorState& state, CoroutineId id) {
    if (id.index() >= state.capacity) return false;
    const ControlBlock& block = state.blocks[id.index()];
    return block.generation == id.generation() && block.state != CoroutineState::Free;
}

} // namespace

Result<void> executor_init(ExecutorState& state, ControlBlock* blocks, std::uint32_t capacity) {
    if (blocks == nullptr || capacity == 0 || capacity == kNoIndex) return Error::InvalidArgument;
    state.blocks = blocks;
    state.capacity = capacity;
    for (std::uint32_t index = 0; index < capacity; ++index) {
        ControlBlock& block = blocks[index];
        new (&block) ControlBlock{};
        block.generation = 1;
        block.state = CoroutineState::Free;
        block.next = index + 1 < capacity ? index + 1 : kNoIndex;
        block.prev = kNoIndex;
    }
    state.free_head = 0;
    state.live_count = 0;
    state.ready_count = 0;
    state.published_priority = kNoPriority;
    for (ReadyQueue& queue : state.ready) queue = ReadyQueue{};
    return kernel::success();
}

Result<CoroutineId> executor_spawn(ExecutorState& state, void* resume_address, void* owner,
                                   std::uint32_t priority, CoroutineRef* publish) {
    if (priority >= kPriorityLevels) return Error::InvalidArgument;
    Guard guard(state.lock);
    if (state.free_head == kNoIndex) return Error::NoMemory;
    const std::uint32_t index = state.free_head;
    ControlBlock& block = state.blocks[index];
    state.free_head = block.next;
    ++state.live_count;
    block.resume_address = resume_address;
    block.owner = owner;
    block.bound = nullptr;
    block.priority = static_cast<std::uint8_t>(priority);
    block.cancel_requested = false;
    block.arm = nullptr;
    const CoroutineId id = CoroutineId::make(index, block.generation);
    if (publish != nullptr) *publish = CoroutineRef{&block, id};
    push_ready(state, block);
    report_highest(state);
    return id;
}

FetchedCoroutine executor_fetch(ExecutorState& state, PollThread* thread) {
    const bool bound_ready = thread != nullptr && thread->bound_ready_count.load(std::memory_order_relaxed) != 0;
    if (!bound_ready && state.ready_levels.empty()) return {}; // lock-free peek
    Guard guard(state.lock);
    return fetch_locked(state, thread);
}

void* executor_finish(ExecutorState& state, PollThread* thread, FetchedCoroutine ran) {
    Guard guard(state.lock);
    return finish_locked(state, thread, *ran.block);
}

FetchedCoroutine executor_finish_and_fetch(ExecutorState& state, PollThread* thread,
                                           FetchedCoroutine ran, void** cancelled_owner) {
    Guard guard(state.lock);
    *cancelled_owner = finish_locked(state, thread, *ran.block);
    return fetch_locked(state, thread);
}

WakeStatus executor_wake(ExecutorState& state, CoroutineId id) {
    Guard guard(state.lock);
    return executor_wake_locked(state, id);
}

WakeStatus executor_wake_locked(ExecutorState& state, CoroutineId id) {
    if (!valid_live(state, id)) return WakeStatus::Stale;
    ControlBlock& block = state.blocks[id.index()];
    if (block.state == CoroutineState::Running && block.arming.load(std::memory_order_relaxed) &&
        !block.wake_pending) {
        block.wake_pending = true; // Ready at finish instead of Pending
        return WakeStatus::Woken;
    }
    if (block.state != CoroutineState::Pending) return WakeStatus::Duplicate;
    push_ready(state, block);
    report_after_ready(state, block);
    return WakeStatus::Woken;
}

Result<void> executor_set_priority(ExecutorState& state, CoroutineId id, std::uint32_t priority) {
    if (priority >= kPriorityLevels) return Error::InvalidArgument;
    Guard guard(state.lock);
    if (!valid_live(state, id)) return Error::NotFound;
    ControlBlock& block = state.blocks[id.index()];
    if (block.state == CoroutineState::Ready) {
        unlink_ready(state, block);
        block.priority = static_cast<std::uint8_t>(priority);
        push_ready(state, block);
        report_after_ready(state, block);
    } else {
        block.priority = static_cast<std::uint8_t>(priority);
    }
    return kernel::success();
}

CancelOutcome executor_cancel(ExecutorState& state, CoroutineId id) {
    Guard guard(state.lock);
    if (!valid_live(state, id)) return {CancelStatus::Stale};
    ControlBlock& block = state.blocks[id.index()];
    if (block.state == CoroutineState::Running) {
        block.cancel_requested = true;
        return {CancelStatus::Deferred};
    }
    if (block.state == CoroutineState::Ready) unlink_ready(state, block);
    void* owner = block.owner;
    free_slot(state, block);
    return {CancelStatus::Cancelled, owner};
}

Result<CoroutineState> executor_state_of(ExecutorState& state, CoroutineId id) {
    Guard guard(state.lock);
    if (id.index() >= state.capacity || id.generation() == 0) return Error::NotFound;
    const ControlBlock& block = state.blocks[id.index()];
    if (valid_live(state, id)) return block.state;
    // The slot's generation moves on when its coroutine exits: an older generation has exited.
    if (id.generation() < block.generation) return CoroutineState::Exited;
    return Error::NotFound;
}

Result<std::uint32_t> executor_priority_of(ExecutorState& state, CoroutineId id) {
    Guard guard(state.lock);
    if (!valid_live(state, id)) return Error::NotFound;
    return std::uint32_t{state.blocks[id.index()].priority};
}

void executor_report_if_idle(ExecutorState& state) {
    Guard guard(state.lock);
    if (state.ready_levels.empty()) report_highest(state);
}

bool executor_wakeable_locked(ExecutorState& state, CoroutineId id) {
    if (!valid_live(state, id)) return false;
    const ControlBlock& block = state.blocks[id.index()];
    if (block.state == CoroutineState::Pending) return true;
    return block.state == CoroutineState::Running && block.arming.load(std::memory_order_relaxed) && !block.wake_pending;
}

ControlBlock* executor_live_block(ExecutorState& state, CoroutineId id) {
    return valid_live(state, id) ? &state.blocks[id.index()] : nullptr;
}

bool executor_check_invariants(ExecutorState& state) {
    Guard guard(state.lock);
    std::uint32_t linked = 0;
    for (std::uint32_t level = 0; level < kPriorityLevels; ++level) {
        const ReadyQueue& queue = state.ready[level];
        if ((queue.head != kNoIndex) != state.ready_levels.test(level)) return false;
        if ((queue.head == kNoIndex) != (queue.tail == kNoIndex)) return false;
        std::uint32_t previous = kNoIndex;
        for (std::uint32_t index = queue.head; index != kNoIndex; index = state.blocks[index].next) {
            const ControlBlock& block = state.blocks[index];
            if (block.state != CoroutineState::Ready || block.priority != level) return false;
            if (block.bound != nullptr || block.prev != previous) return false;
            if (++linked > state.capacity) return false; // a cycle
            previous = index;
        }
        if (previous != queue.tail) return false;
    }
    std::uint32_t ready_unbound = 0;
    std::uint32_t live = 0;
    for (std::uint32_t index = 0; index < state.capacity; ++index) {
        const ControlBlock& block = state.blocks[index];
        if (block.state != CoroutineState::Free) ++live;
        if (block.state == CoroutineState::Ready && block.bound == nullptr) ++ready_unbound;
    }
    std::uint32_t free_slots = 0;
    for (std::uint32_t index = state.free_head; index != kNoIndex; index = state.blocks[index].next) {
        if (state.blocks[index].state != CoroutineState::Free) return false;
        if (++free_slots > state.capacity) return false;
    }
    return linked == ready_unbound && ready_unbound == state.ready_count && live == state.live_count &&
           free_slots + live == state.capacity && state.ready_levels.consistent();
}

} // namespace vdso
