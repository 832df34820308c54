// Floating-point state per thread, saved lazily (docs/architecture.md, "Floating point").
//
// Every thread owns an FpRegisters copy (Thread::fp) and its user sstatus.FS (in its saved frame):
//   - FS Off: the thread has not used the unit since it was created or exec'ed; its first F/D
//     instruction traps and fp_first_use turns the unit on for it (loading its copy: zeros and
//     fcsr 0 for a new program, the creator's state for a clone).
//   - FS Initial/Clean/Dirty: the thread uses the unit.
// Invariant: while a thread with FS on runs (in user mode or in the kernel on its behalf), the hart's
// registers hold its state. Its copy in Thread::fp equals them unless FS is Dirty.
// A thread gives its hart up: its registers are stored only if FS is Dirty (then FS becomes Clean).
// A thread gets a hart: its copy is loaded only if FS is on and the hart's registers do not already
// hold it (the hart's last loader was this thread, and it has loaded nowhere else since).
// On a machine without F/D on every hart (or with the boot argument `nofpu`) FS stays Off and an
// F/D instruction ends the process (SIGILL, 132) with a message saying so.
// All of this runs on the thread's own hart with interrupts off; nothing here is shared across harts
// except Thread::fp_loaded_on, written and read only by the hart running the thread.
#pragma once

#include "kernel/proc/thread.hpp"

namespace kernel::proc {

// At boot, once: whether user threads may use F/D (every hart has both and `nofpu` is not given).
void init_fp_state(bool every_hart_has_fd, bool disabled_by_boot_argument);
bool fp_available();

// The scheduler, around its switch into a thread and after it gave the hart back.
void fp_switch_in(Thread& thread);
void fp_switch_out(Thread& thread);
// An exiting thread: this hart forgets it owned the registers (its Thread is about to be freed).
void fp_forget(Thread& thread);

// An illegal-instruction trap with FS Off: turns the unit on for the thread and returns true (the
// instruction is retried), or false if there is no unit for user threads.
bool fp_first_use(Thread& thread, riscv::TrapFrame& frame);
// Whether `instruction` (32 bits, or 16 in the low half) is an F/D instruction or an fcsr access.
bool is_fp_instruction(uint32_t instruction);

// clone: the new thread starts with the creator's state (the running thread's, on this hart).
void fp_copy_to_new_thread(const Thread& creator, Thread& child);
// execve: the state of a fresh program (unit off, zeros, fcsr 0 = round to nearest, no flags).
void fp_reset(Thread& thread);

// Counters since boot, for the monitor and the benchmarks.
struct FpCounters {
    uint64_t saves;
    uint64_t loads;
    uint64_t first_uses;
};
FpCounters fp_counters();

} // namespace kernel::proc
