// Driver bottom halves: the part of an interrupt's work that can wait, run by a kernel coroutine.
//
// An interrupt handler (the top half) does only what cannot wait (emptying a device's FIFO, rearming
// the timer) and calls raise(). A BottomHalf is a long-lived kernel coroutine in the work executor
// (scheduler.hpp: spawn_kernel_work / wake_kernel_coroutine) that loops: wait until
// raised, run the work function once. It therefore runs like any kernel coroutine, not in interrupt
// context: on the raising hart's way back to user mode (run_kernel_calls), in a hart's scheduler
// loop, or in a kernel wait loop (run_kernel_step); an idle hart is woken by IPI.
//
// Rules:
//   * raise() may be called from any context, interrupt handlers of any hart included; it is O(1)
//     and allocates nothing. It never loses a raise: every raise is followed by a run that starts
//     after it. Raises that come before that run starts are coalesced into it (a raise during a run
//     makes exactly one more run).
//   * One coroutine per BottomHalf: its runs never overlap. The work function runs with interrupts
//     off (as every kernel coroutine does) and must not wait.
//   * A BottomHalf lives for ever (a static object); start() spawns its coroutine once.
#pragma once

#include <atomic>
#include <cstdint>

#include "abi/result.hpp"

namespace kernel::proc {

// Bottom halves run before the coroutines of asynchronous calls (AsyncCallPriority, 8).
constexpr uint32_t BottomHalfPriority = 4;

class BottomHalf {
public:
    using Work = void (*)(void* context);

    constexpr BottomHalf(const char* name, Work work, void* context = nullptr)
        : name_(name), work_(work), context_(context) {}
    BottomHalf(const BottomHalf&) = delete;
    BottomHalf& operator=(const BottomHalf&) = delete;

    // Spawns the coroutine in the work executor and lists it for bottom_halves().
    // NoMemory when that executor is full or the kernel heap has no room for the frame (nothing is
    // spawned then); AlreadyExists when started before. Raises made before start() are not lost:
    // the coroutine's first look finds them.
    Result<void> start(uint32_t priority = BottomHalfPriority);
    void raise();

    const char* name() const { return name_; }
    bool started() const { return started_.load(std::memory_order_acquire); }
    uint64_t raises() const { return raises_.load(std::memory_order_relaxed); }
    uint64_t runs() const { return runs_.load(std::memory_order_relaxed); }
    // raises() as read at the start of the latest run: every raise counted there is covered by a
    // run that started after it (for tests).
    uint64_t raises_covered() const { return raises_covered_.load(std::memory_order_acquire); }
    const BottomHalf* next() const { return next_; }

private:
    struct Loop;
    static void arm(void* context, void* executor, uint64_t id);

    const char* name_;
    Work work_;
    void* context_;
    std::atomic<bool> raised_{false};      // set by raise(), taken (exchanged) by the coroutine
    std::atomic<uint64_t> waiting_id_{0};  // the coroutine's ID while it waits, 0 otherwise
    std::atomic<uint64_t> raises_{0};
    std::atomic<uint64_t> runs_{0};
    std::atomic<uint64_t> raises_covered_{0};
    std::atomic<bool> started_{false};
    BottomHalf* next_ = nullptr;  // the list of started bottom halves (written once, before publication)
};

// The started bottom halves, most recent first (for the monitor's `ps`).
const BottomHalf* bottom_halves();

} // namespace kernel::proc
