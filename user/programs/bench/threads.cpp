// Thread and process rows: thread_switch, process_switch, syscall_getpid, spawn_thread; and the
// helpers for threads with stacks of their own (bench.hpp).
#include "user/lib/syscall.hpp" // first: <atomic> brings <cerrno>, whose macros would hide its Errno names

#include <atomic>

#include "user/lib/format.hpp"
#include "user/lib/print.hpp"
#include "user/programs/bench/bench.hpp"

namespace bench {

bool map_thread_stack(ThreadRecord& thread, size_t stack_size) {
    const long stack = user::mmap(0, stack_size, user::PROT_READ | user::PROT_WRITE, user::MAP_PRIVATE | user::MAP_ANONYMOUS);
    if (stack < 0) return false;
    thread.stack = static_cast<uintptr_t>(stack);
    thread.stack_size = stack_size;
    return true;
}

long start_thread(ThreadRecord& thread, int (*entry)(void*), void* argument) {
    return user::spawn_thread(entry, argument, reinterpret_cast<void*>(thread.stack + thread.stack_size), &thread.tid_word);
}

void join(ThreadRecord& thread) {
    user::join_thread(&thread.tid_word);
    if (thread.stack) user::munmap(thread.stack, thread.stack_size);
    thread.stack = 0;
}

namespace {

constexpr size_t StackSize = 16 * 1024;
constexpr uint32_t WarmUpYields = 10;
constexpr uint32_t MostThreads = 64;

// The other thread of thread_switch: yields until told to stop, counting its turns.
struct Partner {
    std::atomic<uint32_t> stop{0};
    std::atomic<uint64_t> turns{0};
    bool dirty_fp = false;  // write an f register before every yield (thread_switch_fp_dirty)
};

// One F/D instruction that writes f0 (sstatus.FS becomes Dirty): the program is built rv64imac, so
// the instruction is allowed for this line only.
inline void dirty_fp_state(uint64_t value) {
    asm volatile(".option push\n.option arch, +d\nfmv.d.x f0, %0\n.option pop" : : "r"(value));
}

int partner_thread(void* argument) {
    auto& partner = *static_cast<Partner*>(argument);
    while (partner.stop.load(std::memory_order_relaxed) == 0) {
        if (partner.dirty_fp) dirty_fp_state(partner.turns.load(std::memory_order_relaxed));
        user::sched_yield();
        partner.turns.fetch_add(1, std::memory_order_relaxed);
    }
    return 0;
}

// `yields` sched_yield calls of this thread, each handing the hart to the other thread (or process)
// and getting it back: 2 * yields switches. With dirty_fp, each yield follows a write of f0.
uint64_t measure_yields(uint32_t yields, bool dirty_fp = false) {
    for (uint32_t i = 0; i < WarmUpYields; ++i) user::sched_yield();
    const uint64_t start = instructions_retired();
    if (dirty_fp) {
        for (uint32_t i = 0; i < yields; ++i) {
            dirty_fp_state(i);
            user::sched_yield();
        }
    } else {
        for (uint32_t i = 0; i < yields; ++i) user::sched_yield();
    }
    return instructions_retired() - start;
}

// thread_switch: two threads of this process hand the one hart to each other with sched_yield; one
// operation is one switch (a yield that gives the hart to the other thread). The partner's count of
// turns checks that they really alternated. thread_switch_fp_dirty: the same, both threads writing an
// f register before each yield, so every switch stores one thread's FP state and loads the other's
// (the difference to thread_switch is that cost, plus the one fmv.d.x per yield).
bool bench_thread_switch(const Settings& settings, bool dirty_fp) {
    const char* row = dirty_fp ? "thread_switch_fp_dirty" : "thread_switch";
    Partner partner;
    partner.dirty_fp = dirty_fp;
    ThreadRecord thread;
    if (!map_thread_stack(thread, StackSize) || start_thread(thread, partner_thread, &partner) <= 0) {
        report_failure(row, "cannot start the partner thread");
        return false;
    }
    while (partner.turns.load() == 0) user::sched_yield();
    Repetitions runs;
    bool alternated = true;
    for (uint32_t repetition = 0; repetition < settings.repetitions; ++repetition) {
        const uint64_t turns_before = partner.turns.load();
        const uint64_t instructions = measure_yields(settings.switches, dirty_fp);
        const uint64_t turns = partner.turns.load() - turns_before;
        // A timer tick may add or take a turn.
        if (turns + 2 < settings.switches + WarmUpYields || turns > settings.switches + WarmUpYields + 2) {
            report_failure(row, "the threads did not alternate; partner turns", static_cast<long>(turns));
            alternated = false;
        }
        runs.add_per_operation(instructions, 2 * uint64_t{settings.switches});
    }
    partner.stop.store(1);
    join(thread);
    if (alternated) print_row(row, "instructions", runs);
    return alternated;
}

// process_switch: the same between this process and a child (bin/bench yield-partner), both at the
// default priority so the kernel's pick alternates between them (round-robin among equals).
bool bench_process_switch(const Settings& settings, const char* program) {
    int fds[2];
    if (user::pipe2(fds, 0) != 0) {
        report_failure("process_switch", "pipe2");
        return false;
    }
    char fd_text[24];
    const char* arguments[] = {program, "yield-partner", user::decimal_text(static_cast<unsigned long>(fds[1]), fd_text),
                               nullptr};
    const long child = user::spawn(program, arguments);
    user::close(fds[1]);
    char ready = 0;
    if (child <= 0 || user::read(fds[0], &ready, 1) != 1) {
        report_failure("process_switch", "cannot start the partner process", child);
        user::close(fds[0]);
        return false;
    }
    user::close(fds[0]);
    user::set_priority(0, user::DefaultPriority);
    Repetitions runs;
    for (uint32_t repetition = 0; repetition < settings.repetitions; ++repetition)
        runs.add_per_operation(measure_yields(settings.switches), 2 * uint64_t{settings.switches});
    user::kill(child, 9);
    int status = 0;
    user::wait4(child, &status, 0);
    print_row("process_switch", "instructions", runs);
    return true;
}

// syscall_getpid: one operation is a getpid system call, from ecall to the instruction after it.
bool bench_getpid(const Settings& settings) {
    Repetitions runs;
    for (uint32_t repetition = 0; repetition < settings.repetitions; ++repetition) {
        const uint64_t start = instructions_retired();
        for (uint32_t i = 0; i < settings.system_calls; ++i) (void)user::getpid();
        runs.add_per_operation(instructions_retired() - start, settings.system_calls);
    }
    print_row("syscall_getpid", "instructions", runs);
    return true;
}

int return_at_once(void*) { return 0; }

// spawn_thread: one operation is the clone of a thread whose stack is already mapped (as coroutine
// frames come from a pool mapped beforehand): its kernel stack and record, its registers, making it
// runnable. The threads run (and end) after the measured loop, when this thread waits for them.
bool bench_spawn_thread(const Settings& settings) {
    static ThreadRecord threads[MostThreads];
    const uint32_t count = settings.threads < MostThreads ? settings.threads : MostThreads;
    Repetitions runs;
    for (uint32_t repetition = 0; repetition < settings.repetitions; ++repetition) {
        for (uint32_t i = 0; i < count; ++i) {
            if (!map_thread_stack(threads[i], StackSize)) {
                report_failure("spawn_thread", "mmap of a stack");
                return false;
            }
        }
        uint32_t started = 0;
        const uint64_t start = instructions_retired();
        for (; started < count; ++started)
            if (start_thread(threads[started], return_at_once, nullptr) <= 0) break;
        const uint64_t end = instructions_retired();
        for (uint32_t i = 0; i < count; ++i) join(threads[i]);
        if (started != count) {
            report_failure("spawn_thread", "clone failed after", static_cast<long>(started));
            return false;
        }
        runs.add_per_operation(end - start, count);
    }
    print_row("spawn_thread", "instructions", runs);
    return true;
}

} // namespace

int run_yield_partner(int fd) {
    user::set_priority(0, user::DefaultPriority);
    if (user::write(fd, "r", 1) != 1) return 1;
    user::close(fd);
    for (;;) user::sched_yield(); // until the parent kills this process
}

bool bench_threads_and_processes(const Settings& settings, const char* program) {
    bool ok = bench_thread_switch(settings, false);
    ok = bench_thread_switch(settings, true) && ok;
    ok = bench_process_switch(settings, program) && ok;
    ok = bench_getpid(settings) && ok;
    ok = bench_spawn_thread(settings) && ok;
    return ok;
}

} // namespace bench
