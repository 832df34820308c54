// The two baselines, measured the same way as ours: the paper's executor (bench/baseline_paper.hpp)
// and a std::priority_queue executor (bench/baseline_priority_queue.hpp).
#include "bench/bench_support.hpp"

#include <array>

#include "bench/baseline_coroutine.hpp"
#include "bench/baseline_paper.hpp"
#include "bench/baseline_priority_queue.hpp"

using namespace baseline;

namespace {

constexpr int RoundBatch = 1000;
constexpr int Yielders = 16;

std::coroutine_handle<> dummy_handle(uint32_t n) {
    return std::coroutine_handle<>::from_address(reinterpret_cast<void*>(std::uintptr_t{0x1000} + n));
}

// The paper's global array with the same 16 processes as bench::GlobalTable.
void fill_paper_global(PaperGlobalPriorities& global) {
    for (int process = 1; process < PaperProcesses; ++process) {
        global.priority[process] = static_cast<uint8_t>(5 + process % 3);
    }
}

void yield_round_paper(benchmark::State& state) {
    PaperGlobalPriorities global;
    fill_paper_global(global);
    PaperExecutor executor(global, 0);
    std::vector<YieldingCoroutine> coroutines;
    for (int i = 0; i < Yielders; ++i) {
        coroutines.push_back(yield_forever());
        executor.spawn(coroutines.back().handle, 3);
    }
    bench::run_batches(
        state, RoundBatch,
        [&] {
            for (int i = 0; i < RoundBatch; ++i) {
                executor.poll_once_yielding();
                if (executor.yield_hart()) break;
            }
        },
        [] {});
    for (auto& coroutine : coroutines) coroutine.handle.destroy();
}
BENCHMARK(yield_round_paper)->UseManualTime();

void yield_round_priority_queue(benchmark::State& state) {
    PriorityQueueExecutor executor;
    std::vector<YieldingCoroutine> coroutines;
    for (int i = 0; i < Yielders; ++i) {
        coroutines.push_back(yield_forever());
        executor.spawn(coroutines.back().handle, 3);
    }
    bench::run_batches(
        state, RoundBatch,
        [&] {
            for (int i = 0; i < RoundBatch; ++i) executor.poll_once_yielding();
        },
        [] {});
    for (auto& coroutine : coroutines) coroutine.handle.destroy();
}
BENCHMARK(yield_round_priority_queue)->UseManualTime();

void spawn_core_paper(benchmark::State& state) {
    constexpr int Batch = 256;
    PaperGlobalPriorities global;
    PaperExecutor executor(global, 0);
    std::array<uint64_t, Batch> ids;
    bench::run_batches(
        state, Batch,
        [&] {
            for (int i = 0; i < Batch; ++i) ids[i] = executor.spawn(dummy_handle(i), i % PaperLevels);
        },
        [&] {
            while (executor.fetch()) {
            }
            for (uint64_t id : ids) executor.remove(id);
        });
}
BENCHMARK(spawn_core_paper)->UseManualTime();

void spawn_core_priority_queue(benchmark::State& state) {
    constexpr int Batch = 256;
    PriorityQueueExecutor executor;
    PriorityQueueExecutor::Entry entry;
    bench::run_batches(
        state, Batch,
        [&] {
            for (int i = 0; i < Batch; ++i) executor.spawn(dummy_handle(i), i % 64);
        },
        [&] {
            while (executor.fetch(entry)) {
            }
        });
}
BENCHMARK(spawn_core_priority_queue)->UseManualTime();

void wake_paper(benchmark::State& state) {
    constexpr int Batch = 256;
    PaperGlobalPriorities global;
    PaperExecutor executor(global, 0);
    std::array<uint64_t, Batch> ids;
    for (int i = 0; i < Batch; ++i) ids[i] = executor.spawn(dummy_handle(i), i % PaperLevels);
    auto fetch_all = [&] {
        while (executor.fetch()) {
        }
    };
    fetch_all();
    bench::run_batches(
        state, Batch,
        [&] {
            for (uint64_t id : ids) executor.re_back(id);
        },
        fetch_all);
}
BENCHMARK(wake_paper)->UseManualTime();

void fetch_paper(benchmark::State& state) {
    constexpr int Batch = 16;
    PaperGlobalPriorities global;
    PaperExecutor executor(global, 0);
    const auto ready = static_cast<uint32_t>(state.range(0));
    for (uint32_t i = 0; i < ready; ++i) executor.spawn(dummy_handle(i), i % PaperLevels);
    std::array<std::shared_ptr<PaperCoroutine>, Batch> fetched;
    bench::run_batches(
        state, Batch,
        [&] {
            for (auto& slot : fetched) slot = executor.fetch();
        },
        [&] {
            for (auto& coroutine : fetched) executor.re_back(coroutine->id);
            for (auto& coroutine : fetched) coroutine.reset();
        });
}
BENCHMARK(fetch_paper)->Name("fetch_16_paper")->Arg(16)->UseManualTime();
BENCHMARK(fetch_paper)->Name("fetch_1024_paper")->Arg(1024)->UseManualTime();
BENCHMARK(fetch_paper)->Name("fetch_65536_paper")->Arg(65536)->UseManualTime();

void fetch_priority_queue(benchmark::State& state) {
    constexpr int Batch = 16;
    PriorityQueueExecutor executor;
    const auto ready = static_cast<uint32_t>(state.range(0));
    for (uint32_t i = 0; i < ready; ++i) executor.spawn(dummy_handle(i), i % 64);
    std::array<PriorityQueueExecutor::Entry, Batch> fetched;
    bench::run_batches(
        state, Batch,
        [&] {
            for (auto& slot : fetched) executor.fetch(slot);
            benchmark::DoNotOptimize(fetched);
        },
        [&] {
            for (auto& entry : fetched) executor.requeue(entry);
        });
}
BENCHMARK(fetch_priority_queue)->Name("fetch_16_priority_queue")->Arg(16)->UseManualTime();
BENCHMARK(fetch_priority_queue)->Name("fetch_1024_priority_queue")->Arg(1024)->UseManualTime();
BENCHMARK(fetch_priority_queue)->Name("fetch_65536_priority_queue")->Arg(65536)->UseManualTime();

} // namespace
