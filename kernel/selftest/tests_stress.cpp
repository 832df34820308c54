// Self-test `stress` (named only, docs/reliability.md, "The fuzzer"): runs bin/stress, the seeded
// syzkaller-style fuzzer, for a number of seeds or for a time, and after each seed checks that the
// kernel is whole: the process table back to its figure (no zombie, no orphan left), free frames and
// kernel heap bytes back to theirs, and a fresh spawn runs. Boot arguments:
//
//   stress.seed=S       the first seed (default 1); the next seeds follow (S+1, S+2, ...)
//   stress.seeds=N      how many seeds (default 4)
//   stress.duration=D   instead: seeds until D seconds have passed (at least one)
//   stress.calls=C      calls per worker thread (default 2000)
//   stress.threads=T    worker threads (default 4)
//   stress.timeout=T    seconds one seed may take before it counts as a hang (default 300)
//
// Prints `stress: seed S ok` or `stress: seed S FAILED (...)` per seed, and at the end
// `stress: N calls, M seeds, F failed` (N: the workers' calls, threads x calls per seed run to its end;
// bin/stress prints each seed's own count, nested calls included).
#include <string_view>

#include "kernel/arch/riscv/timer.hpp"
#include "kernel/lib/bootargs.hpp"
#include "kernel/mm/memory.hpp"
#include "kernel/proc/process.hpp"
#include "kernel/sched/scheduler.hpp"
#include "kernel/selftest/selftest.hpp"

namespace kernel {

namespace {

uint64_t number_argument(const BootArgs& args, std::string_view key, uint64_t otherwise) {
    std::string_view text = args.value(key);
    if (text.empty()) return otherwise;
    uint64_t value = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return otherwise;
        value = value * 10 + static_cast<uint64_t>(c - '0');
    }
    return value;
}

uint64_t now_ms() { return riscv::timer::now() * 1000 / riscv::timer::frequency(); }


// Whether the process has exited (or is gone).
bool has_exited(uint32_t pid) {
    proc::ProcessRef process = proc::find_process(pid);
    return !process || process->state == proc::ProcessState::Exited;
}

struct Outcome {
    bool ran = false;      // spawned
    bool hung = false;     // killed at the timeout
    int status = -1;
};

// Runs one program to its end, or kills it after `timeout_ms`.
Outcome run_within(const char* const* arguments, size_t count, uint64_t timeout_ms) {
    Outcome outcome;
    auto process = proc::spawn(arguments[0], arguments, count);
    if (!process) {
        println("    {}: {}", arguments[0], error_name(process.error()));
        return outcome;
    }
    outcome.ran = true;
    uint32_t pid = (*process)->pid;
    uint64_t deadline = now_ms() + timeout_ms;
    while (!has_exited(pid)) {
        if (now_ms() >= deadline) {
            outcome.hung = true;
            (void)proc::kill(pid);
            break;
        }
        if (!proc::run_kernel_step()) proc::wait_for_kernel_work();
    }
    auto status = proc::wait(pid);  // after a kill: waits for the threads to leave
    outcome.status = status ? *status : -1;
    return outcome;
}

void decimal(uint64_t value, char* buffer) {  // at least 21 bytes
    char digits[21];
    int n = 0;
    do digits[n++] = static_cast<char>('0' + value % 10);
    while ((value /= 10) != 0);
    for (int i = 0; i < n; ++i) buffer[i] = digits[n - 1 - i];
    buffer[n] = '\0';
}

} // namespace

bool selftest_stress() {
    SELFTEST_CHECK(proc::init_archive());
    BootArgs args(selftest_boot_arguments());
    const uint64_t first_seed = number_argument(args, "stress.seed", 1);
    const uint64_t seeds = number_argument(args, "stress.seeds", 4);
    const uint64_t duration_s = number_argument(args, "stress.duration", 0);
    const uint64_t calls = number_argument(args, "stress.calls", 2000);
    const uint64_t threads = number_argument(args, "stress.threads", 4);
    const uint64_t timeout_s = number_argument(args, "stress.timeout", 300);
    if (duration_s) println("    seeds from {} for {} s, {} threads x {} calls", first_seed, duration_s, threads, calls);
    else println("    seeds {}..{}, {} threads x {} calls", first_seed, first_seed + seeds - 1, threads, calls);

    // Warm-up: a short run caches the heap slabs process records and pipes use.
    const char* warm_up[] = {"bin/stress", "0", "50", "2"};
    Outcome warm = run_within(warm_up, 4, timeout_s * 1000);
    SELFTEST_CHECK(warm.ran && !warm.hung && warm.status == 0);
    const size_t processes_before = process_count();
    // Frames are compared with the heap's slab frames added: an empty slab the heap keeps cached
    // (heap.hpp) is not a leak; its bytes in use must come back exactly.
    size_t free_before = mm::frames().free_frames() + mm::heap().stats().slab_frames;
    size_t heap_before = mm::heap().stats().bytes_in_use;

    char seed_text[24], calls_text[24], threads_text[24];
    decimal(calls, calls_text);
    decimal(threads, threads_text);
    uint64_t started_ms = now_ms();
    uint64_t run = 0, failed = 0, total_calls = 0;
    for (uint64_t seed = first_seed;; ++seed) {
        if (duration_s ? (run > 0 && now_ms() - started_ms >= duration_s * 1000) : run >= seeds) break;
        ++run;
        decimal(seed, seed_text);
        const char* arguments[] = {"bin/stress", seed_text, calls_text, threads_text};
        Outcome outcome = run_within(arguments, 4, timeout_s * 1000);
        bool table_ok = table_back_to_within(processes_before, 5000);
        const char* fresh[] = {"bin/stress", "child", "exit", "2"};
        Outcome spawned = run_within(fresh, 4, 30000);
        bool spawn_ok = spawned.ran && !spawned.hung && spawned.status == 2;
        size_t free_after = mm::frames().free_frames() + mm::heap().stats().slab_frames;
        size_t heap_after = mm::heap().stats().bytes_in_use;
        bool memory_ok = free_after == free_before && heap_after == heap_before;
        if (outcome.ran && !outcome.hung && outcome.status == 0 && table_ok && spawn_ok && memory_ok) {
            total_calls += calls * threads;
            println("stress: seed {} ok", seed);
            continue;
        }
        ++failed;
        if (!outcome.ran) println("stress: seed {} FAILED (bin/stress did not start)", seed);
        else if (outcome.hung) println("stress: seed {} FAILED (hang: killed after {} s, status {})", seed, timeout_s, outcome.status);
        else if (outcome.status != 0) println("stress: seed {} FAILED (exit status {})", seed, outcome.status);
        if (!table_ok) println("stress: seed {} FAILED (the process table is not back to {} processes)", seed, processes_before);
        if (!spawn_ok) println("stress: seed {} FAILED (a fresh spawn: status {})", seed, spawned.status);
        if (!memory_ok) {
            println("stress: seed {} FAILED (free and slab frames {} -> {}, heap bytes in use {} -> {})", seed, free_before,
                    free_after, heap_before, heap_after);
            free_before = free_after;  // later seeds are measured from here
            heap_before = heap_after;
        }
    }
    println("stress: {} calls, {} seeds, {} failed", total_calls, run, failed);
    return failed == 0;
}

} // namespace kernel
