// bin/bench: the in-guest benchmarks of user space (make bench; docs/performance.md).
//
//     bin/bench full|quick       every row (the kernel's bench mode runs it; the shell can too)
//     bin/bench <role> <fd>      a helper process started by bin/bench itself (roles below)
//
// Every result is one line `BENCH <name> <unit> <median> <min> <max>` over Settings::repetitions
// repetitions in this run. Instruction counts are rdinstret deltas around a loop of many operations,
// divided by the number of operations; nothing is subtracted (the loop's own few instructions and the
// two reads of the counter are part of each figure, see docs/performance.md). The count includes
// every instruction the hart retires in between, kernel and firmware included, so the machine must
// run one hart (make bench boots QEMU with -smp 1 -icount shift=0).
#pragma once

#include <cstdint>

#include "abi/measurement.hpp"
#include "user/lib/runtime.hpp"

namespace bench {

using kernel::measurement::Repetitions;

struct Settings {
    bool quick;
    uint32_t repetitions;
    uint32_t yields;          // coroutine yields per repetition
    uint32_t switches;        // sched_yield calls of the measuring thread per repetition
    uint32_t system_calls;    // getpid calls per repetition
    uint32_t spawns;          // coroutines spawned per repetition (at most ~1,000: the runtime's blocks)
    uint32_t threads;         // threads created per repetition
    uint32_t budget_runs;     // child processes of the 64 MiB measurements
};

inline uint64_t instructions_retired() {
    uint64_t value;
    asm volatile("rdinstret %0" : "=r"(value)::"memory");
    return value;
}

// `BENCH name unit median min max`: instructions with one decimal place, bytes and counts whole.
void print_row(const char* name, const char* unit, const Repetitions& runs);
// The same name with a number appended: pipe_ring_16.
void print_row(const char* prefix, uint32_t number, const char* unit, const Repetitions& runs);
// A message that makes the run fail.
void report_failure(const char* row, const char* what, long value = 0);

// A thread of this process on a stack of its own (mmap'ed). Its tid word is the thread's id until it
// ends, then 0 (CLONE_CHILD_CLEARTID): join() waits for that, then unmaps the stack.
struct ThreadRecord {
    int tid_word = 0;
    uintptr_t stack = 0;
    size_t stack_size = 0;
};
// Maps the stack only (false on failure); start_thread then costs the clone alone.
bool map_thread_stack(ThreadRecord& thread, size_t stack_size);
// Starts entry(argument) on the mapped stack; the clone's result (tid or -errno).
long start_thread(ThreadRecord& thread, int (*entry)(void*), void* argument);
void join(ThreadRecord& thread);

// The rows, by family. Each returns false when something did not run as it must (reported).
user::Task<bool> bench_coroutines(user::Runtime& runtime, const Settings& settings);    // coroutines.cpp
bool bench_threads_and_processes(const Settings& settings, const char* program);       // threads.cpp
bool bench_pipe_rings(const Settings& settings);                                        // pipe_ring.cpp
bool bench_memory(const Settings& settings, const char* program);                       // memory.cpp
user::Task<bool> bench_async(user::Runtime& runtime, const Settings& settings);         // async.cpp

// Helper processes (argv[1] names the role, argv[2] is a descriptor of a pipe to the parent).
int run_yield_partner(int fd);      // threads.cpp: tells the parent it runs, then sched_yield forever
int run_coroutine_budget(int fd);   // memory.cpp: coroutines until failure under 64 MiB
int run_thread_budget(int fd);      // memory.cpp: threads until failure under 64 MiB

} // namespace bench
