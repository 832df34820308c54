// RISC-V Platform-Level Interrupt Controller (riscv,plic0 / sifive,plic-1.0.0).
//
// Each hart's S-mode external interrupt is one PLIC "context" (numbers from the device tree's
// interrupts-extended, not computed). A source is delivered to a context when its priority is
// above the context's threshold and its enable bit for that context is set.
#pragma once

#include <cstdint>

namespace drivers {

class Plic {
public:
    Plic() = default;
    Plic(uintptr_t base, uint32_t source_count) : base_(base), source_count_(source_count) {}

    bool present() const { return base_ != 0; }
    uint32_t source_count() const { return source_count_; }

    void set_priority(uint32_t source, uint32_t priority);
    void enable(uint32_t context, uint32_t source);
    void disable(uint32_t context, uint32_t source);
    void set_threshold(uint32_t context, uint32_t threshold);
    // Claims the highest pending source for the context (0 = none) and completes it.
    uint32_t claim(uint32_t context);
    void complete(uint32_t context, uint32_t source);

private:
    uintptr_t base_ = 0;
    uint32_t source_count_ = 0;
};

} // namespace drivers
