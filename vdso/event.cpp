#include "vdso/event.hpp"

namespace vdso {

using Guard = ScopedLock<SpinLock>;

std::size_t WaitQueue::notify_one() {
    Guard guard(lock_);
    if (head_ == nullptr) return 0;
    wake_locked(*head_);
    return 1;
}

std::size_t WaitQueue::notify_all() {
    Guard guard(lock_);
    return wake_all_locked();
}

bool WaitQueue::has_waiters() {
    Guard guard(lock_);
    return head_ != nullptr;
}

std::size_t WaitQueue::wake_all_locked() {
    std::size_t woken = 0;
    while (head_ != nullptr) {
        wake_locked(*head_);
        ++woken;
    }
    return woken;
}

void WaitQueue::link_or_wake(Waiter& waiter) {
    Guard guard(lock_);
    if (signalled_.load(std::memory_order_relaxed)) {
        executor_wake(*waiter.executor, waiter.id);
        return;
    }
    waiter.next = nullptr;
    waiter.previous = tail_;
    (tail_ != nullptr ? tail_->next : head_) = &waiter;
    tail_ = &waiter;
    waiter.linked.store(true, std::memory_order_relaxed);
}

void WaitQueue::unlink_locked(Waiter& waiter) {
    (waiter.previous != nullptr ? waiter.previous->next : head_) = waiter.next;
    (waiter.next != nullptr ? waiter.next->previous : tail_) = waiter.previous;
    waiter.next = waiter.previous = nullptr;
    waiter.linked.store(false, std::memory_order_release);
}

void WaitQueue::unlink_if_linked(Waiter& waiter) {
    Guard guard(lock_);
    if (waiter.linked.load(std::memory_order_relaxed)) unlink_locked(waiter);
}

void WaitQueue::wake_locked(Waiter& waiter) {
    ExecutorState* executor = waiter.executor;
    const CoroutineId id = waiter.id;
    unlink_locked(waiter);
    executor_wake(*executor, id);
}

std::size_t Event::set() {
    Guard guard(lock_);
    signalled_.store(true, std::memory_order_release);
    return wake_all_locked();
}

} // namespace vdso
