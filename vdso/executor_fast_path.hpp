// The executor's one fast path: a yield among equals, in O(1) without the general path's work.
//
// Read vdso/executor_locked.hpp first: finish() and fetch() are the general path, the definition of
// what the executor does. This file holds the only shortcut taken around them, apart so that a
// student can skip it (as seL4 keeps fastpath.c apart from the kernel's general code). It is
// equivalent to finish() followed by fetch() whenever it applies, and changes nothing when it does
// not (the caller then runs the general path). Proved on the host by
// tests/vdso/test_fast_path.cpp, which drives two executors in lockstep through random spawns,
// yields, waits and wakes, one yielding through executor_finish_and_fetch (this path) and the other
// through executor_finish then executor_fetch (the general path), and checks after every step that
// both picked the same coroutine, made the same priority reports and hold the same ready queues;
// and by tests/vdso/test_model.cpp against a model of the queues. Used by executor_finish_and_fetch
// (executor.cpp) and the poll loop (poll_loop.cpp).
#pragma once

#include "vdso/executor_locked.hpp"

namespace vdso::locked {

// The yield fast path of finish + fetch: `ran` (at `ran_index` in `blocks`, which is state.blocks)
// yielded and asked nothing else, is not bound (suspension word PlainYieldWord), `bound_source`
// has no bound coroutine ready (the poll thread, or any thread with an empty queue if there is
// none), the last reported priority is ran's level and nothing more urgent is ready. Then the
// general path would push ran at the tail of its level (the bitmap bit set, no report: the highest
// is still its level), and fetch would take the head of that level. Here instead, in O(1) and
// without touching the bitmap, ready_count or published_priority:
//   * its level holds others: unlink the head, link ran at the tail, the head runs;
//   * its level is empty: ran itself runs on (it never leaves the Running state).
// Returns the coroutine to run next (Running) and sets ran_index to its index, or returns null,
// having changed nothing, when the general path must run.
[[gnu::always_inline]] inline ControlBlock* yield_fast(ExecutorState& state, ControlBlock* blocks,
                                                       const PollThread& bound_source, ControlBlock& ran,
                                                       uint32_t& ran_index) {
    static_assert(!decltype(state.ready_levels)::TwoLevel, "the fast path reads the one-word bitmap");
    if (suspension_word(ran) != PlainYieldWord) return nullptr;
    if (bound_source.bound_ready.head != NoIndex) return nullptr;
    const uint32_t level = ran.priority;
    if (state.published_priority != level) return nullptr; // a report is due: the general path makes it
    const uint64_t lowest = state.ready_levels.lowest_set_bit();
    const uint64_t own = uint64_t{1} << level;
    if (lowest == own) {
        ReadyQueue& queue = state.ready[level];
        const uint32_t next_index = queue.head;
        ControlBlock& next = blocks[next_index];
        const uint32_t second = next.next;
        if (second != NoIndex) {
            blocks[second].prev = NoIndex;
            queue.head = second;
            blocks[queue.tail].next = ran_index;
            ran.prev = queue.tail;
            next.next = NoIndex;
        } else {
            queue.head = ran_index; // ran's next and prev are NoIndex: it was in no queue
        }
        queue.tail = ran_index;
        ran.state = CoroutineState::Ready;
        mark_running(next);
        ran_index = next_index;
        return &next;
    }
    if (lowest == 0 || lowest > own) { // nothing else at its level or above it
        clear_suspension(ran);
        return &ran;
    }
    return nullptr;
}

} // namespace vdso::locked
