// Interrupt sources: the PLIC's external interrupts (routed to handlers by source number) and
// inter-processor interrupts.
#pragma once

#include <cstdint>

#include "kernel/fdt/platform.hpp"

namespace kernel::riscv {

using InterruptHandler = void (*)();

// Binds the PLIC the device tree describes. Without one, external interrupts stay off.
void init_plic(const fdt::PlicInfo& plic);

// Routes PLIC source `source` to `handler` on the given hart's context, priority 1.
bool register_external_interrupt(uint32_t source, uint32_t plic_context, InterruptHandler handler);

// Enables software, timer and external interrupts on the calling hart (sie) and sets its PLIC
// threshold to 0.
void enable_hart_interrupts();

// Called from the trap handler.
void handle_external_interrupt();
void handle_ipi();

// Counters for tests and `info`.
uint64_t external_interrupt_count();

} // namespace kernel::riscv
