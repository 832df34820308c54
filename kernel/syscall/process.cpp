// System calls of the process family: exit, identity, yielding.
#include "kernel/proc/process.hpp"
#include "kernel/sched/scheduler.hpp"
#include "kernel/syscall/handlers.hpp"

namespace kernel::proc {

long sys_getpid(Thread& thread, SyscallArguments) { return thread.process->pid; }
long sys_gettid(Thread& thread, SyscallArguments) { return thread.tid; }
long sys_sched_yield(Thread& thread, SyscallArguments) {
    thread.yield_requested = true;
    return 0;
}

} // namespace kernel::proc

#include "abi/abi.hpp"
#include "kernel/arch/riscv/sbi.hpp"
#include "kernel/console/log.hpp"
#include "kernel/syscall/dispatch.hpp"

namespace kernel::proc {

// wait4(pid, wstatus, options, rusage): pid > 0 or -1; options WNOHANG (1) only; rusage must be NULL.
long sys_wait4(Thread& thread, SyscallArguments a) {
    int64_t pid = static_cast<int64_t>(a[0]);
    constexpr uint64_t NoHang = 1;
    if ((pid <= 0 && pid != -1) || (a[2] & ~NoHang) || a[3] != 0) return -Errno::Invalid;
    const AddressSpace& space = thread.process->address_space;
    if (a[1] && !space.check_user_range(a[1], sizeof(int), Access::Write)) return -Errno::Fault;
    auto child = wait_for_child(thread.process->pid, pid, a[2] & NoHang);
    if (!child) return child.error() == Error::NotFound ? -Errno::NoChild : -Errno::Interrupted;
    if (child->pid == 0) return 0;
    // Linux wait status: exit code in bits 15..8, or the terminating signal in bits 6..0.
    int status = child->killed ? child->status - 128 : (child->status & 0xff) << 8;
    if (a[1] && !space.copy_to_user(a[1], &status, sizeof(status))) return -Errno::Fault;
    return child->pid;
}

// kill(pid, signal): every signal ends the process (there are no handlers yet); 0 only checks.
// -EPERM for init (the boot's bin/init) unless init itself asks, signal 0 included.
long sys_kill(Thread& thread, SyscallArguments a) {
    int64_t pid = static_cast<int64_t>(a[0]);
    if (pid <= 0 || a[1] > 64) return -Errno::Invalid;
    ProcessRef process = find_process(static_cast<uint32_t>(pid));
    if (!process || process->state == ProcessState::Exited) return -Errno::NoProcess;
    if (process->is_init && process.get() != thread.process) return -Errno::NotPermitted;
    if (a[1] == 0) return 0;
    (void)kill(static_cast<uint32_t>(pid));
    return 0;
}

// reboot(magic, magic2, command): LINUX_REBOOT_CMD_POWER_OFF powers the machine off. Only init and
// the processes init spawned itself (Process::may_power_off): -EPERM for anyone else.
long sys_reboot(Thread& thread, SyscallArguments a) {
    if (!thread.process->may_power_off) return -Errno::NotPermitted;
    constexpr uint64_t Magic1 = 0xfee1dead, Magic2 = 672274793, PowerOff = 0x4321fedc;
    if (a[0] != Magic1 || a[1] != Magic2) return -Errno::Invalid;
    if (a[2] != PowerOff) return -Errno::Invalid;
    println("power off requested by a process");
    sbi::shutdown(sbi::ResetReason::None);
}

} // namespace kernel::proc

namespace kernel::proc {

namespace {

// The caller may change itself and its children.
bool may_control(const Process& caller, const Process& target) {
    return target.pid == caller.pid || target.parent_pid == caller.pid;
}

using cokernel::abi::ProcessRecord;
static_assert(cokernel::abi::MaxProcessName == MaxProcessName);

} // namespace

// list_programs(buffer, size): the archive's regular files, one name per line. Returns the bytes
// written, or -EINVAL if they do not fit (nothing is cut silently).
long sys_list_programs(Thread& thread, SyscallArguments a) {
    struct Listing {
        char text[2048];
        size_t used = 0;
        bool overflow = false;
    } listing;
    static Listing* current;  // for the capture-less visitor; serialised by listing_lock
    static SpinLock listing_lock;
    ScopedLock guard(listing_lock);
    current = &listing;
    bool present = for_each_program([](const char* name, size_t) {
        size_t length = __builtin_strlen(name);
        if (current->used + length + 1 > sizeof(current->text)) {
            current->overflow = true;
            return;
        }
        __builtin_memcpy(current->text + current->used, name, length);
        current->text[current->used + length] = '\n';
        current->used += length + 1;
    });
    if (!present) return -Errno::NoEntry;
    if (listing.overflow || listing.used > a[1]) return -Errno::Invalid;
    if (!thread.process->address_space.copy_to_user(a[0], listing.text, listing.used)) return -Errno::Fault;
    return static_cast<long>(listing.used);
}

// process_list(records, capacity): fills up to `capacity` ProcessRecords; returns how many
// processes exist (may exceed capacity: call again with more room).
long sys_process_list(Thread& thread, SyscallArguments a) {
    constexpr size_t MaxRecords = 64;
    struct Gather {
        ProcessRecord records[MaxRecords];
        size_t count = 0;
    };
    static Gather gather;  // serialised by gather_lock; too big for the kernel stack
    static SpinLock gather_lock;
    ScopedLock guard(gather_lock);
    gather.count = 0;
    for_each_process(
        [](const Process& process, void*) {
            if (gather.count < MaxRecords) {
                ProcessRecord& record = gather.records[gather.count];
                record = {};
                record.pid = process.pid;
                record.parent_pid = process.parent_pid;
                record.priority = process.priority;
                record.priority_cap = process.priority_cap;
                record.exited = process.state == ProcessState::Exited;
                record.user_pages = static_cast<uint32_t>(process.address_space.user_pages());
                __builtin_memcpy(record.name, process.name, MaxProcessName);
            }
            ++gather.count;
        },
        nullptr);
    size_t copied = gather.count < a[1] ? gather.count : a[1];
    if (copied > MaxRecords) copied = MaxRecords;
    if (!thread.process->address_space.copy_to_user(a[0], gather.records, copied * sizeof(ProcessRecord)))
        return -Errno::Fault;
    return static_cast<long>(gather.count);
}

// set_priority(pid, priority): 0 is the highest of PriorityLevels; a value above the target's cap
// is clamped to the cap. Returns the priority set.
long sys_set_priority(Thread& thread, SyscallArguments a) {
    ProcessRef found = a[0] == 0 ? ProcessRef() : find_process(static_cast<uint32_t>(a[0]));
    Process* target = a[0] == 0 ? thread.process : found.get();  // the caller's own outlives the call
    if (!target || target->state == ProcessState::Exited) return -Errno::NoProcess;
    if (!may_control(*thread.process, *target)) return -Errno::NotPermitted;
    if (a[1] >= PriorityLevels) return -Errno::Invalid;
    set_process_priority(*target, static_cast<uint8_t>(a[1]), target->priority_cap);
    return target->priority;
}

// should_yield(): 1 when a process of strictly higher priority than the caller's has a runnable
// thread (the global priority table's reader, vdso/global_priority.hpp), else 0. The user runtime's
// poll loop asks after each coroutine (paper §3.3.2) until the table is mapped read-only into processes.
long sys_should_yield(Thread& thread, SyscallArguments) { return higher_priority_ready(*thread.process) ? 1 : 0; }

// priority_slot(): the caller's entry in the global priority table mapped at AuxPriorityTable, for
// cokernel_global_priority_should_yield without a system call.
long sys_priority_slot(Thread& thread, SyscallArguments) { return thread.process->slot; }

long sys_get_priority(Thread& thread, SyscallArguments a) {
    ProcessRef found = a[0] == 0 ? ProcessRef() : find_process(static_cast<uint32_t>(a[0]));
    Process* target = a[0] == 0 ? thread.process : found.get();
    if (!target || target->state == ProcessState::Exited) return -Errno::NoProcess;
    return target->priority;
}

// set_priority_cap(pid, cap): only a parent may cap a child, and a cap can only be lowered (made
// numerically larger); the child's priority is clamped at once.
long sys_set_priority_cap(Thread& thread, SyscallArguments a) {
    ProcessRef target = find_process(static_cast<uint32_t>(a[0]));
    if (!target || target->state == ProcessState::Exited) return -Errno::NoProcess;
    if (target->parent_pid != thread.process->pid) return -Errno::NotPermitted;
    if (a[1] >= PriorityLevels || a[1] < target->priority_cap) return -Errno::Invalid;
    set_process_priority(*target, target->priority, static_cast<uint8_t>(a[1]));
    return 0;
}

} // namespace kernel::proc
