#include "kernel/arch/riscv/hart.hpp"

#include "kernel/arch/riscv/csr.hpp"
#include "kernel/arch/riscv/interrupts.hpp"
#include "kernel/arch/riscv/sbi.hpp"
#include "kernel/arch/riscv/timer.hpp"
#include "kernel/boot/boot.hpp"
#include "kernel/console/log.hpp"
#include "kernel/mm/kernel_stacks.hpp"
#include "kernel/mm/memory.hpp"

extern "C" char _secondary_start[];
// boot.S: sp = top, then continuation() with an empty frame-pointer chain. Never returns.
extern "C" [[noreturn]] void call_on_stack(uint64_t top, void (*continuation)());

namespace kernel {

namespace {

constexpr size_t EmergencyStackFrames = 2;  // 8 KiB per hart, for the stack-overflow report
constexpr uint64_t StartTimeoutMicroseconds = 10'000'000;  // generous: QEMU on a loaded host is slow

// One record per hart the kernel runs on; harts_used of them are valid. Written by the boot hart
// before the hart it describes starts; afterwards each hart writes only its own record.
Hart harts[fdt::MaxHarts];
size_t harts_used = 0;

uint32_t plic_context_of(const fdt::BootInfo& info, uint32_t hart_id) {
    for (size_t i = 0; i < info.plic.s_context_count; ++i)
        if (info.plic.s_contexts[i].hart_id == hart_id) return info.plic.s_contexts[i].context;
    return NoPlicContext;
}

const fdt::HartInfo* hart_info(const fdt::BootInfo& info, uint32_t hart_id) {
    for (size_t i = 0; i < info.hart_count; ++i)
        if (info.harts[i].hart_id == hart_id) return &info.harts[i];
    return nullptr;
}

Hart& new_hart_record(uint32_t hart_id) {
    Hart& hart = harts[harts_used];
    hart.index = static_cast<uint32_t>(harts_used++);
    hart.hart_id = hart_id;
    hart.info = hart_info(boot_info(), hart_id);
    hart.plic_context = plic_context_of(boot_info(), hart_id);
    return hart;
}

// The hart's own stack (in the kernel stack area) and its emergency stack (direct map, outside the
// area: an overflow report must not depend on the area). NoMemory leaves the record unchanged.
Result<void> give_stacks(Hart& hart) {
    auto emergency = TRY(mm::frames().allocate_contiguous(EmergencyStackFrames));
    auto stack = mm::allocate_kernel_stack();
    if (!stack) {
        (void)mm::frames().free(emergency, EmergencyStackFrames);
        return stack.error();
    }
    hart.emergency_stack_top =
        reinterpret_cast<uint64_t>(mm::physical_map().to_virtual(emergency)) + EmergencyStackFrames * mm::PageSize;
    hart.kernel_stack_bottom = stack->bottom;
    hart.kernel_stack_top = stack->top;
    return success();
}

void take_stacks_back(Hart& hart) {
    mm::free_kernel_stack(mm::kernel_stack_of_slot(hart.kernel_stack_bottom));
    uint64_t emergency_bottom = hart.emergency_stack_top - EmergencyStackFrames * mm::PageSize;
    (void)mm::frames().free(mm::physical_map().to_physical(reinterpret_cast<void*>(emergency_bottom)),
                            EmergencyStackFrames);
    hart.emergency_stack_top = hart.kernel_stack_bottom = hart.kernel_stack_top = 0;
}

} // namespace

Hart* hart_by_index(size_t index) { return index < harts_used ? &harts[index] : nullptr; }

Hart* hart_by_id(uint32_t hart_id) {
    for (size_t i = 0; i < harts_used; ++i)
        if (harts[i].hart_id == hart_id) return &harts[i];
    return nullptr;
}

size_t hart_count() { return harts_used; }

size_t online_hart_count() {
    size_t online = 0;
    for (size_t i = 0; i < harts_used; ++i) online += harts[i].online.load(std::memory_order_acquire);
    return online;
}

void init_boot_hart(uint32_t hart_id, uint64_t stack_bottom, uint64_t stack_top) {
    Hart& hart = harts[0];
    hart.hart_id = hart_id;
    hart.index = 0;
    hart.kernel_stack_bottom = stack_bottom;
    hart.kernel_stack_top = stack_top;
    hart.plic_context = NoPlicContext;
    harts_used = 1;
    asm volatile("mv tp, %0" ::"r"(&hart));
}

void move_boot_hart_to_stack_area(void (*continuation)()) {
    Hart& hart = harts[0];
    if (auto given = give_stacks(hart); !given)
        panic("no memory for the boot hart's stack ({})", error_name(given.error()));
    call_on_stack(hart.kernel_stack_top, continuation);
}

// Called once the device tree is parsed: fills in what the boot hart's record needs from it.
void complete_boot_hart_record() {
    Hart& hart = harts[0];
    hart.info = hart_info(boot_info(), hart.hart_id);
    hart.plic_context = plic_context_of(boot_info(), hart.hart_id);
}

void start_secondary_harts() {
    const fdt::BootInfo& info = boot_info();
    uint64_t entry = mm::kernel_image_physical(_secondary_start);
    for (size_t i = 0; i < info.hart_count; ++i) {
        const fdt::HartInfo& candidate = info.harts[i];
        if (candidate.hart_id == harts[0].hart_id) continue;
        if (!candidate.enabled || !candidate.has_mmu) continue;  // e.g. sifive_u's E51 monitor core
        Hart& hart = new_hart_record(candidate.hart_id);
        if (auto given = give_stacks(hart); !given) {
            println("hart {}: no memory for its stacks ({}), left stopped", candidate.hart_id, error_name(given.error()));
            --harts_used;
            continue;
        }
        // A hart the firmware has not yet put in its stopped state answers "already available":
        // wait for it (boot.S stops such a hart if the firmware sent it to the kernel's entry).
        auto result = sbi::hart_start(hart.hart_id, entry, reinterpret_cast<uint64_t>(&hart));
        for (int attempt = 0; result.error == sbi::ErrorAlreadyAvailable && attempt < 200; ++attempt) {
            riscv::timer::busy_wait_microseconds(10'000);
            result = sbi::hart_start(hart.hart_id, entry, reinterpret_cast<uint64_t>(&hart));
        }
        if (result.error != 0) {
            println("hart {}: SBI hart_start failed ({}), left stopped", hart.hart_id, result.error);
            take_stacks_back(hart);
            --harts_used;
            continue;
        }
    }
    // A hart the firmware sent to _start (boot.S) stops itself there, possibly after accepting the
    // start above: a hart found stopped while not yet online is started again.
    uint64_t deadline = riscv::timer::now() + StartTimeoutMicroseconds * riscv::timer::frequency() / 1'000'000;
    while (online_hart_count() < harts_used && riscv::timer::now() < deadline) {
        riscv::timer::busy_wait_microseconds(20'000);
        for (size_t i = 1; i < harts_used; ++i) {
            Hart& hart = harts[i];
            if (hart.online.load(std::memory_order_acquire)) continue;
            if (sbi::hart_status(hart.hart_id).value == static_cast<long>(sbi::HartState::Stopped))
                (void)sbi::hart_start(hart.hart_id, entry, reinterpret_cast<uint64_t>(&hart));
        }
    }
    for (size_t i = 0; i < harts_used; ++i)
        if (!harts[i].online.load())
            println("hart {}: did not come online within 10 s (SBI HSM status {})", harts[i].hart_id,
                    sbi::hart_status(harts[i].hart_id).value);
}

void send_ipi(Hart& target, IpiReason reason) {
    target.pending_ipis.fetch_or(static_cast<uint32_t>(reason), std::memory_order_release);
    uint64_t base = target.hart_id & ~63u;
    sbi::send_ipi(1ull << (target.hart_id - base), base);
}

} // namespace kernel

namespace kernel {

void flush_user_tlb_on_all_harts() {
    riscv::flush_tlb_page_all();
    Hart* self = current_hart();
    uint64_t before[fdt::MaxHarts];
    bool waited_for[fdt::MaxHarts] = {};
    for (size_t i = 0; i < harts_used; ++i) {
        Hart& hart = harts[i];
        if (&hart == self || !hart.online.load()) continue;
        before[i] = hart.tlb_flushes.load(std::memory_order_acquire);
        // Either this sees the hart in user mode (and waits for its IPI), or the hart, entering user
        // mode, sees the request (note_entering_user_mode): both sides sequentially consistent.
        hart.user_tlb_flush_pending.store(1, std::memory_order_seq_cst);
        if (hart.in_user_mode.load(std::memory_order_seq_cst)) {
            waited_for[i] = true;
            send_ipi(hart, IpiReason::FlushTlb);
        }
    }
    for (size_t i = 0; i < harts_used; ++i) {
        if (!waited_for[i]) continue;
        Hart& hart = harts[i];
        // Done when it flushed, or when it left user mode (then it flushes before going back).
        while (hart.tlb_flushes.load(std::memory_order_acquire) == before[i] &&
               hart.in_user_mode.load(std::memory_order_seq_cst)) {
            // Another hart may be waiting for this one in the same way.
            if (riscv::read_sip() & riscv::InterruptSoftware) {
                riscv::clear_sip(riscv::InterruptSoftware);
                riscv::handle_ipi();
            }
        }
    }
}

void flush_user_tlb_on_entry() {
    riscv::flush_tlb_page_all();
    current_hart()->tlb_flushes.fetch_add(1, std::memory_order_release);
}

void flush_pending_user_tlb_slow() {
    Hart* hart = current_hart();
    if (hart->user_tlb_flush_pending.exchange(0, std::memory_order_seq_cst)) {
        riscv::flush_tlb_page_all();
        hart->tlb_flushes.fetch_add(1, std::memory_order_release);
    }
}

} // namespace kernel
