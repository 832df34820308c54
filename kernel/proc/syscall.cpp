#include "kernel/proc/syscall.hpp"

#include "kernel/console/console.hpp"
#include "kernel/proc/process.hpp"
#include "kernel/proc/scheduler.hpp"

namespace kernel::proc {

namespace {

using Arguments = const uint64_t*;  // a0..a5
using Handler = long (*)(Thread& thread, Arguments arguments);

constexpr size_t WriteChunk = 256;

long sys_write(Thread& thread, Arguments a) {
    uint64_t fd = a[0], buffer = a[1], length = a[2];
    if (fd != 1 && fd != 2) return -Errno::BadFile;
    const AddressSpace& space = thread.process->address_space;
    // The whole buffer is checked first: a bad pointer writes nothing.
    if (!space.check_user_range(buffer, length, Access::Read)) return -Errno::Fault;
    char chunk[WriteChunk];
    for (uint64_t done = 0; done < length;) {
        size_t size = length - done < WriteChunk ? length - done : WriteChunk;
        if (!space.copy_from_user(chunk, buffer + done, size)) return -Errno::Fault;
        console::write(chunk, size);
        done += size;
    }
    return static_cast<long>(length);
}

long sys_exit(Thread&, Arguments a) { exit_current_process(static_cast<int>(a[0] & 0xff)); }
long sys_getpid(Thread& thread, Arguments) { return thread.process->pid; }
long sys_gettid(Thread& thread, Arguments) { return thread.tid; }
long sys_sched_yield(Thread& thread, Arguments) {
    thread.yield_requested = true;
    return 0;
}

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
