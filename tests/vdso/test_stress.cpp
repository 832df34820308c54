// Multi-threaded stress: several std::thread poll loops share one executor while coroutines yield,
// spawn and join children, and wait on a queue that another thread notifies. Built twice: in
// vdso_tests and, with ThreadSanitizer, in vdso_stress_tsan.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "executor_fixture.hpp"
#include "vdso/event.hpp"

using namespace vdso;

namespace {

struct Shared {
    std::atomic<long> yields{0};
    std::atomic<long> wakes{0};
    std::atomic<long> child_sum{0};
    std::atomic<bool> stop{false};
};

Task<int> child(ExecutorState&, int value, Shared& shared) {
    co_await yield_now();
    shared.yields.fetch_add(1, std::memory_order_relaxed);
    co_return value;
}

Task<> yielder(ExecutorState& executor, int rounds, Shared& shared) {
    for (int i = 0; i < rounds; ++i) {
        co_await yield_now();
        shared.yields.fetch_add(1, std::memory_order_relaxed);
        if (i % 50 == 25) { // a few rounds bound to whichever poll thread runs it
            co_await bind_to_current_thread();
            co_await yield_now();
            co_await unbind_from_thread();
        }
        if (i % 8 == 0) { // change priority now and then
            const CoroutineId self = co_await current_coroutine();
            (void)executor_set_priority(executor, self, static_cast<uint32_t>(i % 5));
        }
    }
}

Task<int> parent(ExecutorState& executor, int children, Shared& shared) {
    int sum = 0;
    for (int i = 0; i < children; ++i) {
        auto handle = spawn(executor, child(executor, i, shared), static_cast<uint32_t>(i % 3));
        if (!handle) continue; // out of frames for a moment: fine under stress
        auto value = co_await *handle;
        if (value) sum += *value;
    }
    shared.child_sum.fetch_add(sum, std::memory_order_relaxed);
    co_return sum;
}

Task<> waiter(ExecutorState&, WaitQueue& queue, int rounds, Shared& shared) {
    for (int i = 0; i < rounds; ++i) {
        co_await queue.wait();
        shared.wakes.fetch_add(1, std::memory_order_relaxed);
    }
}

void run_stress(int poll_threads) {
    vdso_test::TestExecutor executor(1024, 1024);
    Shared shared;
    WaitQueue queue;
    executor.state.hooks.idle = [](void* context) {
        std::this_thread::yield();
        return !static_cast<Shared*>(context)->stop.load();
    };
    executor.state.hooks.idle_context = &shared;

    constexpr int Yielders = 32, YieldRounds = 200;
    constexpr int Parents = 8, Children = 20;
    constexpr int Waiters = 16, WaitRounds = 30;

    std::vector<std::thread> pollers;
    std::vector<PollThread> poll_threads_state(static_cast<std::size_t>(poll_threads));
    for (int t = 0; t < poll_threads; ++t) {
        pollers.emplace_back([&, t] {
            while (run_poll_loop(executor.state, &poll_threads_state[t]) == PollOutcome::YieldHart) {
            }
        });
    }

    std::vector<JoinHandle<void>> voids;
    std::vector<JoinHandle<int>> parents;
    // Spawned from this thread while the pollers already run.
    for (int i = 0; i < Waiters; ++i) {
        auto handle = spawn(executor.state, waiter(executor.state, queue, WaitRounds, shared), 2);
        REQUIRE(handle);
        voids.push_back(std::move(*handle));
    }
    for (int i = 0; i < Yielders; ++i) {
        auto handle = spawn(executor.state, yielder(executor.state, YieldRounds, shared), i % 4);
        REQUIRE(handle);
        voids.push_back(std::move(*handle));
    }
    for (int i = 0; i < Parents; ++i) {
        auto handle = spawn(executor.state, parent(executor.state, Children, shared), 1);
        REQUIRE(handle);
        parents.push_back(std::move(*handle));
    }
    // Cross-thread wakes: notify until every wait has been satisfied.
    std::thread notifier([&] {
        while (shared.wakes.load() < Waiters * WaitRounds) {
            queue.notify_one();
            std::this_thread::yield();
        }
    });

    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    auto all_done = [&] {
        for (auto& handle : voids) if (!handle.done()) return false;
        for (auto& handle : parents) if (!handle.done()) return false;
        return true;
    };
    while (!all_done() && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    shared.stop.store(true);
    notifier.join();
    for (auto& poller : pollers) poller.join();

    REQUIRE(all_done());
    CHECK(shared.wakes.load() == Waiters * WaitRounds);
    CHECK(shared.yields.load() >= long{Yielders} * YieldRounds);
    long expected_sum = 0;
    for (auto& handle : parents) {
        auto sum = handle.take_result();
        REQUIRE(sum);
        expected_sum += *sum;
    }
    CHECK(shared.child_sum.load() == expected_sum);
    voids.clear();
    parents.clear();
    CHECK(executor.state.live_count == 0);
    CHECK(executor.all_frames_free());
    CHECK(executor.invariants());
}

// Another thread cancels coroutines while two poll threads run, wake and resume them.
void run_cancel_storm() {
    vdso_test::TestExecutor executor(512, 512);
    Shared shared;
    WaitQueue queue;
    executor.state.hooks.idle = [](void* context) {
        std::this_thread::yield();
        return !static_cast<Shared*>(context)->stop.load();
    };
    executor.state.hooks.idle_context = &shared;
    std::vector<PollThread> thread_state(2);
    std::vector<std::thread> pollers;
    for (int t = 0; t < 2; ++t) {
        pollers.emplace_back([&, t] {
            while (run_poll_loop(executor.state, &thread_state[t]) == PollOutcome::YieldHart) {
            }
        });
    }
    constexpr int Rounds = 20, PerRound = 64;
    for (int round = 0; round < Rounds; ++round) {
        std::vector<JoinHandle<void>> handles;
        for (int i = 0; i < PerRound; ++i) {
            auto task = i % 2 ? yielder(executor.state, 1 << 20, shared) : waiter(executor.state, queue, 1 << 20, shared);
            auto handle = spawn(executor.state, std::move(task), static_cast<uint32_t>(i % 4));
            REQUIRE(handle);
            handles.push_back(std::move(*handle));
        }
        queue.notify_all();
        std::this_thread::yield();
        for (auto& handle : handles) {
            const CancelStatus status = cancel(executor.state, handle.id());
            CHECK(status != CancelStatus::Stale); // they never finish by themselves
            queue.notify_one();
        }
        // Deferred cancellations complete when their coroutines next suspend.
        for (auto& handle : handles) {
            const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
            while (!handle.cancelled() && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
            REQUIRE(handle.cancelled());
        }
    }
    shared.stop.store(true);
    for (auto& poller : pollers) poller.join();
    CHECK(executor.state.live_count == 0);
    CHECK_FALSE(queue.has_waiters());
    CHECK(executor.all_frames_free());
    CHECK(executor.invariants());
}

} // namespace

TEST_CASE("stress: cancellations race wakes and resumes on two poll threads", "[vdso][stress]") {
    run_cancel_storm();
}

TEST_CASE("stress: two poll threads share one executor", "[vdso][stress]") { run_stress(2); }

TEST_CASE("stress: four poll threads share one executor", "[vdso][stress]") { run_stress(4); }
