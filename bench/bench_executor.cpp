// Benchmarks of the shared scheduler (vdso/): spawn, wake, the yield round and fetch at several
// numbers of ready coroutines. Row names are the CSV names.
#include "bench/bench_support.hpp"

#include <array>

using namespace vdso;

namespace {

constexpr int RoundBatch = 1000;
constexpr int Yielders = 16;

Task<> return_at_once(ExecutorState&) { co_return; }

Task<> yield_forever(ExecutorState&) {
    for (;;) co_await yield_now();
}

void* dummy_frame(uint32_t n) { return reinterpret_cast<void*>(std::uintptr_t{0x1000} + n); }

// should_yield_hart for the benchmarks: the kernel's check against the global table, plus a budget
// that ends a batch.
struct RoundBudget {
    const GlobalPriorityTable* table;
    long remaining;
};
bool should_yield_with_budget(void* context) {
    auto& budget = *static_cast<RoundBudget*>(context);
    return --budget.remaining <= 0 || global_priority_should_yield(*budget.table, 0);
}

// spawn: create a Task (frame from the pool) and make it a ready root (control block, bitmap, FIFO).
void spawn(benchmark::State& state) {
    constexpr int Batch = 256;
    bench::HeapExecutor executor(Batch, Batch + 8);
    std::vector<JoinHandle<void>> handles(Batch);
    bench::run_batches(
        state, Batch,
        [&] {
            for (int i = 0; i < Batch; ++i) {
                auto handle = vdso::spawn(executor.state, return_at_once(executor.state), i % PriorityLevels);
                handles[i] = std::move(*handle);
            }
        },
        [&] {
            for (auto& handle : handles) handle.detach();
            run_until_idle(executor.state, nullptr);
        });
}
BENCHMARK(spawn)->UseManualTime();

// spawn_core: the executor's part of spawn alone (no frame).
void spawn_core(benchmark::State& state) {
    constexpr int Batch = 256;
    bench::HeapExecutor executor(Batch);
    std::array<CoroutineId, Batch> ids;
    bench::run_batches(
        state, Batch,
        [&] {
            for (int i = 0; i < Batch; ++i) {
                ids[i] = *executor_spawn(executor.state, dummy_frame(i), nullptr, i % PriorityLevels);
            }
        },
        [&] {
            for (CoroutineId id : ids) executor_cancel(executor.state, id);
        });
}
BENCHMARK(spawn_core)->UseManualTime();

// wake: Pending -> Ready (the paper's re_back) of 256 waiting coroutines.
void wake(benchmark::State& state) {
    constexpr int Batch = 256;
    bench::HeapExecutor executor(Batch);
    std::array<CoroutineId, Batch> ids;
    for (int i = 0; i < Batch; ++i) ids[i] = *executor_spawn(executor.state, dummy_frame(i), nullptr, i % 8);
    auto make_all_pending = [&] {
        while (FetchedCoroutine ran = executor_fetch(executor.state, nullptr)) {
            ran.block->suspend_reason = SuspendReason::Wait;
            executor_finish(executor.state, nullptr, ran);
        }
    };
    make_all_pending();
    bench::run_batches(
        state, Batch,
        [&] {
            for (CoroutineId id : ids) executor_wake(executor.state, id);
        },
        make_all_pending);
}
BENCHMARK(wake)->UseManualTime();

// yield_round: fetch + resume + re-enqueue, 16 coroutines that yield forever, through the poll loop
// (one lock acquisition per round) with the global-table check after each coroutine.
void yield_round(benchmark::State& state) {
    bench::HeapExecutor executor(64);
    bench::GlobalTable global;
    RoundBudget budget{&global.table, 0};
    executor.state.hooks.should_yield_hart = &should_yield_with_budget;
    executor.state.hooks.should_yield_context = &budget;
    std::vector<JoinHandle<void>> handles;
    for (int i = 0; i < Yielders; ++i) handles.push_back(std::move(*vdso::spawn(executor.state, yield_forever(executor.state), 3)));
    bench::run_batches(
        state, RoundBatch,
        [&] {
            budget.remaining = RoundBatch;
            run_until_idle(executor.state, nullptr);
        },
        [] {});
    for (auto& handle : handles) cancel(executor.state, handle.id());
}
BENCHMARK(yield_round)->UseManualTime();

// yield_round_two_locks: the same round with fetch and finish as separate critical sections
// (poll_once), to measure what fusing them saves.
void yield_round_two_locks(benchmark::State& state) {
    bench::HeapExecutor executor(64);
    bench::GlobalTable global;
    RoundBudget budget{&global.table, 1L << 60};
    executor.state.hooks.should_yield_hart = &should_yield_with_budget;
    executor.state.hooks.should_yield_context = &budget;
    std::vector<JoinHandle<void>> handles;
    for (int i = 0; i < Yielders; ++i) handles.push_back(std::move(*vdso::spawn(executor.state, yield_forever(executor.state), 3)));
    bench::run_batches(
        state, RoundBatch,
        [&] {
            for (int i = 0; i < RoundBatch; ++i) poll_once(executor.state, nullptr);
        },
        [] {});
    for (auto& handle : handles) cancel(executor.state, handle.id());
}
BENCHMARK(yield_round_two_locks)->UseManualTime();

// fetch_N: take the most urgent of N ready coroutines spread over all 64 levels. Timed: 16 fetches;
// untimed: put them back at the tails of their levels.
void fetch(benchmark::State& state) {
    constexpr int Batch = 16;
    const auto ready = static_cast<uint32_t>(state.range(0));
    bench::HeapExecutor executor(ready);
    for (uint32_t i = 0; i < ready; ++i) {
        (void)executor_spawn(executor.state, dummy_frame(i), nullptr, i % PriorityLevels);
    }
    std::array<FetchedCoroutine, Batch> fetched;
    bench::run_batches(
        state, Batch,
        [&] {
            for (auto& slot : fetched) slot = executor_fetch(executor.state, nullptr);
            benchmark::DoNotOptimize(fetched);
        },
        [&] {
            for (auto& ran : fetched) {
                ran.block->suspend_reason = SuspendReason::Yield;
                executor_finish(executor.state, nullptr, ran);
            }
        });
}
BENCHMARK(fetch)->Name("fetch_16")->Arg(16)->UseManualTime();
BENCHMARK(fetch)->Name("fetch_1024")->Arg(1024)->UseManualTime();
BENCHMARK(fetch)->Name("fetch_65536")->Arg(65536)->UseManualTime();

// global_pick: the kernel's pick of the next process (16 processes, round-robin).
void global_pick(benchmark::State& state) {
    constexpr int Batch = 256;
    bench::GlobalTable global;
    bench::run_batches(
        state, Batch,
        [&] {
            for (int i = 0; i < Batch; ++i) benchmark::DoNotOptimize(global_priority_pick_highest(global.table));
        },
        [] {});
}
BENCHMARK(global_pick)->UseManualTime();

} // namespace
