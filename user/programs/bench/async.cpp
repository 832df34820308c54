// Rows of asynchronous system calls and user-space interrupts: async_call_roundtrip, uintr_delivery,
// and the pipe ring of coroutines (pipe_ring_coroutine_<N>), the model the thread rings of
// pipe_ring.cpp are compared with. All on the process's runtime, one poll thread, one hart.
#include "user/lib/async.hpp"
#include "user/lib/format.hpp"
#include "user/programs/bench/bench.hpp"

namespace user {
// The ring of 256 coroutines has 256 reads waiting in the kernel at once: room for all of them.
extern const uint32_t completion_ring_capacity = 512;
extern const uint32_t async_calls_in_flight_limit = 512;
} // namespace user

namespace bench {

namespace {

// async_call_roundtrip: `co_await async_read(fd, &byte, 1)` on a pipe that has the byte already. One
// operation: the coroutine suspends; the poll loop's arm step submits the call (ecall); the kernel
// runs the handler on the calling thread, which finds the byte and ends; the completion goes into the
// ring and the kernel raises a user interrupt for the calling thread, delivered as the ecall returns
// (emulated N extension: the vDSO's handler reads uscratch, clears uip and returns with uret, a trap
// each); the handler drains the ring and wakes the coroutine; the poll loop resumes it.
user::Task<bool> bench_async_roundtrip(user::Runtime& runtime, const Settings& settings) {
    int fds[2];
    if (user::pipe2(fds) != 0) {
        report_failure("async_call_roundtrip", "pipe2");
        co_return false;
    }
    const uint32_t count = settings.system_calls < 2000 ? settings.system_calls : 2000;  // < the pipe's 4 KiB
    static char bytes[2000];
    Repetitions runs;
    bool ok = true;
    for (uint32_t repetition = 0; ok && repetition < settings.repetitions; ++repetition) {
        ok = user::write(fds[1], bytes, count) == static_cast<long>(count);
        char byte;
        uint32_t done = 0;
        const uint64_t start = instructions_retired();
        for (; ok && done < count; ++done) ok = co_await user::async_read(fds[0], &byte, 1) == 1;
        const uint64_t end = instructions_retired();
        runs.add_per_operation(end - start, count);
    }
    user::close(fds[0]);
    user::close(fds[1]);
    if (!ok || runtime.interrupts.interrupts.load() == 0) {
        report_failure("async_call_roundtrip", "a read did not complete through a user interrupt");
        co_return false;
    }
    print_row("async_call_roundtrip", "instructions", runs);
    co_return true;
}

} // namespace

} // namespace bench

// uintr_delivery's handler: its first instruction reads instret into t6, which the measuring code
// declares clobbered; then it clears uip.USIP and returns (uret). CSRs by number (the assembler does
// not know the N extension's names): uip 0x044.
asm(R"(
    .section .text
    .balign 4
    .global bench_uintr_entry
bench_uintr_entry:
    rdinstret t6
    csrci   0x044, 1
    .word   0x00200073
)");
extern "C" void bench_uintr_entry();

namespace bench {

namespace {

// uintr_delivery: from the instruction before the raise's ecall (raise_user_interrupt for this very
// thread, which is running) to the first instruction of its handler: the system call's entry, the
// raise, the return path and the delivery (emulated: uepc, ucause, ustatus, sepc = utvec). The runtime's
// handler is swapped for a bare one meanwhile.
bool bench_uintr_delivery(const Settings& settings) {
    const long tid = user::gettid();
    unsigned long saved_vector, saved_scratch;
    asm volatile("csrc 0x000, 1" ::: "memory");  // ustatus.UIE off while the handler is swapped
    asm volatile("csrr %0, 0x005" : "=r"(saved_vector));
    asm volatile("csrr %0, 0x040" : "=r"(saved_scratch));
    asm volatile("csrw 0x005, %0" ::"r"(reinterpret_cast<unsigned long>(&bench_uintr_entry)) : "memory");
    asm volatile("csrs 0x000, 1" ::: "memory");
    Repetitions runs;
    bool ok = true;
    const uint32_t count = settings.system_calls / 10 > 0 ? settings.system_calls / 10 : 1;
    for (uint32_t repetition = 0; ok && repetition < settings.repetitions; ++repetition) {
        uint64_t total = 0;
        for (uint32_t i = 0; ok && i < count; ++i) {
            register long a0 asm("a0") = tid;
            register long a7 asm("a7") = cokernel::abi::RaiseUserInterrupt;
            register uint64_t entry asm("t6") = 0;
            uint64_t start;
            asm volatile("rdinstret %[start]\n\tecall"
                         : [start] "=&r"(start), "+r"(a0), "+r"(entry)
                         : "r"(a7)
                         : "memory");
            ok = a0 == 0 && entry > start;
            total += entry - start;
        }
        runs.add_per_operation(total, count);
    }
    asm volatile("csrc 0x000, 1" ::: "memory");
    asm volatile("csrw 0x005, %0" ::"r"(saved_vector) : "memory");
    asm volatile("csrw 0x040, %0" ::"r"(saved_scratch) : "memory");
    asm volatile("csrs 0x000, 1" ::: "memory");
    if (!ok) {
        report_failure("uintr_delivery", "the handler did not run right after the raise");
        return false;
    }
    print_row("uintr_delivery", "instructions", runs);
    return true;
}

// pipe_ring_coroutine_<N>: pipe_ring.cpp's ring with every member a coroutine of this process making
// asynchronous reads and writes (the driver too). One operation is one hop.
constexpr uint32_t MostMembers = 256;
constexpr char Go = 'g';
constexpr char Stop = 's';

struct Ring {
    uint32_t size = 0;
    int pipes[MostMembers][2] = {};
    int read_fd(uint32_t member) const { return pipes[(member + size - 1) % size][0]; }
    int write_fd(uint32_t member) const { return pipes[member][1]; }
};
Ring ring;
user::JoinHandle<bool> members[MostMembers];

user::Task<bool> forward_tokens(user::Runtime&, uint32_t index) {
    const int in = ring.read_fd(index), out = ring.write_fd(index);
    for (;;) {
        char token = 0;
        if (co_await user::async_read(in, &token, 1) != 1) co_return false;
        if (co_await user::async_write(out, &token, 1) != 1) co_return false;
        if (token == Stop) co_return true;
    }
}

user::Task<bool> lap(user::Runtime&, char token) {
    char back = 0;
    if (co_await user::async_write(ring.write_fd(0), &token, 1) != 1) co_return false;
    co_return co_await user::async_read(ring.read_fd(0), &back, 1) == 1 && back == token;
}

user::Task<bool> bench_coroutine_ring(user::Runtime& runtime, const Settings& settings, uint32_t size) {
    ring.size = size;
    uint32_t opened = 0;
    for (; opened < size; ++opened)
        if (user::pipe2(ring.pipes[opened], 0) != 0) break;
    uint32_t started = 1;
    bool ok = opened == size;
    for (; ok && started < size; ++started) {
        auto member = user::spawn(runtime, forward_tokens(runtime, started), user::DefaultPriority);
        if (!member) break;
        members[started] = static_cast<user::JoinHandle<bool>&&>(*member);
    }
    ok = ok && started == size && (co_await lap(runtime, Go)).value_or(false);
    Repetitions runs;
    for (uint32_t repetition = 0; ok && repetition < settings.repetitions; ++repetition) {
        const uint64_t start = instructions_retired();
        ok = (co_await lap(runtime, Go)).value_or(false);
        runs.add_per_operation(instructions_retired() - start, size);
    }
    if (started == size) (void)co_await lap(runtime, Stop);
    else if (started > 1) (void)user::write(ring.write_fd(0), &Stop, 1);
    for (uint32_t i = 1; i < started; ++i) {
        auto result = co_await members[i];
        ok = ok && result && *result;
        members[i].detach();
    }
    for (uint32_t i = 0; i < opened; ++i) {
        user::close(ring.pipes[i][0]);
        user::close(ring.pipes[i][1]);
    }
    if (!ok) {
        report_failure("pipe_ring_coroutine", "ring of", static_cast<long>(size));
        co_return false;
    }
    print_row("pipe_ring_coroutine", size, "instructions", runs);
    co_return true;
}

} // namespace

user::Task<bool> bench_async(user::Runtime& runtime, const Settings& settings) {
    bool ok = (co_await bench_async_roundtrip(runtime, settings)).value_or(false);
    ok = bench_uintr_delivery(settings) && ok;
    for (uint32_t size : {16u, 64u, 256u}) ok = (co_await bench_coroutine_ring(runtime, settings, size)).value_or(false) && ok;
    co_return ok;
}

} // namespace bench
