// System calls of the time family: clock_gettime and nanosleep, on the timebase of the device tree.
#include <atomic>

#include "abi/abi.hpp"
#include "kernel/arch/riscv/csr.hpp"
#include "kernel/arch/riscv/timer.hpp"
#include "kernel/proc/process.hpp"
#include "kernel/sched/scheduler.hpp"
#include "kernel/syscall/call.hpp"
#include "kernel/syscall/dispatch.hpp"
#include "kernel/syscall/handlers.hpp"

namespace kernel::proc {

namespace {

using cokernel::abi::Timespec;

// Linux's clock ids. REALTIME and REALTIME_COARSE are the time since boot plus the real time at boot
// (set_realtime_at_boot); every other clock counts from boot, the CPU-time clocks too (docs/syscalls.md).
constexpr uint64_t ClockRealtime = 0, ClockMonotonic = 1, ClockRealtimeCoarse = 5, ClockBoottime = 7;
std::atomic<uint64_t> realtime_at_boot{0};  // nanoseconds since the Unix epoch when the kernel booted
bool is_known_clock(uint64_t clock) { return clock <= ClockBoottime; }
constexpr int64_t NanosecondsPerSecond = 1'000'000'000;

uint64_t nanoseconds_to_ticks(uint64_t nanoseconds) {
    uint64_t frequency = riscv::timer::frequency();
    return nanoseconds / NanosecondsPerSecond * frequency + nanoseconds % NanosecondsPerSecond * frequency / NanosecondsPerSecond;
}

uint64_t ticks_to_nanoseconds(uint64_t ticks) {
    uint64_t frequency = riscv::timer::frequency();
    return ticks / frequency * NanosecondsPerSecond + ticks % frequency * NanosecondsPerSecond / frequency;
}

} // namespace

long sys_clock_gettime(Thread& thread, SyscallArguments a) {
    if (!is_known_clock(a[0])) return -Errno::Invalid;
    uint64_t now = riscv::timer::nanoseconds_since_boot();
    if (a[0] == ClockRealtime || a[0] == ClockRealtimeCoarse) now += realtime_at_boot.load(std::memory_order_relaxed);
    Timespec value{static_cast<int64_t>(now / NanosecondsPerSecond), static_cast<int64_t>(now % NanosecondsPerSecond)};
    if (!thread.process->address_space.copy_to_user(a[1], &value, sizeof(value))) return -Errno::Fault;
    return 0;
}

namespace {

// co_await SleepUntil(wake_time): true if a user interrupt ended the sleep early. The synchronous form
// sleeps the whole time (an interruptible wait: sleep_until); the asynchronous one waits once in the
// sleepers' queue (the caller re-checks the time), and no user interrupt ends it.
class SleepUntil {
public:
    explicit SleepUntil(uint64_t wake_time) : wake_time_(wake_time), wait_(sleep_queue(), wake_time) {}
    bool await_ready() const noexcept { return false; }
    bool await_suspend(Call::Handle frame) noexcept {
        if (frame.promise().thread) {
            interrupted_ = sleep_until(wake_time_);
            return false;
        }
        WaitQueue& sleepers = sleep_queue();
        sleepers.lock.lock();
        if (riscv::read_time() >= wake_time_) {
            sleepers.lock.unlock();
            return false;
        }
        note_sleeper(wake_time_);
        return wait_.await_suspend(frame);  // releases the lock
    }
    bool await_resume() const noexcept { return interrupted_; }

private:
    uint64_t wake_time_;
    bool interrupted_ = false;
    WaitOn wait_;
};

} // namespace

uint64_t realtime_at_boot_nanoseconds() { return realtime_at_boot.load(std::memory_order_relaxed); }

void set_realtime(uint64_t epoch_nanoseconds) {
    uint64_t since_boot = riscv::timer::nanoseconds_since_boot();
    realtime_at_boot.store(epoch_nanoseconds > since_boot ? epoch_nanoseconds - since_boot : 0, std::memory_order_relaxed);
}

// clock_getres(clock, resolution): one timebase tick (rounded up to a nanosecond).
long sys_clock_getres(Thread& thread, SyscallArguments a) {
    if (!is_known_clock(a[0])) return -Errno::Invalid;
    if (a[1] == 0) return 0;
    uint64_t frequency = riscv::timer::frequency();
    Timespec resolution{0, static_cast<int64_t>((NanosecondsPerSecond + frequency - 1) / frequency)};
    return thread.process->address_space.copy_to_user(a[1], &resolution, sizeof(resolution)) ? 0 : -Errno::Fault;
}

// clock_nanosleep(clock, flags, request, remaining): flags 0 (relative) or TIMER_ABSTIME (1);
// REALTIME, MONOTONIC and BOOTTIME (the same time here); the CPU-time clocks give -EINVAL (Linux:
// -ENOTSUP for the thread's, sleeping on the process's is allowed). Returns the error (positive
// errno convention of the C function is glibc's business: the call returns -errno like every other).
Call sys_clock_nanosleep(CallMemory&, Process& process, CallArguments a) {
    uint64_t clock = a[0], flags = a[1];
    if (clock != ClockRealtime && clock != ClockMonotonic && clock != ClockBoottime) co_return -Errno::Invalid;
    if (flags & ~uint64_t{1}) co_return -Errno::Invalid;
    Timespec request;
    if (!process.address_space.copy_from_user(&request, a[2], sizeof(request))) co_return -Errno::Fault;
    if (request.seconds < 0 || request.nanoseconds < 0 || request.nanoseconds >= NanosecondsPerSecond)
        co_return -Errno::Invalid;
    uint64_t total = static_cast<uint64_t>(request.seconds) * NanosecondsPerSecond + static_cast<uint64_t>(request.nanoseconds);
    uint64_t now_ns = riscv::timer::nanoseconds_since_boot();
    if (clock == ClockRealtime) now_ns += realtime_at_boot.load(std::memory_order_relaxed);
    if (flags & 1) total = total > now_ns ? total - now_ns : 0;  // absolute: the time left until then
    uint64_t wake_time = riscv::timer::now() + nanoseconds_to_ticks(total);
    while (riscv::read_time() < wake_time) {
        if (co_await SleepUntil(wake_time)) co_return -Errno::Interrupted;
        if (process.exit_requested.load()) co_return -Errno::Interrupted;
    }
    co_return 0;
}

// nanosleep(request, remaining): `remaining` is written only when a user interrupt ends the sleep.
Call sys_nanosleep(CallMemory&, Process& process, CallArguments a) {
    Timespec request;
    if (!process.address_space.copy_from_user(&request, a[0], sizeof(request))) co_return -Errno::Fault;
    if (request.seconds < 0 || request.nanoseconds < 0 || request.nanoseconds >= NanosecondsPerSecond)
        co_return -Errno::Invalid;
    uint64_t total = static_cast<uint64_t>(request.seconds) * NanosecondsPerSecond + static_cast<uint64_t>(request.nanoseconds);
    uint64_t wake_time = riscv::timer::now() + nanoseconds_to_ticks(total);
    bool interrupted = false;
    while (!interrupted && riscv::read_time() < wake_time) {
        interrupted = co_await SleepUntil(wake_time);
        if (process.exit_requested.load()) co_return -Errno::Interrupted;
    }
    if (!interrupted) co_return 0;
    // A user interrupt ended the sleep (synchronous form only, docs/user-interrupts.md): -EINTR, and
    // the time left in `remaining` if given, as Linux does for a signal.
    if (a[1]) {
        uint64_t now = riscv::timer::now();
        uint64_t left = wake_time > now ? ticks_to_nanoseconds(wake_time - now) : 0;
        Timespec remaining{static_cast<int64_t>(left / NanosecondsPerSecond),
                           static_cast<int64_t>(left % NanosecondsPerSecond)};
        if (!process.address_space.copy_to_user(a[1], &remaining, sizeof(remaining))) co_return -Errno::Fault;
    }
    co_return -Errno::Interrupted;
}

} // namespace kernel::proc
