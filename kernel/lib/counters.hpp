// Event counters for kernel_counters (1048, kernel/syscall/usage.cpp; abi::KernelCountersRecord):
// cheap relaxed increments on the paths that explain where a loaded server's time goes (idle waits,
// user-interrupt raises and deliveries, completions, kernel calls, network frames, futexes).
// System-wide, never reset: a reader takes two snapshots and subtracts.
#pragma once

#include <atomic>
#include <cstdint>

namespace kernel::counters {

enum Event : uint32_t {
    IdleWaits,                    // a hart entered wfi in the scheduler loop
    IdleInstret,                  // instret that passed during those waits (-icount: the idle time)
    Syscalls,                     // system calls dispatched (ecalls from user mode)
    UserInterruptsRaised,         // raise_user_interrupt on a thread
    UserInterruptsAlreadyPending, // of them: USIP was set already
    UserInterruptWaitsEnded,      // of them: ended an interruptible wait (futex_wait -> -EINTR)
    UserInterruptsDelivered,      // emulated deliveries: a thread entered its handler
    CompletionsPosted,            // asynchronous completions written to a ring (or held)
    CompletionsSilent,            // of them: no interrupt, the submitting thread drains on return
    CallsRefused,                 // asynchronous submissions refused with -EAGAIN
    KernelCallsOnReturn,          // kernel coroutines run on a thread's way back to user mode
    KernelCallsByScheduler,       // kernel coroutines run by a hart's scheduler loop
    NetworkRuns,                  // runs of the network bottom half
    FramesReceived,               // frames handed to lwIP
    FramesSent,                   // frames given to a device
    FramesDropped,                // received frames lost: no pool pbuf for them
    FutexWaits,                   // futex_wait calls that slept
    FutexWakes,                   // threads woken by futex_wake
    EventCount
};

inline std::atomic<uint64_t> values[EventCount];

inline void count(Event event, uint64_t by = 1) { values[event].fetch_add(by, std::memory_order_relaxed); }

} // namespace kernel::counters
