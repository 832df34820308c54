#include "kernel/syscall/dispatch.hpp"

#include <atomic>

#include "abi/abi.hpp"
#include "kernel/console/log.hpp"
#include "kernel/sched/scheduler.hpp"
#include "kernel/syscall/async_call.hpp"
#include "kernel/syscall/handlers.hpp"

namespace kernel::proc {

namespace {

using Handler = long (*)(Thread& thread, SyscallArguments arguments);

// A call is served by a plain handler (synchronous only) or by a system-call coroutine (call.hpp),
// which also gives it its asynchronous form.
struct Entry {
    Handler plain = nullptr;
    CallHandler coroutine = nullptr;
    constexpr Entry() = default;
    constexpr Entry(Handler handler) : plain(handler) {}
    constexpr Entry(CallHandler handler) : coroutine(handler) {}
};

// Two ranges: Linux riscv64 numbers (asm-generic/unistd.h) below 512, and the project's own calls
// from ProjectBase (docs/syscalls.md).
constexpr size_t LinuxCount = 512;
constexpr size_t ProjectBase = cokernel::abi::FirstProjectSyscall;
constexpr size_t ProjectCount = 32;
struct Table {
    Entry linux_calls[LinuxCount] = {};
    Entry project_calls[ProjectCount] = {};
    constexpr Table() {
        linux_calls[23] = sys_dup;
        linux_calls[24] = sys_dup3;
        linux_calls[25] = sys_fcntl;
        linux_calls[29] = sys_ioctl;
        linux_calls[65] = sys_readv;
        linux_calls[66] = sys_writev;
        linux_calls[99] = sys_set_robust_list;
        linux_calls[114] = sys_clock_getres;
        linux_calls[115] = sys_clock_nanosleep;
        linux_calls[130] = sys_tkill;
        linux_calls[131] = sys_tgkill;
        linux_calls[160] = sys_uname;
        linux_calls[173] = sys_getppid;
        linux_calls[174] = sys_get_identity;  // getuid
        linux_calls[175] = sys_get_identity;  // geteuid
        linux_calls[176] = sys_get_identity;  // getgid
        linux_calls[177] = sys_get_identity;  // getegid
        linux_calls[226] = sys_mprotect;
        linux_calls[233] = sys_madvise;
        linux_calls[261] = sys_prlimit64;
        linux_calls[278] = sys_getrandom;
        linux_calls[293] = sys_rseq;
        linux_calls[57] = sys_close;
        linux_calls[59] = sys_pipe2;
        linux_calls[63] = sys_read;
        linux_calls[64] = sys_write;
        linux_calls[93] = sys_exit_thread;
        linux_calls[94] = sys_exit_group;
        linux_calls[96] = sys_set_tid_address;
        linux_calls[98] = sys_futex;
        linux_calls[101] = sys_nanosleep;
        linux_calls[113] = sys_clock_gettime;
        linux_calls[124] = sys_sched_yield;
        linux_calls[129] = sys_kill;
        linux_calls[142] = sys_reboot;
        linux_calls[172] = sys_getpid;
        linux_calls[178] = sys_gettid;
        linux_calls[214] = sys_brk;
        linux_calls[215] = sys_munmap;
        linux_calls[221] = sys_execve;
        linux_calls[222] = sys_mmap;
        linux_calls[220] = sys_clone;
        linux_calls[260] = sys_wait4;
        project_calls[cokernel::abi::Spawn - ProjectBase] = sys_spawn;
        project_calls[cokernel::abi::ListPrograms - ProjectBase] = sys_list_programs;
        project_calls[cokernel::abi::ProcessList - ProjectBase] = sys_process_list;
        project_calls[cokernel::abi::SetPriority - ProjectBase] = sys_set_priority;
        project_calls[cokernel::abi::GetPriority - ProjectBase] = sys_get_priority;
        project_calls[cokernel::abi::SetPriorityCap - ProjectBase] = sys_set_priority_cap;
        project_calls[cokernel::abi::ShouldYield - ProjectBase] = sys_should_yield;
        project_calls[cokernel::abi::PrioritySlot - ProjectBase] = sys_priority_slot;
        project_calls[cokernel::abi::RaiseUserInterrupt - ProjectBase] = sys_raise_user_interrupt;
        project_calls[cokernel::abi::AsyncSetup - ProjectBase] = sys_async_setup;
        project_calls[cokernel::abi::AsyncFlush - ProjectBase] = sys_async_flush;
        project_calls[cokernel::abi::SetMemoryLimit - ProjectBase] = sys_set_memory_limit;
        project_calls[cokernel::abi::MemoryUsage - ProjectBase] = sys_memory_usage;
    }
    constexpr Entry find(uint64_t number) const {
        if (number < LinuxCount) return linux_calls[number];
        if (number >= ProjectBase && number < ProjectBase + ProjectCount) return project_calls[number - ProjectBase];
        return {};
    }
};
constexpr Table table;

// Boot argument log-enosys: the first call of each unimplemented number is logged with the caller.
bool log_missing = false;
std::atomic<uint64_t> logged[(LinuxCount + ProjectCount) / 64 + 1];

long missing_call(const Thread& thread, uint64_t number) {
    if (!log_missing) return -Errno::NoSystemCall;
    uint64_t index = number < LinuxCount ? number
                     : number >= ProjectBase && number < ProjectBase + ProjectCount ? LinuxCount + number - ProjectBase
                                                                                     : LinuxCount + ProjectCount;
    uint64_t bit = uint64_t{1} << (index % 64);
    if (logged[index / 64].fetch_or(bit, std::memory_order_relaxed) & bit) return -Errno::NoSystemCall;
    println("system call {} not implemented (-ENOSYS), first called by process {} ({})", number,
            thread.process->pid, thread.process->name);
    return -Errno::NoSystemCall;
}

} // namespace

void set_log_missing_syscalls(bool enabled) { log_missing = enabled; }

long dispatch_syscall(riscv::TrapFrame& frame) {
    uint64_t number = frame.regs[17];
    Thread& thread = *current_thread();
    const uint64_t* arguments = &frame.regs[10];
    if (number & cokernel::abi::AsyncCallBit) {
        // The asynchronous form: the same call with the bit added and a token in a6.
        Entry entry = table.find(number & ~static_cast<uint64_t>(cokernel::abi::AsyncCallBit));
        if (!entry.coroutine) return -Errno::NoSystemCall;
        return submit_async_call(thread, entry.coroutine, arguments, frame.regs[16]);
    }
    Entry entry = table.find(number);
    if (entry.plain) return entry.plain(thread, arguments);
    if (entry.coroutine) return run_call(thread, entry.coroutine, arguments);
    return missing_call(thread, number);
}

long sys_async_setup(Thread& thread, SyscallArguments a) { return async_setup(thread, a[0], a[1]); }
long sys_async_flush(Thread& thread, SyscallArguments) { return async_flush(thread); }

} // namespace kernel::proc
