// The thread scheduler: a run queue of user threads shared by all harts.
//
// run_once() is the body of the paper's "switch coroutine" (kernel/sched/switch_coroutine.cpp): it
// picks the process of highest priority through the global priority table (vdso/global_priority.hpp:
// O(1), round-robin among equals, clamped to each process's cap), runs the first of its runnable
// threads on its address space and kernel stack, and gets the hart back when the thread yields, is
// preempted by the timer tick (the time slice is one tick), blocks, or exits.
#pragma once

#include "abi/result.hpp"
#include "kernel/arch/riscv/hart.hpp"
#include "kernel/proc/thread.hpp"
#include "vdso/vdso_api.h"

namespace kernel::proc {

constexpr uint32_t MaxProcesses = 256;

void init_scheduler();
// A process enters the priority table when created and leaves it when reaped.
Result<void> add_process(Process& process);
void remove_process(Process& process);
// Sets priority and cap (0 is the highest; the priority is clamped to the cap) and republishes.
void set_process_priority(Process& process, uint8_t priority, uint8_t cap);
// Where every process sees the global priority table, read-only (auxiliary vector entry
// AuxPriorityTable); a process finds its own entry with the priority_slot system call.
constexpr uint64_t UserPriorityTableAddress = 0x3ff7000000ull;
Result<void> map_priority_table(AddressSpace& space);
uint64_t priority_table_physical();

// Whether a process of strictly higher priority than `process` has a runnable thread.
bool higher_priority_ready(const Process& process);

void make_runnable(Thread& thread);

// Runs one runnable thread until it gives the hart back. False (at once) if none was runnable.
// Returns with interrupts as they were.
bool run_once();
// Whether any thread is runnable (a hint: it may change at once).
bool threads_waiting();

// A hart's loop (kernel/sched/switch_coroutine.cpp): the switch executor's poll loop, in which the
// switch coroutines run user threads; waits for interrupts when nothing is ready.
[[noreturn]] void run_scheduler();
// One step of that loop: runs one ready kernel coroutine (a switch coroutine runs a user thread for
// a time slice). False when nothing was ready. Interrupts as they were. Code that waits in the kernel
// outside a thread (self-tests, the monitor) calls it so its hart keeps scheduling.
bool run_kernel_step();
// What such a caller does when run_kernel_step found nothing: waits for an interrupt unless kernel
// work or a thread is ready, without the race of a plain wfi (an interrupt that made work ready
// between the step and the wfi would be left until the next one). Marks the hart idle meanwhile, so
// that work made ready on another hart wakes it. Returns with interrupts as they were, after
// letting pending interrupts in if they were on.
void wait_for_kernel_work();
// Time slices given to user threads by switch coroutines since boot.
uint64_t switch_coroutine_runs();
// Spawns the switch coroutines (one per hart) in the switch executor. Once, at boot.
void start_switch_coroutines();

// The thread running on this hart (nullptr in the scheduler itself or outside any thread). Inline:
// every system call asks for it several times.
inline Thread* current_thread() {
    Hart* hart = current_hart();
    return hart ? hart->current_thread : nullptr;
}

// If `thread` runs on another hart (between its scheduler's switch to it and its giving the hart
// back), sends that hart a Kick IPI: in user mode it traps at once, and every return to user mode
// checks for raised user interrupts and for the process ending. Any context; interrupts as they are.
void kick(Thread& thread);

// On a thread's kernel stack: give the hart back to its scheduler, staying runnable.
void yield_current_thread();
// On a thread's kernel stack: the thread is done; its scheduler frees it (and the process's memory
// when it was the last thread).
[[noreturn]] void exit_current_thread();

// On a thread's kernel stack, interrupts off, holding queue.lock: waits on the queue. Returns, without
// the lock, after a wake-up (or at once if the process is being ended).
void sleep_on(WaitQueue& queue);
// The same, the wait registered with `owner` (kill ends it) or, with nullptr, with nobody: only a
// wake of the queue ends it (a kernel thread idling, a caller waiting for a kernel thread's call,
// which ends once that call sees its process being ended).
void sleep_on(WaitQueue& queue, Process* owner);
// Makes every waiter runnable. The caller holds queue.lock.
// Inline for the common case of nobody waiting (a pipe wakes its other side after every transfer).
void wake_all_waiters(WaitQueue& queue);
inline void wake_all(WaitQueue& queue) {
    if (queue.head != nullptr || queue.coroutines != nullptr) wake_all_waiters(queue);
}
// Makes runnable up to `limit` waiters for which matches(thread, context) holds; returns how many.
// The caller holds queue.lock.
size_t wake_matching(WaitQueue& queue, bool (*matches)(Thread&, void*), void* context, size_t limit);
// Takes queue.lock and wakes every waiter.
void wake_all_locked(WaitQueue& queue);

// Registered waits (RegisteredWait, thread.hpp). register_wait: the caller holds queue.lock and is
// about to link the waiter into `queue`; false (nothing registered: do not wait) when the process
// is being ended. unregister_wait: the caller holds the lock of the queue the waiter is being taken
// out of. wake_process_waits: wakes every registered wait of `process`, and only those (kill, exit
// with other threads or calls waiting); the woken find Process::exit_requested set. Call it after
// setting exit_requested: a wait registered later sees the flag (both under waits_lock).
bool register_wait(Process& process, RegisteredWait& wait, WaitQueue& queue);
void unregister_wait(RegisteredWait& wait);
void wake_process_waits(Process& process);

// Coroutines of asynchronous calls made ready outside a poll loop (a system call, a wake-up from an
// interrupt handler or another hart), in the work executor (below): an idle hart, if there is
// one, is woken to run them. spawn_kernel_work: a new ready coroutine resuming at `resume_address`
// (vdso/vdso_api.h spawn); false if that executor is full. wake_kernel_coroutine: its wake (re_back).
bool spawn_kernel_work(void* resume_address, void* owner, uint32_t priority, cokernel_coroutine_ref* publish);
void wake_kernel_coroutine(uint64_t id);
// An idle hart (waiting for interrupts in run_scheduler) gets an IPI, so that it looks for work.
void wake_idle_hart();
// The work executor holds the kernel coroutines that finish asynchronous system calls (call.hpp) and
// the bottom halves;
// WorkExecutorCapacity control blocks. spawn_kernel_work and wake_kernel_coroutine work on it.
constexpr uint32_t WorkExecutorCapacity = 4096;
// Whether one of those coroutines is ready (a lock-free peek).
bool kernel_work_pending();
// On a thread's kernel stack, interrupts off, on its way back to user mode: runs up to `limit` ready
// call coroutines right here (they never need the thread's context, and no switch coroutine lives in
// that executor). True when none is left ready.
bool run_kernel_calls(size_t limit);

// The sleepers' queue (nanosleep): a waiter's wake_time says when it is due.
WaitQueue& sleep_queue();

// nanosleep: on a thread's kernel stack, waits until the timebase reaches `wake_time`. An
// interruptible wait: returns true, early, when a user interrupt the thread can take was raised.
bool sleep_until(uint64_t wake_time);
// Whoever enters the sleepers' queue calls it (holding its lock) with the entry's wake time.
void note_sleeper(uint64_t wake_time);
// The timer's tick hook (a top half, riscv::timer::set_tick_hook): once a sleeper's time has come it
// raises the sleepers' bottom half, which wakes them (bottom_half.hpp). Interrupt context.
void timer_tick(uint64_t now);
// Starts that bottom half (at boot, after start_switch_coroutines). On failure the tick wakes the
// sleepers itself, in interrupt context.
Result<void> start_sleepers_bottom_half();

} // namespace kernel::proc
