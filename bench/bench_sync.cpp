// Measurements behind the executor's synchronisation choice (docs/performance.md): the cost of the
// candidate locks alone, uncontended and contended, and the yield round with two poll threads
// sharing one executor, for ours and the two baselines.
#include "bench/bench_support.hpp"

#include <atomic>
#include <mutex>
#include <thread>

#include "bench/baseline_coroutine.hpp"
#include "bench/baseline_paper.hpp"
#include "bench/baseline_priority_queue.hpp"
#include "abi/spin_lock.hpp"

namespace {

// A FIFO-fair ticket lock, the alternative to test-and-test-and-set.
class TicketLock {
public:
    void lock() {
        const uint32_t ticket = next_.fetch_add(1, std::memory_order_relaxed);
        while (serving_.load(std::memory_order_acquire) != ticket) vdso::cpu_relax();
    }
    void unlock() { serving_.store(serving_.load(std::memory_order_relaxed) + 1, std::memory_order_release); }

private:
    std::atomic<uint32_t> next_{0};
    std::atomic<uint32_t> serving_{0};
};

template <typename Lock>
void lock_uncontended(benchmark::State& state) {
    constexpr int Batch = 1000;
    Lock lock;
    bench::run_batches(
        state, Batch,
        [&] {
            for (int i = 0; i < Batch; ++i) {
                lock.lock();
                benchmark::ClobberMemory();
                lock.unlock();
            }
        },
        [] {});
}
BENCHMARK(lock_uncontended<vdso::SpinLock>)->Name("lock_uncontended_ttas")->UseManualTime();
BENCHMARK(lock_uncontended<TicketLock>)->Name("lock_uncontended_ticket")->UseManualTime();
BENCHMARK(lock_uncontended<std::mutex>)->Name("lock_uncontended_std_mutex")->UseManualTime();

// Two threads taking the lock around a critical section about as long as the executor's.
template <typename Lock>
void lock_contended_2_threads(benchmark::State& state) {
    constexpr int PerThread = 20000;
    Lock lock;
    uint64_t shared_words[8] = {};
    auto worker = [&] {
        for (int i = 0; i < PerThread; ++i) {
            lock.lock();
            for (auto& word : shared_words) ++word;
            lock.unlock();
        }
    };
    bench::run_batches(
        state, 2 * PerThread,
        [&] {
            std::thread other(worker);
            worker();
            other.join();
        },
        [] {});
    benchmark::DoNotOptimize(shared_words);
}
BENCHMARK(lock_contended_2_threads<vdso::SpinLock>)->Name("lock_contended_2_threads_ttas")->UseManualTime();
BENCHMARK(lock_contended_2_threads<TicketLock>)->Name("lock_contended_2_threads_ticket")->UseManualTime();
BENCHMARK(lock_contended_2_threads<std::mutex>)->Name("lock_contended_2_threads_std_mutex")->UseManualTime();

constexpr int RoundsPerThread = 20000;
constexpr int ThreadYielders = 64;

thread_local long rounds_left = 0;
bool thread_budget(void*) { return --rounds_left <= 0; }

vdso::Task<> yield_forever(vdso::ExecutorState&) {
    for (;;) co_await vdso::yield_now();
}

// Ours: two poll threads on one executor; value = wall time / rounds completed by both.
void yield_round_2_threads(benchmark::State& state) {
    bench::HeapExecutor executor(256, 256);
    executor.state.hooks.should_yield_hart = &thread_budget;
    std::vector<vdso::JoinHandle<void>> handles;
    for (int i = 0; i < ThreadYielders; ++i) {
        handles.push_back(std::move(*vdso::spawn(executor.state, yield_forever(executor.state), 3)));
    }
    auto poller = [&] {
        rounds_left = RoundsPerThread;
        vdso::run_until_idle(executor.state, nullptr);
    };
    bench::run_batches(
        state, 2 * RoundsPerThread,
        [&] {
            std::thread other(poller);
            poller();
            other.join();
        },
        [] {});
    for (auto& handle : handles) vdso::cancel(executor.state, handle.id());
}
BENCHMARK(yield_round_2_threads)->UseManualTime();

void yield_round_2_threads_paper(benchmark::State& state) {
    baseline::PaperGlobalPriorities global;
    baseline::PaperExecutor executor(global, 0);
    std::vector<baseline::YieldingCoroutine> coroutines;
    for (int i = 0; i < ThreadYielders; ++i) {
        coroutines.push_back(baseline::yield_forever());
        executor.spawn(coroutines.back().handle, 3);
    }
    auto poller = [&] {
        for (int i = 0; i < RoundsPerThread; ++i) {
            auto coroutine = executor.fetch();
            if (!coroutine) continue;
            coroutine->handle.resume();
            executor.re_back(coroutine->id);
            benchmark::DoNotOptimize(global.higher_than(0));
        }
    };
    bench::run_batches(
        state, 2 * RoundsPerThread,
        [&] {
            std::thread other(poller);
            poller();
            other.join();
        },
        [] {});
    for (auto& coroutine : coroutines) coroutine.handle.destroy();
}
BENCHMARK(yield_round_2_threads_paper)->UseManualTime();

void yield_round_2_threads_priority_queue(benchmark::State& state) {
    baseline::PriorityQueueExecutor executor;
    std::vector<baseline::YieldingCoroutine> coroutines;
    for (int i = 0; i < ThreadYielders; ++i) {
        coroutines.push_back(baseline::yield_forever());
        executor.spawn(coroutines.back().handle, 3);
    }
    auto poller = [&] {
        for (int i = 0; i < RoundsPerThread; ++i) executor.poll_once_yielding();
    };
    bench::run_batches(
        state, 2 * RoundsPerThread,
        [&] {
            std::thread other(poller);
            poller();
            other.join();
        },
        [] {});
    for (auto& coroutine : coroutines) coroutine.handle.destroy();
}
BENCHMARK(yield_round_2_threads_priority_queue)->UseManualTime();

} // namespace
