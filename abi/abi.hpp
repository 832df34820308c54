// The parts of the user/kernel interface that are not plain registers, defined once for both sides:
// the kernel includes this header, and so does the user runtime (user/lib/syscall.hpp). Freestanding.
// The calls themselves are listed in abi/syscall_list.hpp, errno values in abi/errno.hpp;
// docs/syscalls.md describes every call.
#pragma once

#include <cstdint>

namespace cokernel::abi {

// Auxiliary-vector key (project-specific): where the global priority table is mapped, read-only.
constexpr uint64_t AuxPriorityTable = 0x1000;

constexpr uint32_t MaxProcessName = 32;

// Asynchronous system calls (docs/async-syscalls.md). The asynchronous form of a call is the same
// ecall with AsyncCallBit added to the number in a7 and a completion token (the waiting coroutine's
// ID, never 0) in a6. It returns at once: 0 when the call was accepted, whose result then arrives as
// a CompletionEntry in the process's completion ring, or a negated errno when it was refused (then
// no completion follows): -EAGAIN when the process already has as many calls in flight as it asked
// for at async_setup,
// -ENOSYS when the call has no asynchronous form, -EINVAL for token 0, -ENXIO without async_setup.
constexpr long AsyncCallBit = 0x10000;
// Added to AsyncCallBit by a submitter that drains the completion ring as soon as the ecall returns
// (the vDSO's arm step does): a completion the kernel posts for this process while the submitting
// thread is still in that system call (the call ending inline, or another call finished by a kernel
// coroutine on this trap's way back to user mode) raises no user-space interrupt. Every other
// completion raises one as before (docs/async-syscalls.md, "When no interrupt is raised").
constexpr long AsyncDrainsAfterReturnBit = 0x20000;
// Added by a submitter that names the priority of the coroutine that waits for the call (0 highest ..
// 63): (priority + 1) << AsyncPriorityShift; 0 in these bits names none (the process's priority is
// used). The kernel clamps it to the process's priority cap and runs the call's kernel work at a
// level derived from it (docs/network.md, "How priority flows"). The vDSO's arm step always names it.
constexpr int AsyncPriorityShift = 24;
constexpr long AsyncPriorityMask = 0x7fL << AsyncPriorityShift;
// Added to AsyncCallBit by a submitter that takes the completion of a call that ends within its own
// submission from the ecall's result (the vDSO's arm step does): such a call returns
// AsyncCompletedInline in a0 and its result in a1, and nothing is posted to the ring for it. A call
// that has to wait returns 0 as before and its completion comes through the ring: each accepted
// call's completion is in the registers or in the ring, never both, never neither
// (docs/async-syscalls.md, "The arm step's own completion").
constexpr long AsyncResultInRegistersBit = 0x40000;
constexpr long AsyncCompletedInline = 1;
// One asynchronous call of a batch (async_submit_batch(entries, count, flags), docs/async-syscalls.md,
// "Batched submission"): what one ecall with AsyncCallBit would carry, and where the kernel writes
// what that ecall would have returned.
struct SubmissionEntry {
    int64_t number;          // the call's number, without AsyncCallBit
    uint64_t token;          // its completion token (never 0)
    uint64_t arguments[6];
    int64_t status;          // written by the kernel: 0 accepted, AsyncCompletedInline, or a negated errno
    int64_t result;          // written by the kernel with AsyncCompletedInline: the call's result
};
static_assert(sizeof(SubmissionEntry) == 80, "the batch's entries are laid out for both sides");
constexpr uint32_t MaxSubmissionBatch = 1024;   // entries in one async_submit_batch
// The process's submission area: SubmissionAreaEntries entries that async_setup maps read-write at
// UserSubmissionAreaAddress, in frames of the kernel's. A batch there (entries = this address) is
// read and written back by the kernel in place, without copies; each entry is read once.
constexpr uint64_t UserSubmissionAreaAddress = 0x3ff6800000ull;
constexpr uint32_t SubmissionAreaEntries = 64;
constexpr uint32_t DefaultCallsInFlight = 64;   // async_setup's second argument 0 means this
constexpr uint32_t MaxCallsInFlight = 2048;      // the most a process may ask for

// One completion: the token given with the call and the call's result (what a0 would have held).
struct CompletionEntry {
    uint64_t token;
    int64_t result;
};

// The completion ring: one producer side (the kernel, which writes entries[tail % capacity] and then
// advances tail) and one consumer side (the process, which reads entries[head % capacity] and then
// advances head). Both indices only grow (wrapping at 2^32); the ring holds tail - head entries.
// When a completion finds the ring full the kernel keeps it (it still counts against
// the process's calls in flight), adds one to `overflows` and to `held`, and delivers it after the process has
// made room and called async_flush: nothing is dropped. The kernel trusts nothing it reads here: a
// corrupt head only makes the ring look full.
struct CompletionRing {
    uint32_t head;        // written by the process
    uint32_t tail;        // written by the kernel
    uint32_t capacity;    // entries; a power of two, set by the kernel
    uint32_t overflows;   // completions that found the ring full (a running count)
    uint32_t held;        // completions held in the kernel for want of room, now
    uint32_t in_flight;   // calls accepted and not yet in the ring (running, or held), now
    uint32_t reserved[10];
    // The entries follow the header: ring_entries(ring)[0 .. capacity).
};
static_assert(sizeof(CompletionRing) == 64, "the ring's header is one cache line");
inline CompletionEntry* ring_entries(CompletionRing* ring) { return reinterpret_cast<CompletionEntry*>(ring + 1); }

// Where async_setup maps the ring (read-write, this process only) and its largest capacity.
constexpr uint64_t UserCompletionRingAddress = 0x3ff6000000ull;
constexpr uint32_t MaxCompletionRingCapacity = 2048;

// user_interrupt_upcall(operation), project call 1044 (docs/user-interrupts.md, "Upcall delivery"):
// on harts that emulate the N extension, a thread's user interrupts can be delivered as upcalls, whose
// handler needs no emulated CSR access: the kernel saves the registers a handler may clobber (ra,
// t0-t6, a0-a7) in the thread's record, takes uip.USIP itself, and enters utvec with a0 = uscratch;
// the handler returns with UpcallReturn, which restores them and does what uret does. UpcallOff and
// UpcallOn return the thread's previous setting (1 on, 0 off).
enum UpcallOperation : long {
    UpcallOff = 0,     // deliveries follow the CSR rule alone (every thread starts so)
    UpcallOn = 1,      // deliveries are upcalls; -EOPNOTSUPP when a hart has the N extension's CSRs
    UpcallReturn = 2,  // from an upcall's handler: resume the interrupted code; -EINVAL outside one
};

// Descriptors per process (slots 0 .. MaxDescriptors - 1): twice Linux's default RLIMIT_NOFILE, so
// that one server process holds over 1,024 connections (docs/experiments.md, Limits); -EMFILE beyond.
constexpr uint32_t MaxDescriptors = 2048;

// One entry of process_list.
struct ProcessRecord {
    uint32_t pid;
    uint32_t parent_pid;
    uint8_t priority;
    uint8_t priority_cap;
    uint8_t exited;
    uint8_t reserved;
    uint32_t user_pages;
    char name[MaxProcessName];
};
static_assert(sizeof(ProcessRecord) == 48, "process_list records are 48 bytes");

// kernel_usage(): what the kernel has in use, for leak checks from user space (tests/net/,
// docs/network.md "Tests"). A snapshot: the figures move while other processes run.
struct KernelUsageRecord {
    uint64_t free_frames;        // free 4 KiB frames of the frame allocator
    uint64_t heap_bytes;         // bytes of the kernel heap in use
    uint64_t sockets;            // sockets not yet freed (every process's)
    uint64_t processes;          // processes, exited ones not yet reaped included
    uint64_t tcp_pcbs;           // lwIP's TCP control blocks in use (listeners and TIME_WAIT included)
    uint64_t udp_pcbs;           // lwIP's UDP control blocks in use
    uint64_t pool_pbufs;         // lwIP's pool pbufs in use (received data queued anywhere)
    uint64_t lwip_heap_bytes;    // bytes of lwIP's heap in use (segments waiting for an ACK, ...)
};
static_assert(sizeof(KernelUsageRecord) == 64, "kernel_usage fills 64 bytes");

// kernel_counters(): event counts since boot, system-wide, for telling where a loaded server's time
// goes (docs/experiments.md, "1 and 2 vCPUs"). Never reset: take two snapshots and subtract.
struct KernelCountersRecord {
    uint64_t timer_interrupts;          // timer ticks taken, all harts
    uint64_t external_interrupts;       // device interrupts claimed (virtio, UART)
    uint64_t kicks;                     // Kick IPIs handled (a user interrupt for a running thread)
    uint64_t idle_waits;                // a hart entered wfi with nothing to run
    uint64_t idle_instret;              // instret that passed in those waits (under -icount: idle time)
    uint64_t thread_switches;           // time slices given to threads by switch coroutines
    uint64_t syscalls;                  // system calls dispatched
    uint64_t user_interrupts_raised;    // raises on a thread (one per completion that needs one)
    uint64_t user_interrupts_pending;   // of them: USIP was already set
    uint64_t user_interrupt_waits_ended;// of them: ended an interruptible wait (-EINTR)
    uint64_t user_interrupts_delivered; // handler entries (emulated delivery)
    uint64_t completions_posted;        // asynchronous completions posted to a ring
    uint64_t completions_silent;        // of them: without an interrupt (drained after the submission)
    uint64_t calls_refused;             // asynchronous submissions refused (-EAGAIN)
    uint64_t kernel_calls_on_return;    // kernel coroutines run on a thread's way back to user mode
    uint64_t kernel_calls_by_scheduler; // kernel coroutines run by the scheduler loop
    uint64_t network_runs;              // network bottom-half runs
    uint64_t frames_received;           // frames handed to lwIP
    uint64_t frames_sent;               // frames given to a device
    uint64_t frames_dropped;            // received frames lost: no pool pbuf for them
    uint64_t futex_waits;               // futex_wait calls that slept
    uint64_t futex_wakes;               // threads woken by futex_wake
};
static_assert(sizeof(KernelCountersRecord) == 22 * 8, "kernel_counters fills 176 bytes");

// struct timespec of the Linux riscv64 ABI (clock_gettime, nanosleep).
struct Timespec {
    int64_t seconds;
    int64_t nanoseconds;
};

} // namespace cokernel::abi
