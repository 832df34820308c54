// WaitQueue and Event: coroutines wait here until another coroutine, thread or interrupt path
// notifies them.
//
// * WaitQueue: notify_one wakes the longest waiter, notify_all wakes all; a notify with nobody
//   waiting is lost (use Event for a sticky flag).
// * Event: set() wakes every waiter and lets later waits through until reset().
// Waiters are intrusive nodes inside the waiting coroutine's frame (the awaiter), linked by the arm
// step after the coroutine has suspended, so a notify never races a half-suspended coroutine.
// Invariants (under `lock`): a waiter is linked iff its `linked` flag is set; every linked waiter's
// coroutine is suspended. A waiter destroyed while linked (its coroutine was cancelled) unlinks itself.
// Lock order: WaitQueue::lock before the executor's lock (wakes happen under the queue's lock so the
// node cannot vanish while it is being read).
#pragma once

#include <atomic>
#include <coroutine>
#include <cstddef>

#include "vdso/executor.hpp"
#include "abi/spin_lock.hpp"
#include "vdso/task.hpp"

namespace vdso {

class WaitQueue {
public:
    struct Waiter {
        WaitQueue* queue = nullptr;
        Waiter* next = nullptr;
        Waiter* previous = nullptr;
        ExecutorState* executor = nullptr;
        CoroutineId id;
        std::atomic<bool> linked{false};
    };

    class Awaiter {
    public:
        explicit Awaiter(WaitQueue& queue) { waiter_.queue = &queue; }
        Awaiter(const Awaiter&) = delete;
        Awaiter& operator=(const Awaiter&) = delete;
        ~Awaiter() {
            if (waiter_.linked.load(std::memory_order_acquire)) waiter_.queue->unlink_if_linked(waiter_);
        }
        bool await_ready() const noexcept { return waiter_.queue->is_signalled(); }
        template <typename Promise>
        bool await_suspend(std::coroutine_handle<Promise> frame) noexcept {
            return record_suspension(frame.promise(), frame, SuspendReason::Wait, &arm, &waiter_);
        }
        void await_resume() const noexcept {}

    private:
        static void arm(void* context, ExecutorState* executor, CoroutineId id) {
            auto& waiter = *static_cast<Waiter*>(context);
            waiter.executor = executor;
            waiter.id = id;
            waiter.queue->link_or_wake(waiter);
        }
        Waiter waiter_;
    };

    Awaiter wait() { return Awaiter(*this); }

    // Wake the longest waiter. Returns how many were woken (0 or 1).
    std::size_t notify_one();
    // Wake every waiter. Returns how many were woken.
    std::size_t notify_all();
    bool has_waiters();

protected:
    std::size_t wake_all_locked();
    bool is_signalled() const { return signalled_.load(std::memory_order_acquire); }

    SpinLock lock_;
    std::atomic<bool> signalled_{false}; // Event only; a WaitQueue never sets it

private:
    // The arm step: link the waiter, or wake it at once if the event is already set.
    void link_or_wake(Waiter& waiter);
    void unlink_locked(Waiter& waiter);
    void unlink_if_linked(Waiter& waiter);
    // Copies what it needs out of the node before unlinking it: once unlinked and woken, its
    // coroutine may run on another hart and destroy the node.
    void wake_locked(Waiter& waiter);

    Waiter* head_ = nullptr; // guarded by lock_
    Waiter* tail_ = nullptr; // guarded by lock_
};

class Event : private WaitQueue {
public:
    using WaitQueue::Awaiter;
    using WaitQueue::wait;
    using WaitQueue::has_waiters;

    // Wake every waiter; later waits pass straight through until reset(). Returns how many woke.
    std::size_t set();
    void reset() { signalled_.store(false, std::memory_order_release); }
    bool is_set() const { return is_signalled(); }
};

} // namespace vdso
