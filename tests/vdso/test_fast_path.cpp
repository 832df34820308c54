// The yield fast path (vdso/executor_fast_path.hpp) is equivalent to the general path it shortcuts:
// two executors are driven in lockstep through the same random spawns, yields, waits and wakes;
// `fast` hands each yield back through executor_finish_and_fetch (which takes the fast path
// whenever it applies), `general` through executor_finish then executor_fetch (which never does).
// After every step both must have picked the same coroutine (by spawn order), made the same
// highest-priority reports and hold the same ready queues and counts.
#include <catch2/catch.hpp>

#include <random>
#include <vector>

#include "executor_fixture.hpp"

using namespace vdso;
using vdso_test::TestExecutor;

namespace {

void* resume_address(uint32_t n) { return reinterpret_cast<void*>(uintptr_t{0x1000} + n); }

// The ready queues as spawn numbers (the resume addresses), level by level.
std::vector<std::vector<uintptr_t>> queues(const ExecutorState& state) {
    std::vector<std::vector<uintptr_t>> levels(PriorityLevels);
    for (uint32_t level = 0; level < PriorityLevels; ++level) {
        for (uint32_t index = state.ready[level].head; index != NoIndex; index = state.blocks[index].next)
            levels[level].push_back(reinterpret_cast<uintptr_t>(state.blocks[index].resume_address));
    }
    return levels;
}

uintptr_t name_of(const FetchedCoroutine& coroutine) {
    return coroutine.block ? reinterpret_cast<uintptr_t>(coroutine.block->resume_address) : 0;
}

struct Pair {
    TestExecutor fast{48};
    TestExecutor general{48};
    FetchedCoroutine fast_running{}, general_running{};
    std::vector<CoroutineId> fast_waiting, general_waiting;  // same order in both
    uint32_t spawned = 0;

    void check() {
        REQUIRE(name_of(fast_running) == name_of(general_running));
        REQUIRE(fast.reports == general.reports);
        REQUIRE(fast.state.ready_count == general.state.ready_count);
        REQUIRE(queues(fast.state) == queues(general.state));
        REQUIRE(fast.invariants());
        REQUIRE(general.invariants());
    }
};

} // namespace

TEST_CASE("yield fast path: finish_and_fetch ends exactly as finish then fetch", "[vdso][executor][fast-path]") {
    for (uint64_t seed = 1; seed <= 40; ++seed) {
        Pair pair;
        std::mt19937_64 random(seed);
        // Few levels most of the time, so that yields among equals (the fast path's case) are common.
        const uint32_t levels = seed % 4 == 0 ? PriorityLevels : 1 + seed % 3;
        for (int step = 0; step < 3000; ++step) {
            const auto action = random() % 10;
            if (action < 3 && pair.spawned < 40 && pair.fast.state.ready_count + pair.fast_waiting.size() < 40) {
                const uint32_t priority = static_cast<uint32_t>(random() % levels);
                ++pair.spawned;
                auto a = executor_spawn(pair.fast.state, resume_address(pair.spawned), nullptr, priority);
                auto b = executor_spawn(pair.general.state, resume_address(pair.spawned), nullptr, priority);
                REQUIRE(a);
                REQUIRE(b);
            } else if (!pair.fast_running.block) {
                pair.fast_running = executor_fetch(pair.fast.state, nullptr);
                pair.general_running = executor_fetch(pair.general.state, nullptr);
            } else if (action < 8) {  // yield
                pair.fast_running.block->suspend_reason = SuspendReason::Yield;
                pair.general_running.block->suspend_reason = SuspendReason::Yield;
                void* cancelled = nullptr;
                pair.fast_running = executor_finish_and_fetch(pair.fast.state, nullptr, pair.fast_running, &cancelled);
                REQUIRE(cancelled == nullptr);
                REQUIRE(executor_finish(pair.general.state, nullptr, pair.general_running) == nullptr);
                pair.general_running = executor_fetch(pair.general.state, nullptr);
            } else if (action == 8) {  // wait (to be woken later)
                pair.fast_waiting.push_back(pair.fast_running.id);
                pair.general_waiting.push_back(pair.general_running.id);
                pair.fast_running.block->suspend_reason = SuspendReason::Wait;
                pair.general_running.block->suspend_reason = SuspendReason::Wait;
                (void)executor_finish(pair.fast.state, nullptr, pair.fast_running);
                (void)executor_finish(pair.general.state, nullptr, pair.general_running);
                pair.fast_running = pair.general_running = FetchedCoroutine{};
            } else if (!pair.fast_waiting.empty()) {  // wake the oldest waiter
                REQUIRE(executor_wake(pair.fast.state, pair.fast_waiting.front()) == WakeStatus::Woken);
                REQUIRE(executor_wake(pair.general.state, pair.general_waiting.front()) == WakeStatus::Woken);
                pair.fast_waiting.erase(pair.fast_waiting.begin());
                pair.general_waiting.erase(pair.general_waiting.begin());
            }
            pair.check();
        }
    }
}
