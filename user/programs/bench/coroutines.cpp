// Coroutine rows: coroutine_yield_round_2 and _1000, spawn_coroutine. Everything runs on the
// process's own runtime (the executor in its memory, driven through the vDSO), on one poll thread.
#include "user/lib/format.hpp"
#include "user/programs/bench/bench.hpp"

namespace bench {

namespace {

constexpr uint32_t MostCoroutines = 1000; // the runtime has 1,024 control blocks; async_main holds one

user::JoinHandle<void> handles[MostCoroutines];

// The yielders of one repetition. Coroutine 0 reads the counter at the start of round `first` and of
// round `first + rounds`; in between every coroutine yields `rounds` times, in FIFO order.
struct YieldRun {
    uint32_t first;
    uint32_t rounds;
    uint64_t start = 0;
    uint64_t end = 0;
};

user::Task<> yielder(user::Runtime&, YieldRun& run, bool measures) {
    const uint32_t last = run.first + run.rounds;
    for (uint32_t round = 0; round <= last; ++round) {
        if (measures && round == run.first) run.start = instructions_retired();
        if (measures && round == last) run.end = instructions_retired();
        co_await user::yield_now();
    }
}

user::Task<> nothing(user::Runtime&) { co_return; }

// Waits for every handle in [0, count) and drops it.
user::Task<bool> join_all(user::Runtime&, uint32_t count) {
    bool ok = true;
    for (uint32_t i = 0; i < count; ++i) {
        ok = (co_await handles[i]).has_value() && ok;
        handles[i].detach();
    }
    co_return ok;
}

// coroutine_yield_round_<coroutines>: `coroutines` ready coroutines at one priority take turns;
// one operation is one yield: the coroutine suspends, the poll loop asks the should-yield hook (the
// global priority table, read through the vDSO), finishes it and fetches the next one under one lock
// acquisition, and resumes it (vdso/poll_loop.cpp, run_until_idle).
user::Task<bool> bench_yield_round(user::Runtime& runtime, const Settings& settings, uint32_t coroutines) {
    Repetitions runs;
    const uint32_t rounds = settings.yields / coroutines > 0 ? settings.yields / coroutines : 1;
    for (uint32_t repetition = 0; repetition < settings.repetitions; ++repetition) {
        YieldRun run{1, rounds};
        for (uint32_t i = 0; i < coroutines; ++i) {
            auto spawned = user::spawn(runtime, yielder(runtime, run, i == 0), user::DefaultPriority);
            if (!spawned) {
                report_failure("coroutine_yield_round", "spawn", static_cast<long>(i));
                co_return false;
            }
            handles[i] = static_cast<user::JoinHandle<void>&&>(*spawned);
        }
        const bool joined = (co_await join_all(runtime, coroutines)).value_or(false);
        if (!joined || run.end <= run.start) {
            report_failure("coroutine_yield_round", "the yielders did not all run");
            co_return false;
        }
        runs.add_per_operation(run.end - run.start, uint64_t{rounds} * coroutines);
    }
    print_row("coroutine_yield_round", coroutines, "instructions", runs);
    co_return true;
}

// spawn_coroutine: one operation is user::spawn of a coroutine that has not run yet: its frame from
// the runtime's frame pool (vDSO, lock), its control block and ready-queue entry (vDSO, lock), the
// idle-thread signal, the priority check, the JoinHandle stored. One spawn before the measured ones
// makes the process's new highest priority known to the kernel (a set_priority call that later
// spawns at the same priority do not make). The coroutines run and are joined afterwards, unmeasured.
user::Task<bool> bench_spawn(user::Runtime& runtime, const Settings& settings) {
    Repetitions runs;
    const uint32_t count = settings.spawns < MostCoroutines ? settings.spawns : MostCoroutines - 1;
    for (uint32_t repetition = 0; repetition < settings.repetitions; ++repetition) {
        auto first = user::spawn(runtime, nothing(runtime), user::DefaultPriority + 1);
        if (!first) {
            report_failure("spawn_coroutine", "spawn");
            co_return false;
        }
        handles[count] = static_cast<user::JoinHandle<void>&&>(*first);
        uint32_t spawned = 0;
        const uint64_t start = instructions_retired();
        for (; spawned < count; ++spawned) {
            auto handle = user::spawn(runtime, nothing(runtime), user::DefaultPriority + 1);
            if (!handle) break;
            handles[spawned] = static_cast<user::JoinHandle<void>&&>(*handle);
        }
        const uint64_t end = instructions_retired();
        const bool joined = (co_await join_all(runtime, spawned)).value_or(false);
        (void)co_await handles[count];
        handles[count].detach();
        if (spawned != count || !joined) {
            report_failure("spawn_coroutine", "spawned", static_cast<long>(spawned));
            co_return false;
        }
        runs.add_per_operation(end - start, count);
    }
    print_row("spawn_coroutine", "instructions", runs);
    co_return true;
}

} // namespace

user::Task<bool> bench_coroutines(user::Runtime& runtime, const Settings& settings) {
    // A Result without a value: the coroutine's frame could not be allocated.
    bool ok = (co_await bench_yield_round(runtime, settings, 2)).value_or(false);
    ok = (co_await bench_yield_round(runtime, settings, 1000)).value_or(false) && ok;
    ok = (co_await bench_spawn(runtime, settings)).value_or(false) && ok;
    co_return ok;
}

} // namespace bench
