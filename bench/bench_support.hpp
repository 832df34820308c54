// Shared by the host benchmarks: batch timing and an executor in heap memory.
//
// Each benchmark iteration runs one batch of `batch` operations and reports the batch's time
// (manual timing, so untimed set-up between batches is excluded). bench_main.cpp divides by the
// "batch" counter and subtracts the clock's own cost, so every CSV row is nanoseconds per operation.
#pragma once

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <vector>

#include "vdso/executor.hpp"
#include "vdso/frame_allocator.hpp"
#include "vdso/global_priority.hpp"
#include "vdso/poll_loop.hpp"
#include "vdso/task.hpp"

namespace bench {

using Clock = std::chrono::steady_clock;

template <typename Timed, typename Untimed>
void run_batches(benchmark::State& state, int batch, Timed timed, Untimed untimed) {
    for (auto _ : state) {
        const auto start = Clock::now();
        timed();
        const auto end = Clock::now();
        untimed();
        state.SetIterationTime(std::chrono::duration<double>(end - start).count());
    }
    state.counters["batch"] = batch;
}

struct HeapExecutor {
    explicit HeapExecutor(uint32_t capacity, uint32_t frames = 64, std::size_t frame_size = 256)
        : blocks(capacity), pool(static_cast<std::byte*>(std::aligned_alloc(16, frames * frame_size))) {
        if (!vdso::executor_init(state, blocks.data(), capacity)) std::abort();
        if (!vdso::frame_allocator_init(allocator, pool.get(), frames * frame_size, frame_size)) std::abort();
        state.frames = &allocator;
        vdso::install_task_hooks(state);
    }
    struct FreeDeleter {
        void operator()(std::byte* memory) const { std::free(memory); }
    };
    std::vector<vdso::ControlBlock> blocks;
    std::unique_ptr<std::byte, FreeDeleter> pool;
    vdso::FrameAllocator allocator;
    vdso::ExecutorState state;
};

// A global table of 16 processes: ours is process 0, the others are ready at less urgent levels,
// so the "is a more urgent process ready?" check after each coroutine has real work to do.
struct GlobalTable {
    GlobalTable() : processes(16) {
        (void)vdso::global_priority_init(table, processes.data(), 16);
        for (uint32_t process = 0; process < 16; ++process) {
            (void)vdso::global_priority_add(table, process, 0);
            (void)vdso::global_priority_publish(table, process, process == 0 ? 3 : 5 + process % 3);
        }
    }
    std::vector<vdso::ProcessPriority> processes;
    vdso::GlobalPriorityTable table;
};

} // namespace bench
