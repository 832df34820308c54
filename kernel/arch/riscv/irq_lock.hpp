// IrqSpinLock: a SpinLock that also masks supervisor interrupts on the holding hart, for data
// shared with interrupt handlers (console rings, the PLIC, per-hart queues).
#pragma once

#include "kernel/arch/riscv/csr.hpp"
#include "abi/spin_lock.hpp"

namespace kernel {

class IrqSpinLock {
public:
    void lock() {
        bool enabled = riscv::save_and_disable_interrupts();
        lock_.lock();
        interrupts_were_enabled_ = enabled;
    }
    bool try_lock() {
        bool enabled = riscv::save_and_disable_interrupts();
        if (!lock_.try_lock()) {
            riscv::restore_interrupts(enabled);
            return false;
        }
        interrupts_were_enabled_ = enabled;
        return true;
    }
    void unlock() {
        bool enabled = interrupts_were_enabled_;
        lock_.unlock();
        riscv::restore_interrupts(enabled);
    }

private:
    SpinLock lock_;
    bool interrupts_were_enabled_ = false;  // guarded by lock_
};

} // namespace kernel
