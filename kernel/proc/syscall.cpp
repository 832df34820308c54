#include "kernel/proc/syscall.hpp"

#include "kernel/proc/scheduler.hpp"
#include "kernel/proc/syscall_handlers.hpp"

namespace kernel::proc {

namespace {

using Handler = long (*)(Thread& thread, SyscallArguments arguments);

// Linux riscv64 numbers (asm-generic/unistd.h).
constexpr size_t SyscallCount = 512;
struct Table {
    Handler handlers[SyscallCount] = {};
    constexpr Table() {
        handlers[64] = sys_write;
        handlers[93] = sys_exit;
        handlers[94] = sys_exit;  // exit_group: one thread per process so far
        handlers[124] = sys_sched_yield;
        handlers[172] = sys_getpid;
        handlers[178] = sys_gettid;
    }
};
constexpr Table table;

} // namespace

long dispatch_syscall(riscv::TrapFrame& frame) {
    uint64_t number = frame.regs[17];
    if (number >= SyscallCount || !table.handlers[number]) return -Errno::NoSystemCall;
    return table.handlers[number](*current_thread(), &frame.regs[10]);
}

} // namespace kernel::proc
