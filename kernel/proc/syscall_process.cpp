// System calls of the process family: exit, identity, yielding.
#include "kernel/proc/process.hpp"
#include "kernel/proc/scheduler.hpp"
#include "kernel/proc/syscall_handlers.hpp"

namespace kernel::proc {

long sys_exit(Thread&, SyscallArguments a) { exit_current_process(static_cast<int>(a[0] & 0xff)); }
long sys_getpid(Thread& thread, SyscallArguments) { return thread.process->pid; }
long sys_gettid(Thread& thread, SyscallArguments) { return thread.tid; }
long sys_sched_yield(Thread& thread, SyscallArguments) {
    thread.yield_requested = true;
    return 0;
}

} // namespace kernel::proc

#include "kernel/arch/riscv/sbi.hpp"
#include "kernel/console/log.hpp"
#include "kernel/proc/syscall.hpp"

namespace kernel::proc {

namespace {

constexpr size_t MaxPath = 256;

// Copies a NUL-terminated string of at most capacity-1 bytes from user memory.
Result<size_t> copy_string_from_user(const AddressSpace& space, char* destination, size_t capacity, uint64_t source) {
    for (size_t i = 0; i < capacity; ++i) {
        if (!space.copy_from_user(&destination[i], source + i, 1)) return Error::InvalidArgument;
        if (destination[i] == '\0') return i;
    }
    return Error::Truncated;
}

long errno_of(Error error) {
    switch (error) {
    case Error::NotFound: return -Errno::NoEntry;
    case Error::Malformed: return -Errno::NotExecutable;
    case Error::NoMemory: return -Errno::NoMemory;
    case Error::Truncated: return -Errno::ArgumentsTooLong;
    default: return -Errno::Invalid;
    }
}

} // namespace

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
long sys_kill(Thread&, SyscallArguments a) {
    int64_t pid = static_cast<int64_t>(a[0]);
    if (pid <= 0 || a[1] > 64) return -Errno::Invalid;
    Process* process = find_process(static_cast<uint32_t>(pid));
    if (!process || process->state == ProcessState::Exited) return -Errno::NoProcess;
    if (a[1] == 0) return 0;
    (void)kill(static_cast<uint32_t>(pid));
    return 0;
}

// reboot(magic, magic2, command): LINUX_REBOOT_CMD_POWER_OFF powers the machine off.
long sys_reboot(Thread&, SyscallArguments a) {
    constexpr uint64_t Magic1 = 0xfee1dead, Magic2 = 672274793, PowerOff = 0x4321fedc;
    if (a[0] != Magic1 || a[1] != Magic2) return -Errno::Invalid;
    if (a[2] != PowerOff) return -Errno::Invalid;
    println("power off requested by a process");
    sbi::shutdown(sbi::ResetReason::None);
}

// spawn(path, argv): creates a process running the archive's program `path` with the NULL-terminated
// argv (argv[0] included) as a child of the caller; returns its pid.
long sys_spawn(Thread& thread, SyscallArguments a) {
    const AddressSpace& space = thread.process->address_space;
    char path[MaxPath];
    auto path_length = copy_string_from_user(space, path, sizeof(path), a[0]);
    if (!path_length) return path_length.error() == Error::Truncated ? -Errno::ArgumentsTooLong : -Errno::Fault;
    char strings[MaxArgumentBytes];
    const char* arguments[MaxArguments];
    size_t count = 0, used = 0;
    for (;; ++count) {
        uint64_t pointer;
        if (!space.copy_from_user(&pointer, a[1] + count * 8, sizeof(pointer))) return -Errno::Fault;
        if (pointer == 0) break;
        if (count == MaxArguments) return -Errno::ArgumentsTooLong;
        auto length = copy_string_from_user(space, strings + used, sizeof(strings) - used, pointer);
        if (!length) return length.error() == Error::Truncated ? -Errno::ArgumentsTooLong : -Errno::Fault;
        arguments[count] = strings + used;
        used += *length + 1;
    }
    if (count == 0) return -Errno::Invalid;
    auto child = spawn(path, arguments, count, thread.process->pid);
    if (!child) return errno_of(child.error());
    return (*child)->pid;
}

} // namespace kernel::proc
