// SpinLock: a test-and-test-and-set lock on std::atomic, the same code on the host and in the kernel.
//
// It does not mask interrupts by itself: code that takes a lock also taken in an interrupt handler
// uses kernel::IrqSpinLock (kernel/arch/riscv/irq_lock.hpp) instead.
#pragma once

#include <atomic>

namespace kernel {

class SpinLock {
public:
    void lock() {
        for (;;) {
            if (!locked_.exchange(true, std::memory_order_acquire)) return;
            while (locked_.load(std::memory_order_relaxed)) {
            }
        }
    }
    bool try_lock() { return !locked_.exchange(true, std::memory_order_acquire); }
    void unlock() { locked_.store(false, std::memory_order_release); }
    bool is_locked() const { return locked_.load(std::memory_order_relaxed); }

private:
    std::atomic<bool> locked_{false};
};

// Scope guard: holds a lock from construction to the end of the scope.
template <typename Lock>
class LockGuard {
public:
    explicit LockGuard(Lock& lock) : lock_(lock) { lock_.lock(); }
    ~LockGuard() { lock_.unlock(); }
    LockGuard(const LockGuard&) = delete;
    LockGuard& operator=(const LockGuard&) = delete;

private:
    Lock& lock_;
};

} // namespace kernel
