// System calls of the thread family: clone (threads only), exit of one thread, set_tid_address,
// futex wait/wake, the ground for joins and user-space locks, raising a user interrupt and the
// emulated upcall's calls.
#include "abi/abi.hpp"
#include "kernel/arch/riscv/timer.hpp"
#include "kernel/lib/counters.hpp"
#include "kernel/proc/memory_limit.hpp"
#include "kernel/proc/process.hpp"
#include "kernel/sched/scheduler.hpp"
#include "kernel/syscall/dispatch.hpp"
#include "kernel/syscall/handlers.hpp"
#include "kernel/uintr/user_interrupt.hpp"

namespace kernel::proc {

namespace {

// clone flags (Linux uapi/linux/sched.h).
constexpr uint64_t CloneVm = 0x100, CloneFs = 0x200, CloneFiles = 0x400, CloneSighand = 0x800;
constexpr uint64_t CloneThread = 0x10000, CloneSysvsem = 0x40000, CloneSettls = 0x80000;
constexpr uint64_t CloneParentSettid = 0x100000, CloneChildCleartid = 0x200000, CloneChildSettid = 0x1000000;
constexpr uint64_t CloneThreadRequired = CloneVm | CloneFs | CloneFiles | CloneSighand | CloneThread;
constexpr uint64_t CloneThreadAllowed =
    CloneThreadRequired | CloneSysvsem | CloneSettls | CloneParentSettid | CloneChildCleartid | CloneChildSettid;

constexpr uint64_t FutexWait = 0, FutexWake = 1, FutexWaitBitset = 9, FutexWakeBitset = 10;
constexpr uint64_t FutexPrivate = 128, FutexClockRealtime = 256;

// Threads in futex_wait, each with its address (and process) in Thread::futex_address.
WaitQueue futex_waiters;

struct FutexKey {
    const Process* process;
    uint64_t address;
};

bool waits_on(Thread& thread, void* key) {
    auto* wanted = static_cast<FutexKey*>(key);
    return thread.process == wanted->process && thread.futex_address == wanted->address;
}

size_t futex_wake(const Process& process, uint64_t address, size_t count) {
    FutexKey key{&process, address};
    futex_waiters.lock.lock();
    size_t woken = wake_matching(futex_waiters, waits_on, &key, count);
    futex_waiters.lock.unlock();
    counters::count(counters::FutexWakes, woken);
    return woken;
}

} // namespace

// clone(flags, stack, parent_tid, tls, child_tid): a new thread in the caller's process only (new
// processes come from spawn); it starts after the ecall with a0 = 0 on `stack`.
long sys_clone(Thread& thread, SyscallArguments a) {
    uint64_t flags = a[0], stack = a[1], parent_tid = a[2], tls = a[3], child_tid = a[4];
    if ((flags & CloneThreadRequired) != CloneThreadRequired || (flags & ~CloneThreadAllowed)) return -Errno::Invalid;
    const AddressSpace& space = thread.process->address_space;
    if (stack == 0 || stack % 16 || !space.check_user_range(stack - 16, 16, Access::Write)) return -Errno::Invalid;
    if ((flags & CloneParentSettid) && !space.check_user_range(parent_tid, sizeof(uint32_t), Access::Write))
        return -Errno::Fault;
    if ((flags & (CloneChildSettid | CloneChildCleartid)) &&
        !space.check_user_range(child_tid, sizeof(uint32_t), Access::Write))
        return -Errno::Fault;

    if (!within_memory_limit(*thread.process, thread_memory_bytes())) return -Errno::NoMemory;

    riscv::TrapFrame registers = thread.user->frame;  // sepc is already past the ecall
    registers.regs[10] = 0;
    registers.regs[2] = stack;
    if (flags & CloneSettls) registers.regs[4] = tls;
    // The tid words are written before the child can run: a child that ended at once would
    // otherwise have its CLONE_CHILD_CLEARTID zero overwritten by the tid, and its joiner wait forever.
    struct TidWords {
        const AddressSpace& space;
        uint64_t flags, parent_tid, child_tid;
        uint32_t tid;
    } words{space, flags, parent_tid, child_tid, 0};
    auto created = create_sibling_thread(registers, [](Thread& child, void* context) {
        auto& words = *static_cast<TidWords*>(context);
        uint32_t tid = words.tid = child.tid;
        if (words.flags & CloneChildCleartid) child.clear_child_tid = words.child_tid;
        if (words.flags & CloneChildSettid) (void)words.space.copy_to_user(words.child_tid, &tid, sizeof(tid));
        if (words.flags & CloneParentSettid) (void)words.space.copy_to_user(words.parent_tid, &tid, sizeof(tid));
    }, &words);
    if (!created) return -Errno::TryAgain;
    return words.tid;  // not (*created)->tid: the child may have ended and been freed by now
}

// exit(status): ends the calling thread; the last one ends the process.
long sys_exit(Thread&, SyscallArguments a) { exit_current_thread_of_process(static_cast<int>(a[0] & 0xff)); }

// exit_group(status): ends every thread of the process.
long sys_exit_group(Thread&, SyscallArguments a) { exit_current_process(static_cast<int>(a[0] & 0xff)); }

long sys_set_tid_address(Thread& thread, SyscallArguments a) {
    thread.clear_child_tid = a[0];
    return thread.tid;
}

namespace {

// A wait with a timeout polls: it sleeps in steps of at most 10 ms until the word differs from
// `value` (then 0: a wake-up is assumed), the deadline passes (-ETIMEDOUT) or the process ends.
// A FUTEX_WAKE that leaves the word unchanged is thus noticed only at the deadline, and is not
// counted in the waker's result (docs/syscalls.md).
long timed_futex_wait(Thread& thread, uint64_t address, uint32_t value, uint64_t deadline) {
    const AddressSpace& space = thread.process->address_space;
    uint64_t step = riscv::timer::frequency() / 100;
    for (bool first = true;; first = false) {
        uint32_t current;
        if (!space.copy_from_user(&current, address, sizeof(current))) return -Errno::Fault;
        if (current != value) return first ? -Errno::TryAgain : 0;
        uint64_t now = riscv::timer::now();
        if (now >= deadline) return -Errno::TimedOut;
        if (sleep_until(deadline - now < step ? deadline : now + step)) return -Errno::Interrupted;
        if (thread.process->exit_requested.load()) return -Errno::Interrupted;
    }
}

} // namespace

// futex(address, operation, value, timeout, address2, bitset): FUTEX_WAIT and FUTEX_WAKE, and their
// _BITSET forms, whose bitset must be non-zero and is otherwise ignored (every waiter matches: extra
// wake-ups are spurious ones, which futex users allow). FUTEX_WAIT's timeout is relative,
// FUTEX_WAIT_BITSET's absolute (on CLOCK_MONOTONIC, or CLOCK_REALTIME with FUTEX_CLOCK_REALTIME).
long sys_futex(Thread& thread, SyscallArguments a) {
    uint64_t address = a[0], operation = a[1] & ~(FutexPrivate | FutexClockRealtime);
    if (address % 4) return -Errno::Invalid;
    const AddressSpace& space = thread.process->address_space;
    bool bitset = operation == FutexWaitBitset || operation == FutexWakeBitset;
    if (bitset && static_cast<uint32_t>(a[5]) == 0) return -Errno::Invalid;
    if (operation == FutexWake || operation == FutexWakeBitset) {
        if (!space.check_user_range(address, 4, Access::Read)) return -Errno::Fault;
        return static_cast<long>(futex_wake(*thread.process, address, static_cast<uint32_t>(a[2])));
    }
    if (operation != FutexWait && operation != FutexWaitBitset) return -Errno::NoSystemCall;
    if (a[3] != 0) {
        cokernel::abi::Timespec timeout;
        if (!space.copy_from_user(&timeout, a[3], sizeof(timeout))) return -Errno::Fault;
        if (timeout.seconds < 0 || timeout.nanoseconds < 0 || timeout.nanoseconds >= 1'000'000'000)
            return -Errno::Invalid;
        uint64_t frequency = riscv::timer::frequency();
        uint64_t seconds = static_cast<uint64_t>(timeout.seconds);
        uint64_t nanoseconds = static_cast<uint64_t>(timeout.nanoseconds);
        if (operation == FutexWaitBitset && (a[1] & FutexClockRealtime)) {  // absolute on CLOCK_REALTIME
            uint64_t offset = realtime_at_boot_nanoseconds();
            uint64_t total = seconds * 1'000'000'000 + nanoseconds;  // < 2^64 until the year 2554
            total = total > offset ? total - offset : 0;
            seconds = total / 1'000'000'000;
            nanoseconds = total % 1'000'000'000;
        }
        uint64_t ticks = seconds * frequency + nanoseconds * frequency / 1'000'000'000;
        uint64_t now = riscv::timer::now(), since_boot_ns = riscv::timer::nanoseconds_since_boot();
        uint64_t since_boot = since_boot_ns / 1'000'000'000 * frequency + since_boot_ns % 1'000'000'000 * frequency / 1'000'000'000;
        uint64_t deadline = operation == FutexWait ? now + ticks : now - since_boot + ticks;  // absolute: from boot
        return timed_futex_wait(thread, address, static_cast<uint32_t>(a[2]), deadline);
    }
    // The value is compared under the queue's lock, and a waker takes that lock: a wake between the
    // comparison and the sleep cannot be lost.
    futex_waiters.lock.lock();
    uint32_t current;
    if (!space.copy_from_user(&current, address, sizeof(current))) {
        futex_waiters.lock.unlock();
        return -Errno::Fault;
    }
    if (current != static_cast<uint32_t>(a[2])) {
        futex_waiters.lock.unlock();
        return -Errno::TryAgain;
    }
    // An interruptible wait: a user interrupt the thread can take ends it with -EINTR (at once if
    // one is already pending), so that it is delivered on the way back to user mode.
    if (!begin_interruptible_wait(thread, futex_waiters)) {
        futex_waiters.lock.unlock();
        return -Errno::Interrupted;
    }
    thread.futex_address = address;
    counters::count(counters::FutexWaits);
    sleep_on(futex_waiters);
    thread.futex_address = 0;
    bool interrupted = end_interruptible_wait(thread);
    return thread.process->exit_requested.load() || interrupted ? -Errno::Interrupted : 0;
}

void clear_child_tid_at_exit(Thread& thread) {
    if (!thread.clear_child_tid || !thread.process) return;
    uint32_t zero = 0;
    if (thread.process->address_space.copy_to_user(thread.clear_child_tid, &zero, sizeof(zero)))
        futex_wake(*thread.process, thread.clear_child_tid, ~size_t{0});
    thread.clear_child_tid = 0;
}


// raise_user_interrupt(tid), project call 1032 (docs/syscalls.md): tid 0 lets the kernel choose the
// receiver among the caller's threads; otherwise the thread must belong to the caller's process.
long sys_raise_user_interrupt(Thread& thread, SyscallArguments a) {
    uint64_t tid = a[0];
    bool raised = tid == 0 ? raise_user_interrupt(*thread.process) : raise_user_interrupt(*thread.process, tid);
    return raised ? 0 : -Errno::NoProcess;
}

// user_interrupt_upcall(operation), project call 1044 (docs/user-interrupts.md, "Upcall delivery").
long sys_user_interrupt_upcall(Thread& thread, SyscallArguments a) {
    switch (static_cast<long>(a[0])) {
    case cokernel::abi::UpcallOff: return set_user_interrupt_upcall(thread, false);
    case cokernel::abi::UpcallOn: return set_user_interrupt_upcall(thread, true);
    case cokernel::abi::UpcallReturn: return return_from_upcall(thread);
    }
    return -Errno::Invalid;
}

} // namespace kernel::proc
