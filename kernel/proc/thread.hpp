// Threads and processes: the kernel's unit of address space (Process) and of CPU time (Thread).
//
// A thread has a kernel stack; at its top sits its UserContext (user registers while it is in the
// kernel). It runs in user mode until a trap; the trap handler runs on its kernel stack, and giving
// up the hart (yield, preemption, exit) is a switch_context back to the hart's scheduler.
//
// Lifetime: a Process lives until its last thread has exited and the scheduler has reaped it; the
// scheduler frees an exited thread's kernel stack only after switching away from it.
//
// Lock order (take them in this order, never the other way round):
//   Process::threads_lock -> a WaitQueue's lock -> Process::waits_lock -> the scheduler's run-queue lock.
// (wake_process_waits holds waits_lock and only try-locks a WaitQueue's lock, letting go of both
// when that fails, so it never waits against this order.)
// The process table's lock is never held while taking any of these.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "kernel/arch/riscv/fp_registers.hpp"
#include "kernel/arch/riscv/irq_lock.hpp"
#include "kernel/arch/riscv/trap.hpp"
#include "kernel/file/file.hpp"
#include "abi/spin_lock.hpp"
#include "kernel/mm/kernel_stacks.hpp"
#include "kernel/mm/page_table.hpp"
#include "kernel/proc/address_space.hpp"

namespace kernel::proc {

// Callee-saved kernel registers of a thread that is not running (context_switch.S).
struct Context {
    uint64_t ra;
    uint64_t sp;
    uint64_t s[12];
};
static_assert(sizeof(Context) == 14 * 8, "context_switch.S layout");

// 16 KiB of kernel stack per thread, in a slot of the kernel stack area with a guard below it.
constexpr size_t KernelStackFrames = mm::KernelStackPages;

enum class ThreadState : uint8_t { Runnable, Running, Blocked, Exited };
enum class ProcessState : uint8_t { Alive, Exited };

struct Process;
struct Thread;
struct AsyncCalls;
struct MemoryAccount;

// Threads waiting for something (console input, a child's exit, time). The waiter's condition is
// guarded by `lock`; a thread sleeps with the lock held and the scheduler releases it only once the
// thread is off its hart, so a wake-up can never find a thread that is still running. Waiters
// re-check their condition after every wake-up (wake-ups may be spurious). Used with interrupts off.
// Kernel coroutines (system calls running asynchronously, kernel/syscall/call.hpp) wait here too: a
// CoroutineWaiter node lives in the waiting coroutine's frame and is linked by the executor's arm
// step, once the coroutine has suspended; a wake-up unlinks it and wakes the coroutine's ID.
struct CoroutineWaiter;
struct WaitQueue;

// A wait registered with the process it blocks (Process::waits), so that kill ends exactly that
// process's waits whatever they wait on (wake_process_waits, scheduler.hpp). Invariant: a wait is
// registered exactly while its waiter (a blocked thread, or an asynchronous call's coroutine) is
// linked in `queue`; both change together under queue->lock (and the owner's waits_lock). While a
// wait is registered its queue is alive: the waiter holds what the queue belongs to (a pipe through
// its file reference; the other queues are static).
struct RegisteredWait {
    Process* process = nullptr;        // the owner
    WaitQueue* queue = nullptr;        // non-null exactly while registered
    Thread* thread = nullptr;          // a blocked thread (in queue->head's list), or
    CoroutineWaiter* coroutine = nullptr;  // an asynchronous call's coroutine (in queue->coroutines)
    RegisteredWait* previous = nullptr;    // Process::waits links (waits_lock)
    RegisteredWait* next = nullptr;
};

struct CoroutineWaiter {
    CoroutineWaiter* next = nullptr;
    uint64_t id = 0;         // in the work executor
    uint64_t wake_time = 0;  // in the sleepers' queue: timebase time to wake at
    RegisteredWait wait;     // registered when the coroutine waits for a process (asynchronous calls)
};

struct WaitQueue {
    SpinLock lock;
    Thread* head = nullptr;  // guarded by lock
    Thread* tail = nullptr;
    CoroutineWaiter* coroutines = nullptr;  // guarded by lock; every wake-up wakes all of them
};

// A system-call coroutine's frame (kernel/syscall/call.hpp) lives in one of these: the calling
// thread's own (synchronous calls) or a slot of the process's asynchronous calls. Never the heap.
constexpr size_t CallFrameBytes = 768;

// The N extension's user-mode CSRs of one thread (docs/user-interrupts.md). Whenever the thread is in
// the kernel this is the truth on every hart; in user mode the hart's CSRs hold it on harts with the N
// extension (saved here at every trap, loaded at every return), and on harts without it this is the
// only copy (the CSR instructions trap and are emulated on it). All zero in a new thread; execve zeroes it.
//
// Only the thread itself changes these fields (its own traps: emulation, delivery, uret), except uip,
// which any hart may set (raise_user_interrupt). Other harts read uie, utvec and ustatus (to choose a
// receiver, to decide whether a blocked thread must be woken): relaxed atomics.
struct UserInterruptState {
    std::atomic<uint64_t> ustatus{0};  // UIE (bit 0), UPIE (bit 4); other bits read as 0
    std::atomic<uint64_t> uie{0};      // USIE (bit 0); UTIE and UEIE read as 0 (never raised here)
    std::atomic<uint64_t> utvec{0};    // handler address, direct mode: bits 1..0 read as 0
    uint64_t uscratch = 0;
    uint64_t uepc = 0;                 // bit 0 reads as 0
    uint64_t ucause = 0;
    uint64_t utval = 0;
    std::atomic<uint32_t> uip{0};      // USIP (bit 0); set by raisers on any hart, cleared by the thread
    // The emulated upcall (user_interrupt_upcall, docs/user-interrupts.md "Upcall delivery"): only
    // the thread itself reads or changes these.
    static constexpr size_t UpcallSavedRegisters = 16;  // ra, t0-t6, a0-a7
    bool upcall = false;     // deliveries are upcalls (never on a machine with a hart that has `n`)
    bool in_upcall = false;  // delivered and not yet returned: upcall_saved holds the interrupted registers
    // Written by each upcall delivery, read only while in_upcall: left uninitialised, so that creating
    // a thread does not clear it (spawn_thread).
    uint64_t upcall_saved[UpcallSavedRegisters];
};

struct Thread {
    Context context;
    riscv::UserContext* user = nullptr;  // at the top of the kernel stack
    uint64_t kernel_stack_bottom = 0;    // [bottom, top): a stack of the kernel stack area (its slot follows)
    uint64_t kernel_stack_top = 0;
    Process* process = nullptr;
    uint32_t tid = 0;
    ThreadState state = ThreadState::Runnable;  // changed under the scheduler's lock
    bool yield_requested = false;        // set by the timer tick, honoured on the way back to user
    // Set for the length of an asynchronous submission whose submitter drains the completion ring
    // right after the ecall returns (abi::AsyncDrainsAfterReturnBit): from dispatch_syscall to the end
    // of the kernel calls run on the way back (user_trap_handler), before anything that could yield.
    // Only this thread writes it, only code running on this thread's hart while it is current reads
    // it (complete_async_call): no raise for a completion posted then (docs/async-syscalls.md).
    bool drains_completions = false;
    Thread* next = nullptr;              // run-queue or wait-queue link
    WaitQueue* blocked_on = nullptr;     // while Blocked
    RegisteredWait wait;                 // its wait, registered with its process while it sleeps_on a queue
    uint64_t wake_time = 0;              // nanosleep: timebase time to wake at (0: not sleeping)
    uint64_t clear_child_tid = 0;        // CLONE_CHILD_CLEARTID: user address zeroed and futex-woken at exit
    uint64_t futex_address = 0;          // futex wait: the user address waited on (0: not waiting)
    alignas(16) unsigned char call_frame[CallFrameBytes];  // the frame of its synchronous system call
    UserInterruptState user_interrupts;
    // The index of the hart whose scheduler switched to this thread, until it gives the hart back;
    // NotRunning otherwise. Stored by the scheduler (seq_cst), read by raisers and kill to send IPIs.
    static constexpr uint32_t NotRunning = ~0u;
    std::atomic<uint32_t> running_on_hart{NotRunning};
    // While blocked in an interruptible wait (futex wait, nanosleep): the queue it sleeps on, so that a
    // raised user interrupt can end the wait (-EINTR). Set and cleared by the thread under that queue's lock.
    std::atomic<WaitQueue*> interruptible_wait{nullptr};
    Thread* next_in_process = nullptr;   // Process::threads link (the process's threads_lock)
    // Floating-point state (kernel/sched/fp_state.hpp): the saved copy, and the index of the hart
    // whose registers were last loaded with it (NotRunning: none).
    riscv::FpRegisters fp{};
    uint32_t fp_loaded_on = NotRunning;
    // Kernel threads (kernel/sched/kernel_thread.hpp), which never enter user mode: what they run,
    // the priority the scheduler queues them at (their process orders its threads by it), and the
    // process whose system call they are running (its kill ends their waits: sleep_on registers them there).
    void (*kernel_entry)(void*) = nullptr;
    void* kernel_argument = nullptr;
    uint8_t priority = 0;
    Process* serving = nullptr;
};

constexpr size_t MaxProcessName = 32;
constexpr uint8_t PriorityLevels = 64;
constexpr uint8_t DefaultPriority = 16;

struct Process {
    uint32_t pid = 0;
    char name[MaxProcessName] = {};
    AddressSpace address_space;
    ProcessState state = ProcessState::Alive;
    int exit_status = 0;
    std::atomic<bool> exit_requested{false};  // set by exit or a fault; every thread leaves at its next trap
    std::atomic<uint32_t> live_threads{0};
    uint32_t parent_pid = 0;             // 0: started by the kernel, or an orphan (process table lock)
    bool orphan = false;                 // its parent is gone: the kernel reaps it when it exits (table lock)
    uint32_t slot = 0;                   // index in the process table and the global priority table
    Thread* runnable_head = nullptr;     // this process's runnable threads, FIFO (scheduler's lock)
    Thread* runnable_tail = nullptr;
    uint8_t priority = DefaultPriority;  // 0 is the highest; never above (numerically below) the cap
    uint8_t priority_cap = 0;            // the highest priority this process may take
    bool killed = false;                 // ended by a fault or kill(), not by exit()
    // Authority (docs/reliability.md): `init` is the process the kernel starts as bin/init at boot;
    // no other process may kill it. May power the machine off: init and the processes init spawns
    // itself (the shell), nobody further down. Both set at spawn, never changed.
    bool is_init = false;
    bool may_power_off = false;
    // May take frames of the memory reserve: init and the processes init spawns itself, as for
    // powering off (memory_limit.hpp). Set at spawn, never changed.
    bool may_use_reserve = false;
    uint64_t memory_limit = 0;           // bytes; 0: none (memory_limit.hpp)
    MemoryAccount* account = nullptr;    // what the kernel holds for it beyond pages and threads (memory_limit.hpp)
    Process* next = nullptr;             // process table link (process table lock)
    FileTable files;                     // descriptors; emptied when the last thread has exited
    // What keeps the process's memory and files alive: one hold for its threads together (dropped
    // by the last one to exit) and one per asynchronous call in flight. The last hold dropped tears
    // the process down (process.cpp).
    std::atomic<uint32_t> holds{1};
    // What keeps the record itself (pid, state, slot, name, this struct) alive: one reference for the
    // process table, dropped when the process is reaped, and one per ProcessRef (find_process). The
    // last one dropped frees the slot and the record (process.cpp, release_record). References are
    // only taken under the process table's lock while the record is in the table, so once it has
    // been unlinked (reaped) the count only falls.
    std::atomic<uint32_t> references{1};
    AsyncCalls* async = nullptr;  // asynchronous system calls, after async_setup (async_call.hpp)
    // The process of the kernel threads (kernel_thread.hpp): no address space, no user mode; its run
    // queue is ordered by each thread's priority, and it is published at its first thread's.
    bool kernel_only = false;
    // Kernel threads made for this process's calls (a socket's connection threads), charged to its
    // memory limit like its own threads (memory_limit.hpp).
    std::atomic<uint32_t> kernel_threads{0};
    // Every thread of the process that has not yet exited (a thread leaves the list in
    // exit_current_thread, before it is freed): who may receive a user interrupt, whom kill must stop.
    IrqSpinLock threads_lock;
    Thread* threads = nullptr;           // guarded by threads_lock
    // Every wait of its threads and asynchronous calls right now (RegisteredWait): what kill wakes.
    IrqSpinLock waits_lock;
    RegisteredWait* waits = nullptr;     // guarded by waits_lock
};

extern "C" void switch_context(Context* from, const Context* to);

} // namespace kernel::proc
