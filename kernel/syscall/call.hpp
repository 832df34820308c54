// System calls as coroutines: one handler serves the synchronous and the asynchronous form.
//
// A handler that may wait (read and write on pipes and the console, nanosleep) is a coroutine
// returning Call:
//
//     Call pipe_read(CallMemory& memory, Process& process, CallArguments arguments) {
//         ...
//         co_await WaitOn(queue);   // the caller holds queue.lock; WaitOn releases it
//         ...
//         co_return count;
//     }
//
// Its first parameter (after the object, for a member function) is the memory its frame lives in:
// never the kernel heap. Who drives it makes the form (docs/async-syscalls.md):
//   * synchronous: the frame lives in the calling thread (Thread::call_frame), the thread resumes
//     it, and every WaitOn blocks the thread in place (sleep_on): the coroutine never really
//     suspends, and the result is read back when it has finished;
//   * asynchronous: the frame lives in a slot of the process's AsyncCalls (async_call.hpp). The
//     calling thread resumes it in the system call, so that it checks its arguments (user addresses
//     included) before the call returns, exactly as the synchronous form does. If it finishes there,
//     its completion is posted at once; at its first real wait it moves to the work executor
//     (spawned at AsyncCallPriority) and the system call returns. From then on it is an ordinary
//     kernel coroutine: a WaitOn suspends it, a wake-up makes it ready, any hart's scheduler loop
//     resumes it. At its end the frame is destroyed and {token, result} goes to the completion ring.
//   * on a kernel thread (a socket of the thread model, call_threads.hpp): either form is handed over
//     before it first runs; the kernel thread resumes it with `thread` set to itself, so every WaitOn
//     blocks the kernel thread, and when it ends posts the completion or wakes the synchronous caller.
// A handler must not keep the calling Thread: an asynchronous call outlives the system call; it works
// on its Process, which its hold keeps alive (Process::holds).
#pragma once

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "kernel/proc/thread.hpp"
#include "vdso/vdso_api.h"

namespace kernel::proc {

struct CallSlot;

// The six argument registers, by value: an asynchronous call outlives the registers it came in.
struct CallArguments {
    uint64_t value[6];
    uint64_t operator[](size_t index) const { return value[index]; }
};
// A handler's arguments from a trap frame's a0..a5, as a prvalue: passed straight into the
// handler's parameter (a named copy is copied once more for the call).
inline CallArguments call_arguments(const uint64_t* registers) {
    return {{registers[0], registers[1], registers[2], registers[3], registers[4], registers[5]}};
}

// Where a call's frame goes.
struct CallMemory {
    void* bytes;
    size_t size;
};

// Kernel coroutines that finish asynchronous system calls run before user threads (the switch
// coroutines run at 32) and after the bottom halves (4): at AsyncCallPriority and the 15 levels below
// it, by the priority of the coroutine that waits for the call (work_priority).
constexpr uint32_t AsyncCallPriority = 8;

// How priority flows (docs/network.md): a call is made for a waiter of user priority 0 (highest) ..
// 63: the waiting coroutine's, as the submission names it (`named_priority`: that priority plus one,
// 0 for none), or else the process's own priority (a synchronous call: its thread runs at it),
// always clamped to the process's cap, so that no submission buys more than set_priority could.
uint8_t call_priority(const Process& process, uint32_t named_priority);
// The work executor level of an asynchronous call's kernel coroutine served for user priority p:
// four user levels to one work level, 0..3 -> 8, ..., 60..63 -> 23.
constexpr uint32_t work_priority(uint8_t user_priority) { return AsyncCallPriority + user_priority / 4; }

class CallThreads;  // call_threads.hpp: the kernel threads of the thread model

class [[nodiscard]] Call {
public:
    struct promise_type;
    using Handle = std::coroutine_handle<promise_type>;

    // Synchronous: stays suspended, for the caller to read the result. Asynchronous: destroys the
    // frame and posts the completion (async_call.cpp).
    struct FinalAwaiter {
        bool await_ready() const noexcept { return false; }
        void await_suspend(Handle frame) const noexcept;
        void await_resume() const noexcept {}
    };

    struct promise_type {
        template <typename... Rest>
        static void* operator new(size_t size, CallMemory& memory, Rest&&...) noexcept {
            return fit(size, memory);
        }
        template <typename Object, typename... Rest>
            requires(!std::is_same_v<std::remove_cvref_t<Object>, CallMemory>)
        static void* operator new(size_t size, Object&, CallMemory& memory, Rest&&...) noexcept {
            return fit(size, memory);
        }
        static void operator delete(void*, size_t) noexcept {}  // the memory belongs to the caller
        static Call get_return_object_on_allocation_failure() noexcept { return Call(); }

        Call get_return_object() noexcept { return Call(Handle::from_promise(*this)); }
        std::suspend_always initial_suspend() noexcept { return {}; }
        FinalAwaiter final_suspend() noexcept { return {}; }
        void return_value(long value) noexcept { result = value; }
        void unhandled_exception() noexcept { __builtin_trap(); }

        long result = 0;
        Thread* thread = nullptr;       // synchronous or on a kernel thread: the thread its waits block
        CallSlot* slot = nullptr;       // asynchronous: the call's slot (token, process, frame memory)
        cokernel_coroutine_ref self{};  // asynchronous, once moved to the work executor
        File* held_file = nullptr;      // a reference the call keeps until it ends (read, write)
        // The thread model (a socket's kernel side on kernel threads): who runs the call. Set before
        // it first runs (run_on); run_call and submit_async_call then hand it over (call_threads.hpp).
        // The rest is set at the hand-over, and only read after it (left uninitialised: every call
        // pays for what its promise initialises).
        CallThreads* runner = nullptr;
        promise_type* next_handed;  // the runner's queue (its lock)
        Process* served;            // whose call it is, for its waits (Thread::serving)
        uint8_t priority;           // the waiter's user priority, clamped (call_priority)
        bool handed_done;           // synchronous hand-over: finished (the runner's lock)

    private:
        // Null (the call fails with -ENOMEM, and says why) when the frame is larger than its memory:
        // CallFrameBytes is too small for that handler.
        static void* fit(size_t size, CallMemory& memory) noexcept;
    };

    Call() = default;
    Call(Call&& other) noexcept : frame_(other.frame_) { other.frame_ = {}; }
    Call& operator=(Call&&) = delete;
    ~Call() {
        if (frame_) frame_.destroy();
    }

    bool valid() const { return static_cast<bool>(frame_); }
    // The call keeps a reference to `file` (taken by the caller) and drops it when it ends.
    void hold(File& file) { frame_.promise().held_file = &file; }
    // The call is to run on `threads` (the thread model) instead of the calling thread or the work executor.
    void run_on(CallThreads& threads) { frame_.promise().runner = &threads; }
    Handle release() {
        Handle frame = frame_;
        frame_ = {};
        return frame;
    }

private:
    explicit Call(Handle frame) : frame_(frame) {}
    Handle frame_;
};

// A handler of the table (syscall.cpp) that serves both forms.
using CallHandler = Call (*)(CallMemory& memory, Process& process, CallArguments arguments);

// co_await WaitOn(queue): the caller holds queue.lock (interrupts off) and has found that it must
// wait. Returns without the lock after a wake-up (maybe spurious: re-check) or at once when the
// process is being ended (check Process::exit_requested). `wake_time` is for the sleepers' queue.
class WaitOn {
public:
    explicit WaitOn(WaitQueue& queue, uint64_t wake_time = 0) : queue_(queue) { node_.wake_time = wake_time; }
    WaitOn(const WaitOn&) = delete;
    WaitOn& operator=(const WaitOn&) = delete;

    bool await_ready() const noexcept { return false; }
    bool await_suspend(Call::Handle frame) noexcept;
    void await_resume() const noexcept {}

private:
    static void arm(void* context, void* executor, uint64_t id);
    WaitQueue& queue_;
    Process* process_ = nullptr;  // asynchronous: whose call it is (its wait is registered there)
    CoroutineWaiter node_;
};

// The user priority a call is served for (call_priority of its waiter), in any form.
uint8_t served_priority(const Call::promise_type& promise);

// co_await CallPriority{} in a handler: served_priority of its own call.
struct CallPriority {
    uint8_t value = 0;
    bool await_ready() const noexcept { return false; }
    bool await_suspend(Call::Handle frame) noexcept {
        value = served_priority(frame.promise());
        return false;  // no suspension
    }
    uint8_t await_resume() const noexcept { return value; }
};

// A call that ends at once with `result` (errors found before any real work).
Call finished_call(CallMemory& memory, long result);

// A call created but never resumed: drops the file it holds and destroys the frame.
void discard_unstarted_call(Call::Handle frame);

// Runs `handler` synchronously for `thread` (frame in Thread::call_frame) and returns its result.
long run_call(Thread& thread, CallHandler handler, const uint64_t* registers);

} // namespace kernel::proc
