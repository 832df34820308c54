// Per-hart state, reached through the tp register.
//
// Each hart that runs the kernel has one Hart record. tp holds its address from the moment the
// hart enters C++ (boot hart: once kernel_main has set it, before it installs the trap vector) and is
// never changed by kernel code; the trap vector relies on it (trap_scratch, emergency_stack_top).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "kernel/arch/riscv/trap_constants.h"
#include "kernel/fdt/platform.hpp"

namespace kernel {

namespace proc {
struct Thread;
}

// IPI reasons, a bit each in Hart::pending_ipis. Kick does nothing but interrupt the hart: a thread
// running in user mode there traps, and on its way back to user mode it takes a raised user interrupt
// or notices that its process is ending (kernel/uintr/user_interrupt.hpp, kill). Schedule wakes a hart
// waiting for interrupts in its scheduler loop: the loop looks for work.
enum class IpiReason : uint32_t { Ping = 1u << 0, Halt = 1u << 1, FlushTlb = 1u << 2, Kick = 1u << 3, Schedule = 1u << 4 };

struct Hart {
    // The first four fields are at fixed offsets (trap_constants.h) for boot.S and trap.S.
    uint64_t kernel_stack_top;          // boot.S loads sp from it
    uint64_t trap_scratch[2];           // trap.S keeps t0 and t1 here while it checks for a stack overflow
    uint64_t emergency_stack_top = 0;   // where trap.S reports a kernel stack overflow (not in the stack area)
    uint32_t hart_id;                   // the hardware hart id (mhartid)
    uint32_t index;                     // 0..hart_count-1, dense
    uint32_t plic_context;              // S-mode external interrupt context, or NoPlicContext
    bool has_sstc;                      // stimecmp usable (ISA has it and firmware enabled it)
    std::atomic<bool> online{false};
    std::atomic<uint32_t> pending_ipis{0};
    std::atomic<uint64_t> timer_ticks{0};
    std::atomic<uint64_t> pings_received{0};
    std::atomic<uint64_t> tlb_flushes{0};  // FlushTlb IPIs handled
    std::atomic<uint64_t> kicks_received{0};  // Kick IPIs handled
    // The ISA string has `n`: the user-interrupt CSRs exist here (kernel/uintr/user_interrupt.cpp).
    bool has_user_interrupt_csrs = false;
    // sideleg.USI is set here: the hardware delivers user interrupts (false on a hart with the CSRs
    // whose firmware does not delegate USI: user interrupts do not work there).
    bool delivers_user_interrupts = false;
    // Set by riscv::probe() while an expected exception may happen; cleared by the trap handler.
    bool probing = false;
    bool probe_faulted = false;
    // Interrupt handlers running on this hart (riscv::handle_interrupt): nonzero in interrupt context.
    uint32_t interrupt_depth = 0;
    // The thread running on this hart (proc::current_thread): set by the scheduler loop from its
    // switch to the thread until the thread gives the hart back; nullptr in the loop itself.
    proc::Thread* current_thread = nullptr;
    uint64_t kernel_stack_bottom;       // [bottom, top): the hart's own stack, in the kernel stack area
    const fdt::HartInfo* info = nullptr;
    // User TLB shootdown (flush_user_tlb_on_all_harts): 1 while the hart runs in user mode (from the
    // last step before sret to the first step of the user trap handler); a flush asked of the hart,
    // done by its FlushTlb IPI or, at the latest, on its next entry to user mode or before the kernel
    // next reaches user memory through user addresses (flush_pending_user_tlb).
    std::atomic<uint32_t> in_user_mode{0};
    std::atomic<uint32_t> user_tlb_flush_pending{0};
};

constexpr uint32_t NoPlicContext = 0xffffffffu;

static_assert(offsetof(Hart, kernel_stack_top) == HART_KERNEL_STACK_TOP);
static_assert(offsetof(Hart, trap_scratch) == HART_TRAP_SCRATCH_T0);
static_assert(offsetof(Hart, trap_scratch) + 8 == HART_TRAP_SCRATCH_T1);
static_assert(offsetof(Hart, emergency_stack_top) == HART_EMERGENCY_STACK_TOP);

inline Hart* current_hart() {
    Hart* hart;
    asm volatile("mv %0, tp" : "=r"(hart));
    return hart;
}

// Whether the caller runs inside an interrupt handler (a top half) of this hart.
inline bool in_interrupt_handler() {
    Hart* hart = current_hart();
    return hart != nullptr && hart->interrupt_depth != 0;
}

// All harts the kernel knows, indexed by Hart::index. Filled by start_harts().
Hart* hart_by_index(size_t index);
Hart* hart_by_id(uint32_t hart_id);
size_t hart_count();          // harts the kernel runs on (enabled, with an MMU)
size_t online_hart_count();

// Sets up the boot hart's record and tp. Called once, early in kernel_main.
void init_boot_hart(uint32_t hart_id, uint64_t stack_bottom, uint64_t stack_top);

// Gives the boot hart its stack in the kernel stack area and its emergency stack (once memory is set
// up) and continues in `continuation` on that stack; the .bss boot stack is left behind for good.
// Panics if there is no memory for them: nothing else could run either.
[[noreturn]] void move_boot_hart_to_stack_area(void (*continuation)());

// Starts every other usable hart through SBI HSM and waits (bounded) until each is online.
void start_secondary_harts();

// Sends an IPI; the receiving hart handles it in its trap handler.
void send_ipi(Hart& target, IpiReason reason);

// User TLB shootdown: after it returns, no hart can use a TLB entry of a user mapping removed before
// the call. This hart flushes; every other hart flushes before it next runs in user mode, and the
// call waits only for the harts that are in user mode now (they take the FlushTlb IPI at once, their
// interrupts being on there). A hart in the kernel is not waited for: its stale entries are harmless
// until it next uses a user address, and it flushes first: on its way to user mode
// (note_entering_user_mode), and before the kernel itself reaches user memory through user addresses
// (AddressSpace's copies with SUM, which call flush_pending_user_tlb under the address space's lock,
// the lock the caller of this function holds while it unmaps: the request is seen). So the caller may
// hold locks that harts in the kernel are spinning on (an AddressSpace's lock).
// Safe with interrupts off: while waiting, this hart serves flush requests itself.
void flush_user_tlb_on_all_harts();
// Does this hart's pending shootdown request now (sfence.vma of everything), if there is one.
void flush_pending_user_tlb_slow();
inline void flush_pending_user_tlb() {
    if (current_hart()->user_tlb_flush_pending.load(std::memory_order_acquire) != 0) flush_pending_user_tlb_slow();
}
// The user-mode bracket of the shootdown: the last step before sret to user mode (interrupts off)
// and the first step of a trap from user mode.
// Inline: every return to user mode takes it; the flush itself is out of line.
void flush_user_tlb_on_entry();
inline void note_entering_user_mode() {
    Hart* hart = current_hart();
    hart->in_user_mode.store(1, std::memory_order_seq_cst);
    if (hart->user_tlb_flush_pending.exchange(0, std::memory_order_seq_cst)) flush_user_tlb_on_entry();
}
inline void note_left_user_mode() { current_hart()->in_user_mode.store(0, std::memory_order_seq_cst); }

} // namespace kernel
