#include "kernel/arch/riscv/interrupts.hpp"

#include <atomic>

#include "drivers/plic/plic.hpp"
#include "kernel/arch/riscv/csr.hpp"
#include "kernel/arch/riscv/hart.hpp"
#include "kernel/mm/memory.hpp"

namespace kernel::riscv {

namespace {

constexpr uint32_t MaxSources = 1024;  // the PLIC specification's limit

drivers::Plic plic;
// Written only during boot (register_external_interrupt), read by every hart's trap handler.
InterruptHandler handlers[MaxSources];
std::atomic<uint64_t> external_interrupts{0};

} // namespace

void init_plic(const fdt::PlicInfo& info) {
    if (!info.present) return;
    uintptr_t base = reinterpret_cast<uintptr_t>(mm::physical_map().to_virtual(info.base));
    uint32_t sources = info.ndev < MaxSources ? info.ndev : MaxSources - 1;
    plic = drivers::Plic(base, sources);
}

bool register_external_interrupt(uint32_t source, uint32_t plic_context, InterruptHandler handler) {
    if (!plic.present() || source == 0 || source > plic.source_count() || plic_context == NoPlicContext)
        return false;
    handlers[source] = handler;
    plic.set_priority(source, 1);
    plic.enable(plic_context, source);
    return true;
}

void enable_hart_interrupts() {
    Hart* hart = current_hart();
    uint64_t bits = InterruptSoftware | InterruptTimer;
    if (plic.present() && hart->plic_context != NoPlicContext) {
        plic.set_threshold(hart->plic_context, 0);
        bits |= InterruptExternal;
    }
    set_sie(bits);
    enable_interrupts();
}

void handle_external_interrupt() {
    uint32_t context = current_hart()->plic_context;
    if (!plic.present() || context == NoPlicContext) return;
    while (uint32_t source = plic.claim(context)) {
        external_interrupts.fetch_add(1, std::memory_order_relaxed);
        if (source < MaxSources && handlers[source]) handlers[source]();
        plic.complete(context, source);
    }
}

void handle_ipi() {
    Hart* hart = current_hart();
    uint32_t reasons = hart->pending_ipis.exchange(0, std::memory_order_acq_rel);
    if (reasons & static_cast<uint32_t>(IpiReason::Ping)) hart->pings_received.fetch_add(1, std::memory_order_release);
    // Kick: taking the interrupt was the point (the trap from user mode does the rest).
    if (reasons & static_cast<uint32_t>(IpiReason::Kick)) hart->kicks_received.fetch_add(1, std::memory_order_relaxed);
    if (reasons & static_cast<uint32_t>(IpiReason::FlushTlb)) {
        hart->user_tlb_flush_pending.store(0, std::memory_order_seq_cst);  // before the flush: a later request stays
        flush_tlb_page_all();
        hart->tlb_flushes.fetch_add(1, std::memory_order_release);
    }
    if (reasons & static_cast<uint32_t>(IpiReason::Halt)) {
        disable_interrupts();
        for (;;) wait_for_interrupt();
    }
}

uint64_t external_interrupt_count() { return external_interrupts.load(std::memory_order_relaxed); }

} // namespace kernel::riscv
