// asynctest: asynchronous system calls end to end (docs/async-syscalls.md). Each check prints a
// line; the process exits 0 only if every one passed. The ring is small on purpose (4 entries for
// 64 calls in flight), so that overflow happens and must lose nothing.
//
//   asynctest               every check below, on four poll threads
//   asynctest exit-in-flight  submits reads that cannot finish, then exits with them in flight
//                             (the kernel self-test checks that nothing leaks)
//   asynctest console         reads a line from the console with asynchronous reads (the UART's
//                             receive interrupt finishes them through a kernel coroutine)
// Error values are <cerrno>'s macros here (the runtime's headers bring it): Linux's numbers, the kernel's.
#include "user/lib/async.hpp"
#include "user/lib/format.hpp"
#include "user/lib/runtime.hpp"

#include <atomic>

namespace user {
extern const uint32_t completion_ring_capacity = 4;
} // namespace user

using user::Runtime;
using user::Task;

namespace {

int failures = 0;

void expect(bool condition, const char* what, long got = 0, long wanted = 0) {
    if (condition) return;
    user::println("asynctest: FAILED {} (got {}, wanted {})", what, got, wanted);
    ++failures;
}

long now_ms() {
    cokernel::abi::Timespec t{};
    user::clock_gettime(1, &t);
    return t.seconds * 1000 + t.nanoseconds / 1'000'000;
}

// Yields until `done()` holds, for at most 10 seconds (by the clock: the machine may be slow). Its
// result: whether it held.
template <typename Condition>
Task<bool> yield_until(Runtime&, Condition done) {
    const long deadline = now_ms() + 10'000;
    while (!done()) {
        if (now_ms() > deadline) co_return false;
        co_await user::yield_now();
    }
    co_return true;
}

struct Pipe {
    int read_end = -1;
    int write_end = -1;
    bool open() {
        int fds[2];
        if (user::pipe2(fds) != 0) return false;
        read_end = fds[0];
        write_end = fds[1];
        return true;
    }
    void close() {
        if (read_end >= 0) user::close(read_end);
        if (write_end >= 0) user::close(write_end);
        read_end = write_end = -1;
    }
};

// The same pipe traffic through both forms gives the same results: byte counts, bytes, end of file,
// -EPIPE, -EBADF and -EFAULT (checked before the call returns, on both paths).
Task<> same_results(Runtime&) {
    Pipe pipe;
    expect(pipe.open(), "pipe2");
    const char message[] = "the same bytes either way";
    char sync_buffer[64] = {};
    char async_buffer[64] = {};
    long written = user::write(pipe.write_end, message, sizeof(message));
    long read_sync = user::read(pipe.read_end, sync_buffer, sizeof(sync_buffer));
    long written_async = co_await user::async_write(pipe.write_end, message, sizeof(message));
    long read_async = co_await user::async_read(pipe.read_end, async_buffer, sizeof(async_buffer));
    expect(written == written_async, "write: same count", written_async, written);
    expect(read_sync == read_async && read_sync == static_cast<long>(sizeof(message)), "read: same count", read_async,
           read_sync);
    expect(__builtin_memcmp(sync_buffer, async_buffer, sizeof(message)) == 0, "read: same bytes");

    auto* bad = reinterpret_cast<void*>(0x10);
    long fault_sync = user::read(pipe.read_end, bad, 8);
    long fault_async = co_await user::async_read(pipe.read_end, bad, 8);
    expect(fault_sync == -EFAULT && fault_async == -EFAULT, "bad buffer: -EFAULT on both paths",
           fault_async, -EFAULT);
    long bad_fd_sync = user::read(999, sync_buffer, 1);
    long bad_fd_async = co_await user::async_read(999, async_buffer, 1);
    expect(bad_fd_sync == -EBADF && bad_fd_async == -EBADF, "bad descriptor: -EBADF on both paths",
           bad_fd_async, -EBADF);

    user::close(pipe.write_end);
    pipe.write_end = -1;
    long eof_sync = user::read(pipe.read_end, sync_buffer, 1);
    long eof_async = co_await user::async_read(pipe.read_end, async_buffer, 1);
    expect(eof_sync == 0 && eof_async == 0, "end of file: 0 on both paths", eof_async, 0);
    pipe.close();

    Pipe broken;
    expect(broken.open(), "pipe2");
    user::close(broken.read_end);
    broken.read_end = -1;
    long pipe_sync = user::write(broken.write_end, message, 4);
    long pipe_async = co_await user::async_write(broken.write_end, message, 4);
    expect(pipe_sync == -EPIPE && pipe_async == -EPIPE, "no reader: -EPIPE on both paths", pipe_async,
           -EPIPE);
    broken.close();
    user::println("asynctest: sync and async forms give the same results");
}

// A coroutine that waits in the kernel (the read finds nothing) is finished by a kernel coroutine
// when data comes, and woken through the ring.
Task<long> read_one(Runtime&, int fd, char* byte) { co_return co_await user::async_read(fd, byte, 1); }

// 64 reads wait in the kernel at once on one pipe (the whole pool): the 65th call is refused with
// -EAGAIN and nothing is lost. The ring holds 4: the completions overflow, are held, and all arrive.
Task<> pool_and_overflow(Runtime& runtime) {
    constexpr int Count = cokernel::abi::DefaultCallsInFlight;
    Pipe pipe;
    expect(pipe.open(), "pipe2");
    static char bytes[Count];
    user::JoinHandle<long> readers[Count];
    for (int i = 0; i < Count; ++i) {
        auto handle = user::spawn(runtime, read_one(runtime, pipe.read_end, &bytes[i]), user::DefaultPriority);
        expect(handle.has_value(), "spawn a reader");
        if (handle) readers[i] = static_cast<user::JoinHandle<long>&&>(*handle);
    }
    // Let every reader submit (they wait in the kernel: nothing to read yet).
    auto all_submitted = co_await yield_until(runtime, [&] { return user::async_calls_in_flight(runtime) == Count; });
    expect(all_submitted && *all_submitted, "64 calls in flight", user::async_calls_in_flight(runtime), Count);
    if (all_submitted && *all_submitted) {
        char extra;
        long refused = co_await user::async_read(pipe.read_end, &extra, 1);
        expect(refused == -EAGAIN, "the 65th call in flight: -EAGAIN", refused, -EAGAIN);
    }

    const uint32_t overflows_before = runtime.completion_ring->overflows;
    char values[Count];
    for (int i = 0; i < Count; ++i) values[i] = static_cast<char>(i + 1);
    expect(user::write(pipe.write_end, values, Count) == Count, "write 64 bytes");
    bool seen[Count + 1] = {};
    bool all_right = true;
    for (int i = 0; i < Count; ++i) {
        auto result = co_await readers[i];
        const int value = bytes[i];
        all_right = all_right && result && *result == 1 && value >= 1 && value <= Count && !seen[value];
        if (value >= 1 && value <= Count) seen[value] = true;
    }
    expect(all_right, "every reader got a byte of its own");
    pipe.close();
    const uint32_t overflows = runtime.completion_ring->overflows - overflows_before;
    expect(overflows > 0, "a ring of 4 for 64 completions overflowed", overflows, 1);
    expect(runtime.completion_ring->held == 0, "no completion left held", runtime.completion_ring->held, 0);
    user::println("asynctest: 64 calls in flight, the 65th refused with -EAGAIN; {} overflows of the ring, nothing lost",
                  overflows);
}

// The only poll threads sleep (futex) while the kernel finishes a sleep: the completion wakes them.
Task<> completion_while_idle(Runtime& runtime) {
    const uint64_t interrupts_before = runtime.interrupts.interrupts.load();
    cokernel::abi::Timespec delay{0, 20'000'000};  // 20 ms
    long slept = co_await user::async_nanosleep(&delay);
    expect(slept == 0, "async nanosleep", slept, 0);
    cokernel::abi::Timespec bad_delay{0, 2'000'000'000};
    long invalid = co_await user::async_nanosleep(&bad_delay);
    expect(invalid == -EINVAL, "async nanosleep: bad time -EINVAL", invalid, -EINVAL);
    const uint64_t interrupts = runtime.interrupts.interrupts.load() - interrupts_before;
    expect(interrupts > 0, "user interrupts taken", static_cast<long>(interrupts), 1);
    user::println("asynctest: woken while idle ({} user interrupt(s))", interrupts);
}

// A completion for a process whose threads are busy: one coroutine spins (no yield) on its thread
// while another's sleep finishes; the interrupt reaches a running thread and the woken coroutine
// runs on another poll thread.
std::atomic<int> flag{0};
Task<> set_flag_after_sleep(Runtime&) {
    cokernel::abi::Timespec delay{0, 5'000'000};
    co_await user::async_nanosleep(&delay);
    flag.store(1);
}
Task<> spin_until_flag(Runtime&, long* spins) {
    long count = 0;
    while (flag.load() == 0 && count < 2'000'000'000) ++count;
    *spins = count;
    co_return;
}
Task<> completion_while_running(Runtime& runtime) {
    long spins = 0;
    auto sleeper = user::spawn(runtime, set_flag_after_sleep(runtime), user::DefaultPriority);
    auto spinner = user::spawn(runtime, spin_until_flag(runtime, &spins), user::DefaultPriority);
    expect(sleeper.has_value() && spinner.has_value(), "spawn sleeper and spinner");
    if (sleeper) (void)co_await *sleeper;
    if (spinner) (void)co_await *spinner;
    expect(flag.load() == 1, "the sleeper ran while the spinner spun");
    user::println("asynctest: completion reached a busy process (the spinner spun {} times)", spins > 0 ? 1 : 0);
}

bool is_pending(Runtime& runtime, vdso::CoroutineId id) {
    auto state = vdso::executor_state_of(runtime, id);
    return state && *state == vdso::CoroutineState::Pending;
}

// The runtime's counts of completions (vdso::UserInterruptContext).
struct Counts {
    uint64_t interrupts, delivered, drained, stale, inline_completions;
    explicit Counts(Runtime& runtime)
        : interrupts(runtime.interrupts.interrupts.load()), delivered(runtime.interrupts.delivered.load()),
          drained(runtime.interrupts.drained_after_submission.load()), stale(runtime.interrupts.stale.load()),
          inline_completions(runtime.interrupts.completed_inline.load()) {}
};

// When no interrupt is raised (docs/async-syscalls.md): completions that arrive at different points
// of the only poll thread's life, each delivered exactly once, with an interrupt exactly when the
// thread would not look at the ring by itself.
std::atomic<int> slept{0};
Task<> sleep_briefly(Runtime&, long nanoseconds) {
    cokernel::abi::Timespec delay{0, nanoseconds};
    long result = co_await user::async_nanosleep(&delay);
    slept.store(result == 0 ? 1 : -1);
}
// Spins without looking at the ring until a completion is delivered. `started_late`: it was delivered
// before the spin began (the sleep ended during its own submission, on a slow or loaded host), so
// this attempt shows nothing about a completion that arrives while the thread computes.
Task<> spin_until_delivered(Runtime& runtime, uint64_t delivered_before, bool* delivered_while_spinning,
                            bool* started_late) {
    *started_late = runtime.interrupts.delivered.load() != delivered_before;
    long count = 0;
    while (runtime.interrupts.delivered.load() == delivered_before && count < 4'000'000'000) ++count;
    *delivered_while_spinning = !*started_late && runtime.interrupts.delivered.load() != delivered_before;
    co_return;
}
Task<> completions_without_interrupts(Runtime& runtime) {
    constexpr int Count = 64;
    Pipe pipe;
    expect(pipe.open(), "pipe2");

    // In its own submission: the bytes are there, each read ends inline and its result comes back in
    // the submission's registers (docs/async-syscalls.md, "The arm step's own completion").
    char values[Count];
    for (int i = 0; i < Count; ++i) values[i] = static_cast<char>(i * 3 + 1);
    expect(user::write(pipe.write_end, values, Count) == Count, "write the bytes");
    Counts before(runtime);
    int good = 0;
    for (int i = 0; i < Count; ++i) {
        char byte = 0;
        if (co_await user::async_read(pipe.read_end, &byte, 1) == 1 && byte == values[i]) ++good;
    }
    Counts after(runtime);
    expect(good == Count, "own submission: every read right", good, Count);
    expect(after.interrupts == before.interrupts, "own submission: no user interrupt",
           static_cast<long>(after.interrupts - before.interrupts), 0);
    expect(after.inline_completions - before.inline_completions == Count, "own submission: in registers",
           static_cast<long>(after.inline_completions - before.inline_completions), Count);
    expect(after.drained == before.drained, "own submission: nothing in the ring",
           static_cast<long>(after.drained - before.drained), 0);
    expect(after.delivered - before.delivered == Count, "own submission: delivered once each",
           static_cast<long>(after.delivered - before.delivered), Count);

    // In another call of the same thread: a read waits in the kernel, this coroutine's write wakes it.
    // Its kernel coroutine finishes on the write's way back to user mode (no interrupt), or, with
    // more harts, perhaps on another hart (then with one): either way both arrive once.
    before = Counts(runtime);
    good = 0;
    for (int i = 0; i < Count; ++i) {
        char byte = 0;
        auto reader = user::spawn(runtime, read_one(runtime, pipe.read_end, &byte), user::DefaultPriority);
        expect(reader.has_value(), "spawn a reader");
        if (!reader) break;
        const vdso::CoroutineId id = reader->id();
        auto waiting = co_await yield_until(
            runtime, [&] { return user::async_calls_in_flight(runtime) == 1 && is_pending(runtime, id); });
        expect(waiting && *waiting, "the reader waits in the kernel");
        const long written = co_await user::async_write(pipe.write_end, &values[i], 1);
        auto read = co_await *reader;
        if (written == 1 && read && *read == 1 && byte == values[i]) ++good;
    }
    after = Counts(runtime);
    expect(good == Count, "another call of the thread: every read and write right", good, Count);
    expect(after.delivered - before.delivered == 2 * Count, "another call of the thread: delivered once each",
           static_cast<long>(after.delivered - before.delivered), 2 * Count);
    expect(after.stale == before.stale, "another call of the thread: nothing stale");
    const uint64_t interrupts_other_call = after.interrupts - before.interrupts;

    // While it computes in user mode: a sleep ends while the only poll thread spins without looking at
    // the ring. Only an interrupt can bring it; the spinner sees it delivered before it yields. On a
    // slow or loaded host the sleep may end before the spinner starts (in its own submission: then no
    // interrupt is due); such an attempt is repeated with a longer sleep.
    bool delivered_while_spinning = false;
    bool started_late = true;
    long delay = 5'000'000;
    int attempts = 0;
    for (; attempts < 5 && started_late; ++attempts, delay *= 3) {  // 5 ms .. 405 ms
        slept.store(0);
        before = Counts(runtime);
        auto sleeper = user::spawn(runtime, sleep_briefly(runtime, delay), user::DefaultPriority);
        auto spinner = user::spawn(
            runtime, spin_until_delivered(runtime, before.delivered, &delivered_while_spinning, &started_late),
            user::DefaultPriority);
        expect(sleeper.has_value() && spinner.has_value(), "spawn sleeper and spinner");
        if (sleeper) (void)co_await *sleeper;
        if (spinner) (void)co_await *spinner;
        after = Counts(runtime);
    }
    expect(!started_late, "computing: the sleep ended while the thread spun (in one of the attempts)", attempts, 5);
    expect(delivered_while_spinning, "computing: the completion arrived while the thread spun");
    expect(after.interrupts > before.interrupts, "computing: through a user interrupt",
           static_cast<long>(after.interrupts - before.interrupts), 1);
    expect(slept.load() == 1 && after.delivered - before.delivered == 1, "computing: the sleep delivered once",
           static_cast<long>(after.delivered - before.delivered), 1);
    pipe.close();
    user::println("asynctest: completions without interrupts: {} in their own submission, {} x 2 in another call "
                  "of the thread ({} interrupt(s)), one while computing (by interrupt)",
                  Count, Count, interrupts_other_call);
}

// A coroutine cancelled while its call is in flight: the call finishes, its completion is stale and
// ignored.
Task<> cancelled_waiter(Runtime& runtime) {
    Pipe pipe;
    expect(pipe.open(), "pipe2");
    static char byte;
    auto reader = user::spawn(runtime, read_one(runtime, pipe.read_end, &byte), user::DefaultPriority);
    expect(reader.has_value(), "spawn a reader");
    // Submitted (in flight) and suspended (Pending: its poll thread has finished the arm step).
    const vdso::CoroutineId id = reader->id();
    auto waiting = co_await yield_until(
        runtime, [&] { return user::async_calls_in_flight(runtime) == 1 && is_pending(runtime, id); });
    expect(waiting && *waiting, "the reader waits in the kernel");
    const uint64_t stale_before = runtime.interrupts.stale.load();
    expect(vdso::cancel(runtime, reader->id()) == vdso::CancelStatus::Cancelled, "cancel the waiting reader");
    char value = 'z';
    expect(user::write(pipe.write_end, &value, 1) == 1, "write a byte");
    for (const long deadline = now_ms() + 10'000; runtime.interrupts.stale.load() == stale_before && now_ms() < deadline;) {
        cokernel::abi::Timespec tick{0, 1'000'000};
        user::nanosleep(&tick);
    }
    expect(runtime.interrupts.stale.load() > stale_before, "the cancelled coroutine's completion was ignored");
    pipe.close();
    user::println("asynctest: a completion for a cancelled coroutine is ignored");
}

// Many coroutines on four poll threads, each passing data through its own pipe with async calls.
Task<long> echo_rounds(Runtime&, int index, int rounds) {
    Pipe pipe;
    if (!pipe.open()) co_return -1;
    long good = 0;
    for (int round = 0; round < rounds; ++round) {
        char out[8], in[8] = {};
        for (int i = 0; i < 8; ++i) out[i] = static_cast<char>(index * 31 + round * 7 + i);
        long written = co_await user::async_write(pipe.write_end, out, sizeof(out));
        long got = 0;
        while (got < 8) {
            long n = co_await user::async_read(pipe.read_end, in + got, sizeof(in) - got);
            if (n <= 0) break;
            got += n;
        }
        if (written == 8 && got == 8 && __builtin_memcmp(in, out, 8) == 0) ++good;
    }
    pipe.close();
    co_return good;
}
Task<> many_in_flight(Runtime& runtime) {
    constexpr int Coroutines = 12, Rounds = 40;  // two descriptors each: the table holds 32
    user::JoinHandle<long> handles[Coroutines];
    for (int i = 0; i < Coroutines; ++i) {
        auto handle = user::spawn(runtime, echo_rounds(runtime, i, Rounds), user::DefaultPriority);
        expect(handle.has_value(), "spawn an echo coroutine");
        if (handle) handles[i] = static_cast<user::JoinHandle<long>&&>(*handle);
    }
    long good = 0;
    for (auto& handle : handles) {
        auto result = co_await handle;
        if (result) good += *result;
    }
    expect(good == Coroutines * Rounds, "every echo round intact", good, Coroutines * Rounds);
    user::println("asynctest: {} coroutines x {} rounds of async write+read on {} poll threads: {} intact", Coroutines,
                  Rounds, runtime.thread_count.load(), good);
}

// Batched submission (docs/async-syscalls.md): coroutines ready at once each arm a read whose byte is
// there; their calls go to the kernel together. Then async_submit_batch by hand with bad entries.
Task<long> read_byte(Runtime&, int fd) {
    char byte = 0;
    const long n = co_await user::async_read(fd, &byte, 1);
    co_return n == 1 ? static_cast<unsigned char>(byte) : -1000 + n;
}
Task<> batched_submission(Runtime& runtime) {
    using namespace cokernel::abi;
    constexpr int Count = 12;  // two descriptors each: the table holds 32
    Pipe pipes[Count];
    user::JoinHandle<long> handles[Count];
    // Batched submission is off by default (user::batched_submission): on for this check only, with
    // the runtime's one poll thread (a call batched behind a coroutine that computes waits until it
    // suspends: the "computing" case above would not hold with it).
    user::set_batched_submission(runtime, true);
    const uint64_t batches_before = runtime.interrupts.batches.load();
    const uint64_t batched_before = runtime.interrupts.batched_calls.load();
    for (int i = 0; i < Count; ++i) {
        expect(pipes[i].open(), "pipe2");
        const char value = static_cast<char>(40 + i);
        expect(user::write(pipes[i].write_end, &value, 1) == 1, "write a byte");
    }
    for (int i = 0; i < Count; ++i) {
        auto handle = user::spawn(runtime, read_byte(runtime, pipes[i].read_end), user::DefaultPriority);
        expect(handle.has_value(), "spawn a reader");
        if (handle) handles[i] = static_cast<user::JoinHandle<long>&&>(*handle);
    }
    int good = 0;
    for (int i = 0; i < Count; ++i) {
        auto result = co_await handles[i];
        if (result && *result == 40 + i) ++good;
    }
    const uint64_t batches = runtime.interrupts.batches.load() - batches_before;
    const uint64_t batched = runtime.interrupts.batched_calls.load() - batched_before;
    expect(runtime.submission_batch.count == 0, "batched: nothing left in the batch");
    user::set_batched_submission(runtime, false);
    expect(good == Count, "batched: every reader got its own byte", good, Count);
    expect(batches >= 1 && batched >= 2, "batched: calls went in batches", static_cast<long>(batched), Count);

    // By hand: a good read (its byte is there), a bad number, a call without an asynchronous form,
    // token 0, a bad buffer (the call's own -EFAULT), a token nobody waits for (a forged one: its
    // completion is stale), and a read that waits (accepted: its completion comes by the ring).
    const char value = 'b';
    expect(user::write(pipes[0].write_end, &value, 1) == 1, "write a byte");
    char byte = 0, waiting_byte = 0;
    const uint64_t forged = vdso::CoroutineId::make(1000, 77).value;
    SubmissionEntry entries[7] = {};
    auto set = [&](SubmissionEntry& entry, long number, uint64_t token, uint64_t a0, uint64_t a1, uint64_t a2) {
        entry.number = number;
        entry.token = token;
        entry.arguments[0] = a0;
        entry.arguments[1] = a1;
        entry.arguments[2] = a2;
        entry.status = 12345;
    };
    const uint64_t fd0 = static_cast<uint64_t>(pipes[0].read_end), fd1 = static_cast<uint64_t>(pipes[1].read_end);
    set(entries[0], Read, forged, fd0, reinterpret_cast<uint64_t>(&byte), 1);
    set(entries[1], 511, forged, 0, 0, 0);
    set(entries[2], GetPid, forged, 0, 0, 0);
    set(entries[3], Read, 0, fd0, reinterpret_cast<uint64_t>(&byte), 1);
    set(entries[4], Write, forged, static_cast<uint64_t>(pipes[0].write_end), 16, 1);
    set(entries[5], 0x10000 + Read, forged, fd0, reinterpret_cast<uint64_t>(&byte), 1);
    set(entries[6], Read, forged, fd1, reinterpret_cast<uint64_t>(&waiting_byte), 1);
    const uint64_t stale_before = runtime.interrupts.stale.load();
    const long submitted = user::syscall(AsyncSubmitBatch, reinterpret_cast<long>(entries), 7, AsyncResultInRegistersBit);
    expect(submitted == 7, "by hand: the batch was taken", submitted, 7);
    expect(entries[0].status == AsyncCompletedInline && entries[0].result == 1 && byte == 'b',
           "by hand: the read ended inline", entries[0].status, AsyncCompletedInline);
    expect(entries[1].status == -ENOSYS, "by hand: bad number", entries[1].status, -ENOSYS);
    expect(entries[2].status == -ENOSYS, "by hand: no asynchronous form", entries[2].status, -ENOSYS);
    expect(entries[3].status == -EINVAL, "by hand: token 0", entries[3].status, -EINVAL);
    expect(entries[4].status == AsyncCompletedInline && entries[4].result == -EFAULT, "by hand: bad buffer",
           entries[4].result, -EFAULT);
    expect(entries[5].status == -ENOSYS, "by hand: a number with the async bit", entries[5].status, -ENOSYS);
    expect(entries[6].status == 0, "by hand: the waiting read accepted", entries[6].status, 0);
    expect(user::write(pipes[1].write_end, &value, 1) == 1, "write the waiting read's byte");
    (void)co_await yield_until(runtime, [&] { return user::async_calls_in_flight(runtime) == 0; });
    (void)co_await yield_until(runtime, [&] { return runtime.interrupts.stale.load() > stale_before; });
    expect(waiting_byte == 'b', "by hand: the waiting read finished");
    expect(runtime.interrupts.stale.load() == stale_before + 1, "by hand: its forged token was stale",
           static_cast<long>(runtime.interrupts.stale.load() - stale_before), 1);
    // The array itself: unaligned, unmapped, read-only, too long, bad flags.
    expect(user::syscall(AsyncSubmitBatch, reinterpret_cast<long>(entries) + 4, 1, 0) == -EFAULT, "unaligned array");
    expect(user::syscall(AsyncSubmitBatch, 0x10, 1, 0) == -EFAULT, "unmapped array");
    expect(user::syscall(AsyncSubmitBatch, reinterpret_cast<long>(&read_byte), 1, 0) == -EFAULT, "read-only array");
    expect(user::syscall(AsyncSubmitBatch, reinterpret_cast<long>(entries), 1025, 0) == -EINVAL, "too long");
    expect(user::syscall(AsyncSubmitBatch, reinterpret_cast<long>(entries), 1, 0x1) == -EINVAL, "bad flags");
    expect(user::syscall(AsyncSubmitBatch, reinterpret_cast<long>(entries), 0, 0) == 0, "empty batch");
    for (Pipe& pipe : pipes) pipe.close();
    user::println("asynctest: batched submission: {} readers in {} batch(es) of {} calls, bad entries refused one by one",
                  Count, batches, batched);
}

// Reads that can never finish, then the process ends with them in flight.
Task<int> exit_in_flight(Runtime& runtime) {
    static Pipe pipes[8];
    for (Pipe& pipe : pipes) {
        if (!pipe.open()) co_return 1;
        static char byte;
        (void)user::spawn(runtime, read_one(runtime, pipe.read_end, &byte), user::DefaultPriority);
    }
    (void)co_await yield_until(runtime, [&] { return user::async_calls_in_flight(runtime) == 8; });
    user::println("asynctest: exiting with {} calls in flight", user::async_calls_in_flight(runtime));
    co_return 0;  // the write ends stay open: the reads would wait forever
}

// A line from the console, read with async_read while another coroutine keeps running: the read
// waits in the kernel, not on this thread.
Task<int> console_line(Runtime& runtime) {
    static std::atomic<bool> line_done{false};
    static long ticks = 0;
    struct Ticker {
        static Task<> run(Runtime&) {
            while (!line_done.load()) {
                ++ticks;
                co_await user::yield_now();
            }
        }
    };
    auto ticker = user::spawn(runtime, Ticker::run(runtime), user::DefaultPriority + 1);
    char line[64];
    size_t length = 0;
    while (length < sizeof(line) - 1) {
        long got = co_await user::async_read(0, line + length, 1);
        if (got != 1) break;
        if (line[length] == '\n' || line[length] == '\r') break;
        ++length;
    }
    line[length] = '\0';
    line_done.store(true);
    if (ticker) (void)co_await *ticker;
    user::println("asynctest console: got '{}'{}", line, ticks > 0 ? ", another coroutine ran meanwhile" : "");
    co_return length > 0 && ticks > 0 ? 0 : 1;
}

} // namespace

Task<int> async_main(Runtime& runtime, int argc, char** argv) {
    if (argc > 1 && argv[1][0] == 'c') {
        auto status = co_await console_line(runtime);
        co_return status ? *status : 1;
    }
    if (argc > 1 && argv[1][0] == 'e') {
        auto status = co_await exit_in_flight(runtime);
        co_return status ? *status : 1;
    }
    co_await same_results(runtime);
    co_await completions_without_interrupts(runtime);
    co_await batched_submission(runtime);
    co_await completion_while_idle(runtime);
    expect(user::add_poll_threads(runtime, 3) == 3, "three more poll threads");
    co_await completion_while_running(runtime);
    co_await pool_and_overflow(runtime);
    co_await cancelled_waiter(runtime);
    co_await many_in_flight(runtime);
    user::println("asynctest: {}", failures == 0 ? "ok" : "FAILED");
    co_return failures == 0 ? 0 : 1;
}
