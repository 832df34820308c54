// Trap handling: the saved register frame, interrupt dispatch and the report of an unexpected
// exception.
#pragma once

#include <cstdint>

namespace kernel::riscv {

// Filled by trap.S on every trap. Layout is fixed by trap.S: do not reorder.
struct TrapFrame {
    uint64_t regs[32];  // x0..x31; regs[2] is the sp before the trap
    uint64_t sepc;
    uint64_t sstatus;
    uint64_t scause;
    uint64_t stval;
};
static_assert(sizeof(TrapFrame) == 36 * 8, "trap.S saves 36 doublewords");

// A thread's user-mode state while it is in the kernel. sscratch points to it while the thread runs
// in user mode; trap.S fills `frame` on every trap from user mode and switches to kernel_sp/kernel_tp.
struct UserContext {
    TrapFrame frame;
    uint64_t kernel_sp;  // top of the thread's kernel stack
    uint64_t kernel_tp;  // the Hart the thread runs on (set each time it is scheduled)
};
static_assert(sizeof(UserContext) == 38 * 8, "trap.S: kernel_sp at 36*8, kernel_tp at 37*8");

// Installs the trap vector on the calling hart.
void install_trap_vector();

// Runs fn with an expected exception allowed: if the instruction at the faulting pc traps with an
// exception, the trap handler skips it and probe() returns false instead of stopping the kernel.
// Used to test whether a CSR exists (Sstc's stimecmp behind firmware that has not enabled it).
bool probe(void (*fn)());

// Dispatches an interrupt (scause with the interrupt bit) to its handler.
void handle_interrupt(uint64_t scause);

// Short name of an exception or interrupt cause ("load page fault", ...).
const char* cause_name(uint64_t scause);

// Called by the kernel stack overflow report with the bottom of the overflowed stack: prints a line
// naming its owner and returns true if the hook knows it (the scheduler names the current thread),
// false otherwise. Set once at boot; architecture code includes nothing from the subsystems above it.
using KernelStackOwnerHook = bool (*)(uint64_t stack_bottom);
void set_kernel_stack_owner_hook(KernelStackOwnerHook hook);

// Prints cause, pc, faulting address, every register and a frame-pointer backtrace, then stops
// the machine. For exceptions nobody expected.
[[noreturn]] void report_fatal_trap(const TrapFrame& frame);

} // namespace kernel::riscv

extern "C" void trap_handler(kernel::riscv::TrapFrame* frame);
// Handles a trap from user mode; returns the context to resume (trap.S then enters user mode).
extern "C" kernel::riscv::UserContext* user_trap_handler(kernel::riscv::UserContext* context);
// Enters user mode with the context's registers (trap.S).
extern "C" [[noreturn]] void return_to_user(kernel::riscv::UserContext* context);
