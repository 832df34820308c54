#include "kernel/sched/fp_state.hpp"

#include <atomic>

#include "kernel/arch/riscv/hart.hpp"

namespace kernel::proc {

namespace {

bool available = false;

// Per hart: the thread whose state the hart's FP registers were last loaded with (or stored from).
// Only that hart reads or writes its entry. The pointer alone proves nothing (the thread may have
// loaded on another hart since, or be freed and its memory reused): Thread::fp_loaded_on must name
// this hart too.
Thread* owner[fdt::MaxHarts];

std::atomic<uint64_t> saves{0}, loads{0}, first_uses{0};

uint64_t fs_of(const Thread& thread) { return thread.user->frame.sstatus & riscv::SstatusFsMask; }

void set_fs(Thread& thread, uint64_t fs) {
    uint64_t& sstatus = thread.user->frame.sstatus;
    sstatus = (sstatus & ~riscv::SstatusFsMask) | fs;
}

void load(Thread& thread) {
    uint32_t hart = current_hart()->index;
    fp_load_registers(&thread.fp);
    owner[hart] = &thread;
    thread.fp_loaded_on = hart;
    loads.fetch_add(1, std::memory_order_relaxed);
}

} // namespace

void init_fp_state(bool every_hart_has_fd, bool disabled_by_boot_argument) {
    available = every_hart_has_fd && !disabled_by_boot_argument;
}

bool fp_available() { return available; }

void fp_switch_in(Thread& thread) {
    if (fs_of(thread) == riscv::SstatusFsOff) return;
    uint32_t hart = current_hart()->index;
    if (owner[hart] == &thread && thread.fp_loaded_on == hart) return;  // still in the registers
    load(thread);
    set_fs(thread, riscv::SstatusFsClean);
}

void fp_switch_out(Thread& thread) {
    if (fs_of(thread) != riscv::SstatusFsDirty) return;
    fp_save_registers(&thread.fp);
    saves.fetch_add(1, std::memory_order_relaxed);
    set_fs(thread, riscv::SstatusFsClean);
}

void fp_forget(Thread& thread) {
    uint32_t hart = current_hart()->index;
    if (owner[hart] == &thread) owner[hart] = nullptr;
    thread.fp_loaded_on = Thread::NotRunning;
}

bool fp_first_use(Thread& thread, riscv::TrapFrame& frame) {
    if (!available || (frame.sstatus & riscv::SstatusFsMask) != riscv::SstatusFsOff) return false;
    load(thread);
    frame.sstatus = (frame.sstatus & ~riscv::SstatusFsMask) | riscv::SstatusFsClean;
    first_uses.fetch_add(1, std::memory_order_relaxed);
    return true;
}

bool is_fp_instruction(uint32_t instruction) {
    if ((instruction & 3) != 3) {  // compressed: c.fld, c.fsd (quadrant 0), c.fldsp, c.fsdsp (quadrant 2)
        uint32_t quadrant = instruction & 3, funct3 = (instruction >> 13) & 7;
        return (quadrant == 0 || quadrant == 2) && (funct3 == 1 || funct3 == 5);
    }
    switch (instruction & 0x7f) {
    case 0x07: case 0x27:                        // LOAD-FP, STORE-FP
    case 0x43: case 0x47: case 0x4b: case 0x4f:  // fused multiply-add
    case 0x53: return true;                      // OP-FP
    case 0x73: {                                 // SYSTEM: fflags, frm, fcsr
        uint32_t funct3 = (instruction >> 12) & 7, csr = instruction >> 20;
        return funct3 != 0 && funct3 != 4 && csr >= 1 && csr <= 3;
    }
    default: return false;
    }
}

void fp_copy_to_new_thread(const Thread& creator, Thread& child) {
    child.fp_loaded_on = Thread::NotRunning;
    if (fs_of(creator) == riscv::SstatusFsOff) {
        set_fs(child, riscv::SstatusFsOff);
        return;
    }
    fp_save_registers(&child.fp);  // the creator runs here: the registers are its state
    set_fs(child, riscv::SstatusFsClean);
}

void fp_reset(Thread& thread) {
    thread.fp = {};
    thread.fp_loaded_on = Thread::NotRunning;
    set_fs(thread, riscv::SstatusFsOff);
}

FpCounters fp_counters() {
    return {saves.load(std::memory_order_relaxed), loads.load(std::memory_order_relaxed),
            first_uses.load(std::memory_order_relaxed)};
}

} // namespace kernel::proc
