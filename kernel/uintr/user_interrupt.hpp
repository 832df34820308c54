// User-space interrupts (the RISC-V N extension) for user threads: raising them, delivering them,
// and emulating the extension on harts that lack it. The specification is docs/user-interrupts.md.
//
// State: Thread::user_interrupts (kernel/proc/thread.hpp), the eight user CSRs of each thread.
// Delivery rule, checked on every return to user mode: ustatus.UIE && (uip & uie & USIP). Then
// uepc = pc, ucause = interrupt | 0 (user software), utval = 0, UPIE = UIE, UIE = 0, pc = utvec.
//   - On harts without `n` in their ISA string the kernel does all of it: user-mode accesses to the
//     eight CSRs and `uret` are illegal instructions there, and the illegal-instruction trap emulates
//     them; the kernel checks the rule at the end of every trap from user mode.
//   - On harts with `n` the hardware does it (sideleg.USI set; the firmware must delegate USI to S):
//     the kernel loads the thread's CSRs on every return to user mode and saves them on every trap,
//     so the state moves with a thread from hart to hart, whichever path each hart takes.
//
// Raising and locks: raise_user_interrupt sets uip.USIP (an atomic OR), kicks the hart the thread
// runs on (Kick IPI), and ends an interruptible wait the thread can take the interrupt in. It takes
// the wait queue's lock and the run-queue lock; the Process form also takes process.threads_lock.
// Callers hold none of those (kernel/proc/thread.hpp, lock order). Interrupts may be on or off.
#pragma once

#include "kernel/arch/riscv/hart.hpp"
#include "kernel/arch/riscv/trap.hpp"
#include "kernel/proc/thread.hpp"
#include "kernel/sched/scheduler.hpp"

namespace kernel::proc {

// Sets uip.USIP of `thread`. Delivered on its next return to user mode if enabled. If the thread is
// running in user mode on another hart, that hart gets an IPI so it traps and delivers promptly. If it is
// blocked in an interruptible wait (futex wait, nanosleep), the wait ends with -EINTR so it can take it.
// The caller keeps `thread` alive: it is the current thread, or the caller holds its process's
// threads_lock (a thread leaves its process's list before it is freed).
void raise_user_interrupt(Thread& thread);
// Picks the receiver among `process`'s threads: a thread is a receiver when utvec != 0 and uie.USIE is set.
// Preference: one running on a hart; else a runnable one; else one blocked interruptibly (woken); else any
// receiver (stays pending). Returns false when the process has no receiver (nothing raised).
// (Among running threads the calling thread comes first: it takes the interrupt without an IPI.)
// The process record must not be reaped meanwhile (its threads may all have exited: then false).
bool raise_user_interrupt(Process& process);
// Raises for the thread `tid` of `process` (found under its threads_lock). False when it has none.
bool raise_user_interrupt(Process& process, uint64_t tid);

// Boot: notes whether every usable hart in the device tree has `n`. Once, on the boot hart.
void init_user_interrupts();
// Every hart, once, at start: notes whether it has the CSRs and, if it does, delegates user software
// interrupts to user mode (sideleg.USI).
void init_user_interrupts_on_this_hart();
// "emulated", "hardware (N extension)" or mixed: for the banner and the self-test's report.
const char* user_interrupt_mode();

// The out-of-line parts of the two functions below (user_interrupt.cpp).
void save_user_interrupt_csrs_of_hart(Thread& thread);
void deliver_emulated_user_interrupt(Thread& thread);
void load_user_interrupt_csrs_into_hart(Thread& thread);

// Trap entry from user mode, first thing: on a hart with the CSRs, saves them into the thread.
// Inline: every trap from user mode pays for this check.
inline void save_user_interrupt_csrs(Thread& thread) {
    if (current_hart()->has_user_interrupt_csrs) save_user_interrupt_csrs_of_hart(thread);
}
// An illegal-instruction trap: if the instruction at frame.sepc is a CSR instruction on one of the
// eight user-interrupt CSRs or `uret`, emulates it on the thread's state and returns true (sepc moved
// on). False for any other instruction: the caller ends the process as before.
bool emulate_user_interrupt_instruction(Thread& thread, riscv::TrapFrame& frame);
// The last step before every entry to user mode (interrupts off, on the thread's kernel stack): ends
// the thread if its process is ending; on a hart without the CSRs delivers a pending enabled user
// interrupt (emulation), on one with them loads them (the hardware delivers). Inline: its common
// case (no hardware CSRs, UIE clear or nothing pending) is a few loads on every return to user mode.
inline void finish_return_to_user(Thread& thread) {
    if (thread.process->exit_requested.load()) exit_current_thread();  // also after a yield or a kick
    if (current_hart()->has_user_interrupt_csrs) {  // the thread may have moved while it yielded
        load_user_interrupt_csrs_into_hart(thread);
        return;
    }
    const UserInterruptState& state = thread.user_interrupts;
    if ((state.ustatus.load(std::memory_order_relaxed) & 1) &&  // UIE, and USIP raised and enabled
        (state.uip.load(std::memory_order_seq_cst) & state.uie.load(std::memory_order_relaxed) & 1))
        deliver_emulated_user_interrupt(thread);
}
// user_interrupt_upcall (project call 1044): UpcallOn/UpcallOff for the calling thread. Returns the
// previous setting (1 on, 0 off), or -EOPNOTSUPP (on) when some hart has the N extension's CSRs
// (there the hardware delivers).
long set_user_interrupt_upcall(Thread& thread, bool on);
// UpcallReturn: restores the registers saved at the upcall's delivery and returns as uret does.
// The result is the interrupted a0 (the caller puts it in a0), or -EINVAL when not in an upcall.
long return_from_upcall(Thread& thread);
// execve: the new program starts with every user-interrupt CSR zero (and no upcalls).
void reset_user_interrupts(Thread& thread);

// Whether `thread` would take a user interrupt on its next return to user mode (the delivery rule).
bool user_interrupt_deliverable(const Thread& thread);

// Interruptible waits. The caller holds queue.lock and is about to sleep_on(queue): publishes the
// wait so that a raise can end it. Returns false (the wait not begun) when an interrupt the thread
// can take is already pending: the caller must not sleep but release the lock and return -EINTR.
bool begin_interruptible_wait(Thread& thread, WaitQueue& queue);
// After sleep_on returned: the wait is over; true when an interrupt the thread can take is pending
// (the call returns -EINTR so that it is delivered on the way back to user mode).
bool end_interruptible_wait(Thread& thread);

} // namespace kernel::proc
