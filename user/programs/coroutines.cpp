// coroutines: the user runtime end to end. async_main runs as a coroutine under the shared executor
// (bound from the vDSO); on one poll thread it checks strict priority order and FIFO within a level,
// yields, events and wait queues, join handles with results, and that spawning past the control
// blocks fails with NoMemory instead of crashing; then 1,000 coroutines run on four poll threads
// (this one and three more) and must all finish, on more than one thread. Exit status 0 = all passed.
#include "user/lib/format.hpp"
#include "user/lib/runtime.hpp"

#include <atomic>

using user::Runtime;
using user::Task;

namespace {

int failures = 0;

void expect(bool condition, const char* what) {
    if (condition) return;
    user::println("coroutines: FAILED {}", what);
    ++failures;
}

// An append-only record of which coroutine ran when (one poll thread at a time writes it here).
struct Log {
    int entries[64];
    std::atomic<int> size{0};
    void add(int value) {
        const int at = size.fetch_add(1);
        if (at < 64) entries[at] = value;
    }
};

Task<> record(Runtime&, Log& log, int value) {
    log.add(value);
    co_return;
}

Task<> record_twice_with_yield(Runtime&, Log& log, int first, int second) {
    log.add(first);
    co_await user::yield_now();
    log.add(second);
}

Task<> wait_then_record(Runtime&, user::Event& event, Log& log, int value) {
    co_await event.wait();
    log.add(value);
}

Task<> wait_on_queue(Runtime&, user::WaitQueue& queue, Log& log, int value) {
    co_await queue.wait();
    log.add(value);
}

Task<int> square(Runtime&, int value) {
    co_await user::yield_now();
    co_return value * value;
}

Task<> check_priority_order(Runtime& runtime) {
    // Tags are priority * 10 + spawn order within the level; spawned out of order on purpose.
    const int priorities[] = {30, 5, 20, 5, 2, 30, 20, 2, 5};
    Log log;
    user::JoinHandle<void> handles[9];
    int order_in_level[64] = {};
    for (int i = 0; i < 9; ++i) {
        const int priority = priorities[i];
        auto handle = user::spawn(runtime, record(runtime, log, priority * 10 + order_in_level[priority]++), priority);
        expect(handle.has_value(), "spawn at a priority");
        if (handle) handles[i] = static_cast<user::JoinHandle<void>&&>(*handle);
    }
    for (auto& handle : handles) (void)co_await handle;
    const int expected[] = {20, 21, 50, 51, 52, 200, 201, 300, 301};
    bool in_order = log.size.load() == 9;
    for (int i = 0; in_order && i < 9; ++i) in_order = log.entries[i] == expected[i];
    expect(in_order, "strict priority order, FIFO within a level");
    user::println("coroutines: priority order {} {} {} {} {} {} {} {} {}", log.entries[0], log.entries[1],
                  log.entries[2], log.entries[3], log.entries[4], log.entries[5], log.entries[6], log.entries[7],
                  log.entries[8]);
}

Task<> check_yield_events_and_joins(Runtime& runtime) {
    Log yields;
    auto a = user::spawn(runtime, record_twice_with_yield(runtime, yields, 1, 3), 10);
    auto b = user::spawn(runtime, record_twice_with_yield(runtime, yields, 2, 4), 10);
    expect(a && b, "spawn of yielding coroutines");
    if (a && b) {
        (void)co_await *a;
        (void)co_await *b;
    }
    expect(yields.size.load() == 4 && yields.entries[0] == 1 && yields.entries[1] == 2 && yields.entries[2] == 3 &&
               yields.entries[3] == 4,
           "yield goes to the tail of its level");

    user::Event event;
    Log woken;
    user::JoinHandle<void> waiters[3];
    for (int i = 0; i < 3; ++i) {
        auto handle = user::spawn(runtime, wait_then_record(runtime, event, woken, i), 12);
        if (handle) waiters[i] = static_cast<user::JoinHandle<void>&&>(*handle);
    }
    co_await user::yield_now(); // priority 16 < 12? no: the waiters (12) are more urgent and run first
    expect(woken.size.load() == 0 && event.has_waiters(), "waiters wait for the event");
    expect(event.set() == 3, "Event::set wakes every waiter");
    for (auto& waiter : waiters) (void)co_await waiter;
    expect(woken.size.load() == 3, "every waiter ran after the event");
    co_await event.wait(); // set: passes straight through

    user::WaitQueue queue;
    Log notified;
    auto first = user::spawn(runtime, wait_on_queue(runtime, queue, notified, 1), 12);
    auto second = user::spawn(runtime, wait_on_queue(runtime, queue, notified, 2), 12);
    co_await user::yield_now();
    expect(queue.notify_one() == 1, "notify_one wakes one waiter");
    if (first) (void)co_await *first;
    expect(notified.size.load() == 1 && notified.entries[0] == 1, "notify_one wakes the longest waiter");
    expect(queue.notify_all() == 1, "notify_all wakes the rest");
    if (second) (void)co_await *second;

    auto squared = user::spawn(runtime, square(runtime, 12), 20);
    expect(squared.has_value(), "spawn of a Task<int>");
    if (squared) {
        user::Result<int> value = co_await *squared;
        expect(value && *value == 144, "a join handle gives the coroutine's result");
    }
}

Task<> check_control_block_exhaustion(Runtime& runtime) {
    user::Event release;
    Log unused;
    auto* handles = new user::JoinHandle<void>[user::ControlBlockCount];
    uint32_t spawned = 0;
    user::Error failure = user::Error::InvalidArgument;
    for (;;) {
        auto handle = user::spawn(runtime, wait_then_record(runtime, release, unused, 0), 40);
        if (!handle) {
            failure = handle.error();
            break;
        }
        if (spawned == user::ControlBlockCount) break; // must not happen: the table has this many
        handles[spawned++] = static_cast<user::JoinHandle<void>&&>(*handle);
    }
    // Live besides these: async_main's root and this check's own (awaited, so same root): one.
    expect(spawned == user::ControlBlockCount - 1, "every free control block can be used");
    expect(failure == user::Error::NoMemory, "spawn past the control blocks returns NoMemory");
    user::println("coroutines: {} spawned, then {} (the table holds {})", spawned, kernel::error_name(failure),
                  user::ControlBlockCount);
    release.set();
    for (uint32_t i = 0; i < spawned; ++i) (void)co_await handles[i];
    delete[] handles;
    auto again = user::spawn(runtime, record(runtime, unused, 0), 40);
    expect(again.has_value(), "control blocks are free again after the coroutines ended");
    if (again) (void)co_await *again;
}

// The many-threads part: every coroutine adds to `total` Steps times, yielding in between, and notes
// which thread ran it. The first few also block their thread in nanosleep, so that the other poll
// threads must take over even on a single hart.
constexpr int ManyCoroutines = 1000;
constexpr int Steps = 5;
constexpr int MaxThreads = 16;
std::atomic<long> total{0};
std::atomic<long> thread_ids[MaxThreads];
std::atomic<long> runs_per_thread[MaxThreads];

void note_thread() {
    const long tid = user::gettid();
    for (int i = 0; i < MaxThreads; ++i) {
        long seen = thread_ids[i].load();
        if (seen == 0 && thread_ids[i].compare_exchange_strong(seen, tid)) seen = tid;
        if (seen == tid) {
            runs_per_thread[i].fetch_add(1);
            return;
        }
    }
}

Task<> step_and_yield(Runtime&, int index) {
    if (index < 4) {
        const user::Timespec pause{0, 2'000'000};
        user::nanosleep(&pause); // holds this thread: a coroutine bound to a stack, for a moment
    }
    for (int step = 0; step < Steps; ++step) {
        note_thread();
        total.fetch_add(1);
        co_await user::yield_now();
    }
}

Task<> check_many_on_threads(Runtime& runtime) {
    const long started = user::add_poll_threads(runtime, 3);
    expect(started == 3, "three more poll threads");
    auto* handles = new user::JoinHandle<void>[ManyCoroutines];
    int spawned = 0;
    for (int i = 0; i < ManyCoroutines; ++i) {
        auto handle = user::spawn(runtime, step_and_yield(runtime, i), 8 + i % 4);
        if (handle) handles[spawned++] = static_cast<user::JoinHandle<void>&&>(*handle);
    }
    expect(spawned == ManyCoroutines, "1,000 coroutines spawned");
    for (int i = 0; i < spawned; ++i) (void)co_await handles[i];
    delete[] handles;
    int threads = 0;
    for (int i = 0; i < MaxThreads; ++i) threads += thread_ids[i].load() != 0;
    expect(total.load() == long{ManyCoroutines} * Steps, "every step of every coroutine counted");
    expect(threads > 1, "more than one poll thread ran coroutines");
    user::println("coroutines: {} coroutines x {} steps = {} on {} threads ({} {} {} {} runs)", spawned, Steps,
                  total.load(), threads, runs_per_thread[0].load(), runs_per_thread[1].load(),
                  runs_per_thread[2].load(), runs_per_thread[3].load());
}

} // namespace

Task<int> async_main(Runtime& runtime, int, char**) {
    co_await check_priority_order(runtime);
    co_await check_yield_events_and_joins(runtime);
    co_await check_control_block_exhaustion(runtime);
    co_await check_many_on_threads(runtime);
    // The hart-yield check reads the kernel's table mapped into this process, with the answer the
    // kernel gives (nothing of higher priority is running during this test).
    expect(user::priority_table != nullptr && runtime.priority_slot >= 0, "global priority table mapped");
    expect(runtime.functions->global_priority_should_yield(user::priority_table, runtime.priority_slot) ==
               user::syscall(user::ShouldYield),
           "mapped table and kernel agree");
    // The runtime's own inline reading (its hook after every coroutine) gives the same answer.
    expect(runtime.own_priority != nullptr, "own entry of the mapped table looked up");
    if (runtime.own_priority != nullptr)
        expect(vdso::global_priority_should_yield(*runtime.mapped_priority_table, *runtime.own_priority) ==
                   (user::syscall(user::ShouldYield) == 1),
               "inline table reading and kernel agree");
    user::println("coroutines: priority published {} times, {} hart-yield checks, {} hart yields",
                  runtime.priority_publications.load(), user::hart_yield_checks(runtime), runtime.hart_yields.load());
    user::println("coroutines: {}", failures == 0 ? "ok" : "FAILED");
    co_return failures == 0 ? 0 : 1;
}
