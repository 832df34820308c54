// Kernel stacks with guard pages: every kernel stack (each thread's, each hart's) lives in one 1 GiB
// area of the kernel half, in a 32 KiB slot of its own:
//
//   slot i = [KernelStackAreaBase + i * 32 KiB, + 32 KiB)
//            lower 16 KiB: guard, never mapped     upper 16 KiB: the stack, 4 pages RW + Global
//
// A stack that overflows runs into its own slot's guard and faults instead of corrupting memory
// below it; the trap vector (kernel/arch/riscv/trap.S) sees that sp lies in a guard (bit 14 of its
// offset in the area clear) and reports the overflow from a per-hart emergency stack.
//
// Rules kept here:
//   * The area's level-1 table exists from init_kernel_stacks() on, before any user address space
//     copies the kernel half, so every address space sees every later mapping here. The level-0
//     tables of the first PreparedKernelStackSlots slots are made at boot too; those of higher slots
//     on first use. All of them are kept (PageTable::keep_tables), never freed.
//   * The 4 pages of a stack are separately allocated frames; the guard half is never mapped.
//   * TLB: a new stack is flushed (sfence.vma) on the hart that made it, which writes the first
//     context into it. Any other hart touches a stack only after switching to its thread, and the
//     scheduler's switch does a full flush first (kernel/sched/scheduler.cpp, run_once). Freeing flushes
//     locally only: no hart touches a stack's addresses again before a full flush of its own (the
//     stack's thread has left every hart, each of which flushed on the way out), so a stale entry
//     elsewhere is never used. No shootdown is needed.
#pragma once

#include <cstddef>
#include <cstdint>

#include "abi/result.hpp"
#include "kernel/arch/riscv/trap_constants.h"

namespace kernel::mm {

constexpr uint64_t KernelStackAreaBase = KERNEL_STACK_AREA_BASE;
constexpr uint64_t KernelStackAreaSize = uint64_t{1} << KERNEL_STACK_AREA_SHIFT;  // 1 GiB
constexpr uint64_t KernelStackSlotSize = uint64_t{1} << KERNEL_STACK_SLOT_SHIFT;  // 32 KiB
constexpr uint64_t KernelStackGuardSize = uint64_t{1} << KERNEL_STACK_GUARD_SHIFT;  // 16 KiB, the lower half
constexpr uint64_t KernelStackSize = KernelStackSlotSize - KernelStackGuardSize;
constexpr size_t KernelStackPages = KernelStackSize / 4096;
constexpr size_t KernelStackSlots = KernelStackAreaSize / KernelStackSlotSize;  // 32,768
constexpr size_t PreparedKernelStackSlots = 256;  // page tables made at boot (4 level-0 tables)

struct KernelStack {
    uint64_t bottom = 0;  // lowest byte of the stack (the guard lies just below)
    uint64_t top = 0;     // one past the highest byte: the initial sp
    uint32_t slot = 0;
};

// Makes the area's page tables (see above). Called by mm::init, after the kernel page table exists.
Result<void> init_kernel_stacks();

// A stack in the lowest free slot. NoMemory when no slot or no frame (for a page or a page table)
// is left; then nothing of the attempt stays.
Result<KernelStack> allocate_kernel_stack();
// Unmaps the stack, frees its frames and its slot. The stack must not be in use on any hart.
void free_kernel_stack(const KernelStack& stack);

// Whether an address lies in the area / in the guard half of a slot.
constexpr bool in_kernel_stack_area(uint64_t address) { return address - KernelStackAreaBase < KernelStackAreaSize; }
constexpr bool in_kernel_stack_guard(uint64_t address) {
    return in_kernel_stack_area(address) && ((address - KernelStackAreaBase) & KernelStackGuardSize) == 0;
}
// The stack of the slot holding `address` (an address in the area).
constexpr KernelStack kernel_stack_of_slot(uint64_t address) {
    uint64_t slot = (address - KernelStackAreaBase) / KernelStackSlotSize;
    uint64_t base = KernelStackAreaBase + slot * KernelStackSlotSize;
    return {base + KernelStackGuardSize, base + KernelStackSlotSize, static_cast<uint32_t>(slot)};
}

// Names a stack that is neither a hart's nor a thread's, for the overflow report (a few at a time;
// false when the table of names is full). The name must outlive the stack; freeing drops it.
bool name_kernel_stack(const KernelStack& stack, const char* name);
// The name given to the stack in `slot`, or nullptr.
const char* kernel_stack_name(uint32_t slot);

size_t kernel_stacks_in_use();
// For tests: at most `limit` slots may be in use from now on (KernelStackSlots restores the default).
// Returns the previous limit.
size_t limit_kernel_stack_slots(size_t limit);

} // namespace kernel::mm
