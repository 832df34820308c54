// The poll loop (paper §3.3.2): fetch the highest-priority ready coroutine, resume it, hand it back,
// repeat. After each coroutine it asks hooks.should_yield_hart whether another process with a higher
// priority is ready and, if so, returns so that the thread can give up its hart. When nothing is
// ready it reports NoPriority and calls hooks.idle (the kernel blocks the thread or waits for an
// interrupt; the hook returns false to stop the loop).
//
// Any number of threads may run these functions on one executor at once; each passes its own
// PollThread (or null if it never runs bound coroutines).
#pragma once

#include <cstdint>

#include "vdso/executor.hpp"

namespace vdso {

enum class PollOutcome : uint8_t {
    Ran,          // poll_once: one coroutine ran
    NothingReady, // no coroutine was ready
    YieldHart,    // should_yield_hart said a higher-priority process is ready
    Stopped,      // the idle hook asked the loop to stop
};

// Run at most one coroutine.
PollOutcome poll_once(ExecutorState& state, PollThread* thread);

// Run coroutines until none is ready (NothingReady) or the hart must be yielded (YieldHart).
// Takes the executor lock once per coroutine (finish and next fetch are one critical section).
// `resumed`, if given, is increased by the number of coroutines resumed.
PollOutcome run_until_idle(ExecutorState& state, PollThread* thread, uint64_t* resumed = nullptr);

// The thread's main loop: run_until_idle, then idle, until the hart must be yielded or idle says stop.
PollOutcome run_poll_loop(ExecutorState& state, PollThread* thread);

} // namespace vdso
