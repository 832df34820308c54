// Traps from user mode: system calls, interrupts that arrive while a thread runs, faults, which end
// the faulting process (never the kernel) with a message naming the fault, pc and address, and the
// N extension's instructions, emulated where the hart lacks it (kernel/uintr/user_interrupt.hpp).
// Every trap ends in finish_return_to_user, which delivers a raised user interrupt.
#include "kernel/arch/riscv/csr.hpp"
#include "kernel/arch/riscv/hart.hpp"
#include "kernel/arch/riscv/trap.hpp"
#include "kernel/console/log.hpp"
#include "kernel/proc/process.hpp"
#include "kernel/sched/fp_state.hpp"
#include "kernel/sched/kernel_work.hpp"
#include "kernel/sched/scheduler.hpp"
#include "kernel/syscall/dispatch.hpp"
#include "kernel/uintr/user_interrupt.hpp"

namespace kernel::proc {

namespace {

int fault_status(riscv::ExceptionCause cause) {
    using riscv::ExceptionCause;
    switch (cause) {
    case ExceptionCause::IllegalInstruction:
    case ExceptionCause::Breakpoint: return StatusIllegalInstruction;
    case ExceptionCause::InstructionMisaligned:
    case ExceptionCause::LoadMisaligned:
    case ExceptionCause::StoreMisaligned: return StatusBusError;
    default: return StatusSegmentationFault;
    }
}

// The instruction that trapped: QEMU puts it in stval; hardware may leave 0 (then it is read).
uint32_t trapped_instruction(Thread& thread, const riscv::TrapFrame& frame) {
    uint32_t instruction = static_cast<uint32_t>(frame.stval);
    if (frame.stval == 0 && !thread.process->address_space.copy_from_user(&instruction, frame.sepc, 2)) return 0;
    if (frame.stval == 0 && (instruction & 3) == 3 &&
        !thread.process->address_space.copy_from_user(&instruction, frame.sepc, 4))
        return 0;
    return instruction;
}

[[noreturn]] void end_faulting_process(Thread& thread, const riscv::TrapFrame& frame) {
    if (frame.scause == static_cast<uint64_t>(riscv::ExceptionCause::IllegalInstruction) && !fp_available() &&
        is_fp_instruction(trapped_instruction(thread, frame))) {
        // docs/syscalls.md, "Floating point": the documented error on a machine without F/D.
        println("process {} ({}) killed: floating-point instruction at pc {:#x}, but user programs have no FPU "
                "here (the harts lack F/D, or boot argument nofpu)",
                thread.process->pid, thread.process->name, frame.sepc);
        exit_current_process(StatusIllegalInstruction, true);
    }
    println("process {} ({}) killed: {} at pc {:#x}, address {:#x}", thread.process->pid, thread.process->name,
            riscv::cause_name(frame.scause), frame.sepc, frame.stval);
    exit_current_process(fault_status(static_cast<riscv::ExceptionCause>(frame.scause)), true);
}

} // namespace

} // namespace kernel::proc

using namespace kernel;

extern "C" riscv::UserContext* user_trap_handler(riscv::UserContext* context) {
    note_left_user_mode();  // a user TLB shootdown no longer waits for this hart (hart.hpp)
    proc::Thread* thread = proc::current_thread();
    riscv::TrapFrame& frame = context->frame;
    proc::save_user_interrupt_csrs(*thread);  // harts with the N extension: the thread's CSRs
    if (frame.scause & riscv::CauseInterruptBit) {
        riscv::handle_interrupt(frame.scause);
        if ((frame.scause & ~riscv::CauseInterruptBit) == static_cast<uint64_t>(riscv::InterruptCause::Timer))
            thread->yield_requested = true;  // preemption: the time slice is one tick
    } else if (frame.scause == static_cast<uint64_t>(riscv::ExceptionCause::EnvironmentCallFromUser)) {
        frame.sepc += 4;
        frame.regs[10] = static_cast<uint64_t>(proc::dispatch_syscall(frame));
    } else if (frame.scause == static_cast<uint64_t>(riscv::ExceptionCause::IllegalInstruction) &&
               proc::emulate_user_interrupt_instruction(*thread, frame)) {
        // a user-interrupt CSR access or uret on a hart without the N extension: done
    } else if (frame.scause == static_cast<uint64_t>(riscv::ExceptionCause::IllegalInstruction) &&
               proc::fp_first_use(*thread, frame)) {
        // the thread's first F/D instruction (FS was Off): the unit is on for it, the instruction is
        // retried (if it was no F/D instruction after all, it traps again and ends the process)
    } else {
        proc::end_faulting_process(*thread, frame);
    }
    // (An ending process is noticed by finish_return_to_user, the last step: also after a yield.)
    // Kernel coroutines that finish asynchronous calls are ready (woken by what this trap did, or by
    // another hart): they run here, before this thread goes back to user mode, without a switch; if
    // more keep coming, the hart goes back to the scheduler loop, which runs the rest.
    if (proc::kernel_work_ready() && !proc::run_kernel_calls(16)) thread->yield_requested = true;
    // A submission's no-interrupt window ends here, before anything that could let the hart go
    // (docs/async-syscalls.md, "When no interrupt is raised"): a completion posted from now on raises.
    thread->drains_completions = false;
    if (thread->yield_requested) {
        thread->yield_requested = false;
        proc::yield_current_thread();
    }
    proc::finish_return_to_user(*thread);  // may deliver a user interrupt: sepc = utvec
    note_entering_user_mode();             // after a pending user TLB flush, if any
    return context;
}
