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
// operation: the coroutine suspends; the poll loop's arm step submits the call (ecall, with
// AsyncDrainsAfterReturnBit); the kernel runs the handler on the calling thread, which finds the byte
// and ends; the completion goes into the ring, and since the submitter drains the ring when the ecall
// returns, no user interrupt is raised (docs/async-syscalls.md, "When no interrupt is raised"); the
// arm step drains the ring and wakes the coroutine; the poll loop resumes it.
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
    const uint64_t delivered_before = runtime.interrupts.delivered.load();
    uint64_t reads = 0;
    for (uint32_t repetition = 0; ok && repetition < settings.repetitions; ++repetition) {
        ok = user::write(fds[1], bytes, count) == static_cast<long>(count);
        reads += count;
        char byte;
        uint32_t done = 0;
        const uint64_t start = instructions_retired();
        for (; ok && done < count; ++done) ok = co_await user::async_read(fds[0], &byte, 1) == 1;
        const uint64_t end = instructions_retired();
        runs.add_per_operation(end - start, count);
    }
    user::close(fds[0]);
    user::close(fds[1]);
    if (!ok || runtime.interrupts.delivered.load() - delivered_before != reads) {
        report_failure("async_call_roundtrip", "a read did not complete through the completion ring");
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
// handler is swapped for a bare one meanwhile, and upcall delivery is off (the bare handler is a CSR
// one; docs/user-interrupts.md, "Upcall delivery").
bool bench_uintr_delivery(const Settings& settings) {
    const long tid = user::gettid();
    unsigned long saved_vector, saved_scratch;
    asm volatile("csrc 0x000, 1" ::: "memory");  // ustatus.UIE off while the handler is swapped
    const bool upcalls = user::user_interrupt_upcall(cokernel::abi::UpcallOff) == 1;
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
    if (upcalls) (void)user::user_interrupt_upcall(cokernel::abi::UpcallOn);
    asm volatile("csrs 0x000, 1" ::: "memory");
    if (!ok) {
        report_failure("uintr_delivery", "the handler did not run right after the raise");
        return false;
    }
    print_row("uintr_delivery", "instructions", runs);
    return true;
}

// uintr_wake_cross: a completion finished by a kernel coroutine while the waiting coroutine's thread
// runs user code that does not look at the ring, from the completion's cause to the waiting coroutine
// running again. A reader coroutine waits in the kernel (async read of an empty pipe); the measuring
// coroutine, running, makes a synchronous one-byte write into that pipe: on the write's way back to
// user mode the reader's kernel coroutine finishes the read and posts its completion; this thread is
// not in a submission that drains the ring, so a user interrupt is raised and delivered on that
// return; the vDSO's handler drains the ring and wakes the reader; the measuring coroutine yields and
// the reader runs. One operation: from the write's ecall to the reader's first instruction after
// its co_await (the write itself, the raise and delivery, the handler, the yield).
struct WakeCross {
    int fds[2] = {-1, -1};
    uint64_t start = 0;   // set by the measuring coroutine just before its write
    uint64_t total = 0;   // summed by the reader
};
WakeCross cross;

user::Task<bool> cross_reader(user::Runtime&, uint64_t reads) {
    for (uint64_t i = 0; i < reads; ++i) {
        char byte = 0;
        if (co_await user::async_read(cross.fds[0], &byte, 1) != 1) co_return false;
        cross.total += instructions_retired() - cross.start;
    }
    co_return true;
}

user::Task<bool> bench_uintr_wake_cross(user::Runtime& runtime, const Settings& settings) {
    if (user::pipe2(cross.fds) != 0) {
        report_failure("uintr_wake_cross", "pipe2");
        co_return false;
    }
    const uint32_t count = settings.system_calls / 10 > 0 ? settings.system_calls / 10 : 1;
    auto reader = user::spawn(runtime, cross_reader(runtime, uint64_t{count} * settings.repetitions), user::DefaultPriority);
    bool ok = reader.has_value();
    const uint64_t interrupts_before = runtime.interrupts.interrupts.load();
    Repetitions runs;
    const char byte = 'x';
    for (uint32_t repetition = 0; ok && repetition < settings.repetitions; ++repetition) {
        cross.total = 0;
        for (uint32_t i = 0; ok && i < count; ++i) {
            // The reader waits in the kernel (it ran up to its submission when this one last yielded;
            // its call may have joined the poll loop's batch, which goes to the kernel after this
            // coroutine's next step: docs/async-syscalls.md, "Batched submission").
            co_await user::yield_now();
            for (int step = 0; step < 4 && user::async_calls_in_flight(runtime) != 1; ++step) co_await user::yield_now();
            ok = user::async_calls_in_flight(runtime) == 1;
            cross.start = instructions_retired();
            ok = ok && user::write(cross.fds[1], &byte, 1) == 1;
            co_await user::yield_now();  // the reader, woken by the handler, runs now
        }
        runs.add_per_operation(cross.total, count);
    }
    const uint64_t interrupts = runtime.interrupts.interrupts.load() - interrupts_before;
    if (reader) ok = (co_await *reader).value_or(false) && ok;
    user::close(cross.fds[0]);
    user::close(cross.fds[1]);
    if (!ok || interrupts < uint64_t{count} * settings.repetitions) {
        report_failure("uintr_wake_cross", "a completion did not come through a user interrupt");
        co_return false;
    }
    print_row("uintr_wake_cross", "instructions", runs);
    co_return true;
}

// async_batch_64: 64 coroutines, each with its own pipe that already holds every byte it will read,
// read one byte at a time with async reads; all 64 are ready at once, so a poll loop that batched
// submissions would submit 64 at a time. One operation: one completed call (its share of the
// submissions, the drains, the wake-ups and the poll loop), measured from the last spawn to the last
// join (the 64 joins are in the figure).
constexpr uint32_t BatchCoroutines = 64;
int batch_pipes[BatchCoroutines][2];
user::JoinHandle<bool> batch_readers[BatchCoroutines];

user::Task<bool> batch_reader(user::Runtime&, int fd, uint32_t reads) {
    for (uint32_t i = 0; i < reads; ++i) {
        char byte = 0;
        if (co_await user::async_read(fd, &byte, 1) != 1) co_return false;
    }
    co_return true;
}

user::Task<bool> bench_async_batch(user::Runtime& runtime, const Settings& settings) {
    const uint32_t reads = settings.quick ? 4 : 32;  // each reader's; < the pipe's 4 KiB
    static char bytes[32];
    uint32_t opened = 0;
    for (; opened < BatchCoroutines; ++opened)
        if (user::pipe2(batch_pipes[opened], 0) != 0) break;
    bool ok = opened == BatchCoroutines;
    Repetitions runs;
    for (uint32_t repetition = 0; ok && repetition < settings.repetitions; ++repetition) {
        for (uint32_t i = 0; ok && i < BatchCoroutines; ++i)
            ok = user::write(batch_pipes[i][1], bytes, reads) == static_cast<long>(reads);
        for (uint32_t i = 0; ok && i < BatchCoroutines; ++i) {
            auto reader = user::spawn(runtime, batch_reader(runtime, batch_pipes[i][0], reads), user::DefaultPriority);
            ok = reader.has_value();
            if (reader) batch_readers[i] = static_cast<user::JoinHandle<bool>&&>(*reader);
        }
        const uint64_t start = instructions_retired();
        for (uint32_t i = 0; ok && i < BatchCoroutines; ++i) ok = (co_await batch_readers[i]).value_or(false);
        runs.add_per_operation(instructions_retired() - start, uint64_t{BatchCoroutines} * reads);
    }
    for (uint32_t i = 0; i < opened; ++i) {
        user::close(batch_pipes[i][0]);
        user::close(batch_pipes[i][1]);
    }
    if (!ok) {
        report_failure("async_batch_64", "a read failed");
        co_return false;
    }
    print_row("async_batch_64", "instructions", runs);
    co_return true;
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
    ok = (co_await bench_uintr_wake_cross(runtime, settings)).value_or(false) && ok;
    ok = (co_await bench_async_batch(runtime, settings)).value_or(false) && ok;
    for (uint32_t size : {16u, 64u, 256u}) ok = (co_await bench_coroutine_ring(runtime, settings, size)).value_or(false) && ok;
    co_return ok;
}

} // namespace bench
