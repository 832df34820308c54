// SpinLock: a test-and-test-and-set lock on std::atomic, the same code on the host and in the kernel.
//
// It does not mask interrupts by itself: code that takes a lock also taken in an interrupt handler
// uses kernel::IrqSpinLock (kernel/arch/riscv/irq_lock.hpp) instead.
#pragma once

#include <atomic>
#include <cstdint>

namespace kernel {

class SpinLock {
public:
    void lock() {
        for (;;) {
            if (locked_.exchange(1, std::memory_order_acquire) == 0) return;
            while (locked_.load(std::memory_order_relaxed)) {
            }
        }
    }
    bool try_lock() { return locked_.exchange(1, std::memory_order_acquire) == 0; }
    void unlock() { locked_.store(0, std::memory_order_release); }
    bool is_locked() const { return locked_.load(std::memory_order_relaxed) != 0; }

private:
    // A 32-bit word, not a bool: RV64A has no byte-wide atomics, and GCC 12 would call libatomic.
    std::atomic<uint32_t> locked_{0};
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
