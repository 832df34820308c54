// System calls of the time family: clock_gettime and nanosleep, on the timebase of the device tree.
#include "kernel/arch/riscv/timer.hpp"
#include "kernel/arch/riscv/csr.hpp"
#include "kernel/proc/abi.hpp"
#include "kernel/proc/call.hpp"
#include "kernel/proc/process.hpp"
#include "kernel/proc/scheduler.hpp"
#include "kernel/proc/syscall.hpp"
#include "kernel/proc/syscall_handlers.hpp"

namespace kernel::proc {

namespace {

using cokernel::abi::Timespec;

constexpr uint64_t ClockRealtime = 0, ClockMonotonic = 1;
constexpr int64_t NanosecondsPerSecond = 1'000'000'000;

uint64_t nanoseconds_to_ticks(uint64_t nanoseconds) {
    uint64_t frequency = riscv::timer::frequency();
    return nanoseconds / NanosecondsPerSecond * frequency + nanoseconds % NanosecondsPerSecond * frequency / NanosecondsPerSecond;
}

} // namespace

long sys_clock_gettime(Thread& thread, SyscallArguments a) {
    if (a[0] != ClockRealtime && a[0] != ClockMonotonic) return -Errno::Invalid;
    // No real-time clock is read yet: both clocks count from boot.
    uint64_t now = riscv::timer::nanoseconds_since_boot();
    Timespec value{static_cast<int64_t>(now / NanosecondsPerSecond), static_cast<int64_t>(now % NanosecondsPerSecond)};
    if (!thread.process->address_space.copy_to_user(a[1], &value, sizeof(value))) return -Errno::Fault;
    return 0;
}

// nanosleep(request, remaining): `remaining` is not written (no signal can cut a sleep short).
Call sys_nanosleep(CallMemory&, Process& process, CallArguments a) {
    Timespec request;
    if (!process.address_space.copy_from_user(&request, a[0], sizeof(request))) co_return -Errno::Fault;
    if (request.seconds < 0 || request.nanoseconds < 0 || request.nanoseconds >= NanosecondsPerSecond)
        co_return -Errno::Invalid;
    uint64_t total = static_cast<uint64_t>(request.seconds) * NanosecondsPerSecond + static_cast<uint64_t>(request.nanoseconds);
    uint64_t wake_time = riscv::timer::now() + nanoseconds_to_ticks(total);
    WaitQueue& sleepers = sleep_queue();
    while (riscv::read_time() < wake_time) {
        sleepers.lock.lock();
        co_await WaitOn(sleepers, wake_time);  // the timer tick wakes the queue once someone is due
        if (process.exit_requested.load()) co_return -Errno::Interrupted;
    }
    co_return 0;
}

} // namespace kernel::proc
