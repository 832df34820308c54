// The executor's operations. Every public function takes the lock once and does O(1) work under it.
#include "vdso/executor.hpp"

#include <new>

#include "vdso/executor_fast_path.hpp"
#include "vdso/executor_locked.hpp"

namespace vdso {

namespace {

using Guard = ScopedLock<SpinLock>;
using namespace locked;

[[gnu::always_inline]] inline bool valid_live(const ExecutorState& state, CoroutineId id) {
    if (id.index() >= state.capacity) return false;
    const ControlBlock& block = state.blocks[id.index()];
    return block.generation == id.generation() && block.state != CoroutineState::Free;
}

} // namespace

void locked::free_slot(ExecutorState& state, ControlBlock& block) {
    block.state = CoroutineState::Free;
    block.resume_address = nullptr;
    block.owner = nullptr;
    set_bound(block, nullptr);
    block.arm = nullptr;
    block.wake_pending = false;
    block.arming.store(false, std::memory_order_relaxed);
    block.generation = block.generation == 0xffff'ffffu ? 1 : block.generation + 1;
    block.next = state.free_head;
    state.free_head = index_of(state, block);
    --state.live_count;
}

Result<void> executor_init(ExecutorState& state, ControlBlock* blocks, uint32_t capacity) {
    if (blocks == nullptr || capacity == 0 || capacity == NoIndex) return Error::InvalidArgument;
    state.blocks = blocks;
    state.capacity = capacity;
    for (uint32_t index = 0; index < capacity; ++index) {
        ControlBlock& block = blocks[index];
        new (&block) ControlBlock{};
        block.generation = 1;
        block.state = CoroutineState::Free;
        block.next = index + 1 < capacity ? index + 1 : NoIndex;
        block.prev = NoIndex;
    }
    state.free_head = 0;
    state.live_count = 0;
    state.ready_count = 0;
    state.published_priority = NoPriority;
    for (ReadyQueue& queue : state.ready) queue = ReadyQueue{};
    return kernel::success();
}

Result<CoroutineId> executor_spawn(ExecutorState& state, void* resume_address, void* owner,
                                   uint32_t priority, CoroutineRef* publish) {
    if (priority >= PriorityLevels) return Error::InvalidArgument;
    Guard guard(state.lock);
    if (state.free_head == NoIndex) return Error::NoMemory;
    const uint32_t index = state.free_head;
    ControlBlock& block = state.blocks[index];
    state.free_head = block.next;
    ++state.live_count;
    block.resume_address = resume_address;
    block.owner = owner;
    set_bound(block, nullptr);
    block.priority = static_cast<uint8_t>(priority);
    block.cancel_requested = false;
    block.waits_for_completion = 0;
    block.arm = nullptr;
    block.next = NoIndex; // was the free-list link
    const CoroutineId id = CoroutineId::make(index, block.generation);
    if (publish != nullptr) *publish = CoroutineRef{&block, id};
    push_ready(state, block, index);
    report_highest(state);
    return id;
}

FetchedCoroutine executor_fetch(ExecutorState& state, PollThread* thread) {
    if (nothing_ready(state, thread)) return {}; // lock-free peek
    Fetched fetched;
    {
        Guard guard(state.lock);
        fetched = fetch(state, thread);
    }
    return fetched_coroutine(fetched);
}

void* executor_finish(ExecutorState& state, PollThread* thread, FetchedCoroutine ran) {
    const uint32_t index = index_of(state, *ran.block);
    Guard guard(state.lock);
    return finish(state, thread, *ran.block, index);
}

FetchedCoroutine executor_finish_and_fetch(ExecutorState& state, PollThread* thread,
                                           FetchedCoroutine ran, void** cancelled_owner) {
    const PollThread no_thread;
    Fetched next{nullptr, index_of(state, *ran.block)};
    void* cancelled = nullptr;
    {
        Guard guard(state.lock);
        next.block = yield_fast(state, state.blocks, thread != nullptr ? *thread : no_thread, *ran.block, next.index);
        if (next.block == nullptr) {
            cancelled = finish(state, thread, *ran.block, next.index);
            next = fetch(state, thread);
        }
    }
    *cancelled_owner = cancelled;
    return fetched_coroutine(next);
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
    push_ready(state, block, id.index());
    report_after_ready(state, block);
    return WakeStatus::Woken;
}

Result<void> executor_set_priority(ExecutorState& state, CoroutineId id, uint32_t priority) {
    if (priority >= PriorityLevels) return Error::InvalidArgument;
    Guard guard(state.lock);
    if (!valid_live(state, id)) return Error::NotFound;
    ControlBlock& block = state.blocks[id.index()];
    if (block.state == CoroutineState::Ready) {
        unlink_ready(state, block);
        block.priority = static_cast<uint8_t>(priority);
        push_ready(state, block, id.index());
        report_after_ready(state, block);
    } else {
        block.priority = static_cast<uint8_t>(priority);
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

Result<uint32_t> executor_priority_of(ExecutorState& state, CoroutineId id) {
    Guard guard(state.lock);
    if (!valid_live(state, id)) return Error::NotFound;
    return uint32_t{state.blocks[id.index()].priority};
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
    uint32_t linked = 0;
    for (uint32_t level = 0; level < PriorityLevels; ++level) {
        const ReadyQueue& queue = state.ready[level];
        if ((queue.head != NoIndex) != state.ready_levels.test(level)) return false;
        if ((queue.head == NoIndex) != (queue.tail == NoIndex)) return false;
        uint32_t previous = NoIndex;
        for (uint32_t index = queue.head; index != NoIndex; index = state.blocks[index].next) {
            const ControlBlock& block = state.blocks[index];
            if (block.state != CoroutineState::Ready || block.priority != level) return false;
            if (block.bound != nullptr || block.prev != previous) return false;
            if (++linked > state.capacity) return false; // a cycle
            previous = index;
        }
        if (previous != queue.tail) return false;
    }
    uint32_t ready_unbound = 0;
    uint32_t live = 0;
    for (uint32_t index = 0; index < state.capacity; ++index) {
        const ControlBlock& block = state.blocks[index];
        if (block.state != CoroutineState::Free) ++live;
        if (block.is_bound != (block.bound != nullptr)) return false;
        if (block.state == CoroutineState::Ready && block.bound == nullptr) ++ready_unbound;
        // In no queue: no links (a Free block's next is the free list's).
        if (block.state != CoroutineState::Ready && block.prev != NoIndex) return false;
        if ((block.state == CoroutineState::Running || block.state == CoroutineState::Pending) &&
            block.next != NoIndex) {
            return false;
        }
    }
    uint32_t free_slots = 0;
    for (uint32_t index = state.free_head; index != NoIndex; index = state.blocks[index].next) {
        if (state.blocks[index].state != CoroutineState::Free) return false;
        if (++free_slots > state.capacity) return false;
    }
    return linked == ready_unbound && ready_unbound == state.ready_count && live == state.live_count &&
           free_slots + live == state.capacity && state.ready_levels.consistent();
}

} // namespace vdso
