// SpinLock: a test-and-test-and-set lock, the one spin lock of the kernel, the vDSO and user
// programs (the executor's only synchronisation primitive), and ScopedLock, its one guard.
//
// One word, no owner, not recursive, not fair. Chosen by measurement (docs/performance.md): the
// executor holds it for a few dozen instructions, so an uncontended acquire (one atomic exchange)
// plus release (one store) is the whole cost; a ticket lock or std::mutex costs more and fair
// hand-over does not pay for such short critical sections.
// It does not mask interrupts: the kernel must not take an executor lock from an interrupt handler
// that can interrupt its holder (it defers such wake-ups to a kernel coroutine instead); kernel data
// shared with interrupt handlers uses kernel::IrqSpinLock (kernel/arch/riscv/irq_lock.hpp), a
// SpinLock that also masks interrupts. The kernel and the vDSO name these as kernel::SpinLock and
// vdso::SpinLock: the same type.
#pragma once

#include <atomic>
#include <cstdint>

namespace cokernel {

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__riscv_zihintpause)
    __asm__ volatile("pause");
#endif
}

class SpinLock {
public:
    void lock() {
        while (!try_lock()) {
            while (locked_.load(std::memory_order_relaxed) != 0) cpu_relax();
        }
    }
    // On RISC-V an atomic swap: one `amoswap.w.aq`, where a compare-and-swap is an LR/SC loop of
    // four instructions (the executor takes this lock once per coroutine; docs/performance.md).
    // Elsewhere a compare-and-swap, measured faster on the host (docs/performance.md).
    bool try_lock() {
#if defined(__riscv)
        return locked_.exchange(1, std::memory_order_acquire) == 0;
#else
        uint32_t expected = 0;
        return locked_.compare_exchange_strong(expected, 1, std::memory_order_acquire,
                                               std::memory_order_relaxed);
#endif
    }
    void unlock() { locked_.store(0, std::memory_order_release); }

private:
    // A word, not a bool: rv64imac has amoswap.w but no byte-sized atomic swap (no libatomic call).
    std::atomic<uint32_t> locked_{0};
};

// Holds a lock from construction to the end of the scope.
template <typename Lock>
class [[nodiscard]] ScopedLock {
public:
    explicit ScopedLock(Lock& lock) : lock_(lock) { lock_.lock(); }
    ~ScopedLock() { lock_.unlock(); }
    ScopedLock(const ScopedLock&) = delete;
    ScopedLock& operator=(const ScopedLock&) = delete;

private:
    Lock& lock_;
};

} // namespace cokernel

namespace kernel {
using cokernel::ScopedLock;
using cokernel::SpinLock;
} // namespace kernel

namespace vdso {
using cokernel::cpu_relax;
using cokernel::ScopedLock;
using cokernel::SpinLock;
} // namespace vdso
