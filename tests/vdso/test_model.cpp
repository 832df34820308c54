// Randomized model test: long random sequences of executor operations against a simple reference
// model (a map of states plus a std::deque per priority).
#include <catch2/catch.hpp>

#include <deque>
#include <map>
#include <random>

#include "executor_fixture.hpp"

using namespace vdso;

namespace {

struct ModelCoroutine {
    CoroutineState state;
    std::uint32_t priority;
};

struct Model {
    std::map<std::uint64_t, ModelCoroutine> live;
    std::deque<std::uint64_t> ready[kPriorityLevels];

    void remove_ready(std::uint64_t id, std::uint32_t priority) {
        auto& queue = ready[priority];
        for (auto it = queue.begin(); it != queue.end(); ++it) {
            if (*it == id) {
                queue.erase(it);
                return;
            }
        }
        FAIL("model: not in its queue");
    }
    std::uint64_t pick() {
        for (auto& queue : ready) {
            if (!queue.empty()) {
                const std::uint64_t id = queue.front();
                queue.pop_front();
                return id;
            }
        }
        return 0;
    }
};

void run_model(std::uint64_t seed, int steps) {
    const std::uint32_t capacity = 48;
    vdso_test::TestExecutor executor(capacity);
    Model model;
    std::vector<FetchedCoroutine> running;
    std::vector<CoroutineId> issued; // every ID ever issued, to exercise stale ones
    std::mt19937_64 random(seed);
    auto any_priority = [&] { return static_cast<std::uint32_t>(random() % (random() % 2 ? 4 : 64)); };

    for (int step = 0; step < steps; ++step) {
        switch (random() % 7) {
        case 0: { // spawn
            const std::uint32_t priority = any_priority();
            auto id = executor_spawn(executor.state, reinterpret_cast<void*>(0x10), nullptr, priority);
            if (model.live.size() == capacity) {
                REQUIRE_FALSE(id);
                REQUIRE(id.error() == Error::NoMemory);
                break;
            }
            REQUIRE(id);
            REQUIRE(model.live.count(id->value) == 0);
            model.live[id->value] = {CoroutineState::Ready, priority};
            model.ready[priority].push_back(id->value);
            issued.push_back(*id);
            break;
        }
        case 1: { // fetch
            const std::uint64_t expected = model.pick();
            const FetchedCoroutine fetched = executor_fetch(executor.state, nullptr);
            REQUIRE(fetched.id.value == expected);
            if (expected != 0) {
                model.live[expected].state = CoroutineState::Running;
                running.push_back(fetched);
            }
            break;
        }
        case 2:
        case 3: { // a running coroutine suspends
            if (running.empty()) break;
            const std::size_t which = random() % running.size();
            const FetchedCoroutine ran = running[which];
            running.erase(running.begin() + which);
            const auto reason = static_cast<SuspendReason>(random() % 3);
            ran.block->suspend_reason = reason;
            REQUIRE(executor_finish(executor.state, nullptr, ran) == nullptr);
            ModelCoroutine& coroutine = model.live[ran.id.value];
            if (reason == SuspendReason::Exit) {
                model.live.erase(ran.id.value);
            } else if (reason == SuspendReason::Yield) {
                coroutine.state = CoroutineState::Ready;
                model.ready[coroutine.priority].push_back(ran.id.value);
            } else {
                coroutine.state = CoroutineState::Pending;
            }
            break;
        }
        case 4: { // wake any issued ID (live, stale or duplicate)
            if (issued.empty()) break;
            const CoroutineId id = issued[random() % issued.size()];
            const WakeStatus status = executor_wake(executor.state, id);
            auto it = model.live.find(id.value);
            if (it == model.live.end()) {
                REQUIRE(status == WakeStatus::Stale);
            } else if (it->second.state == CoroutineState::Pending) {
                REQUIRE(status == WakeStatus::Woken);
                it->second.state = CoroutineState::Ready;
                model.ready[it->second.priority].push_back(id.value);
            } else {
                REQUIRE(status == WakeStatus::Duplicate);
            }
            break;
        }
        case 5: { // re-prioritise
            if (issued.empty()) break;
            const CoroutineId id = issued[random() % issued.size()];
            const std::uint32_t priority = any_priority();
            auto result = executor_set_priority(executor.state, id, priority);
            auto it = model.live.find(id.value);
            if (it == model.live.end()) {
                REQUIRE_FALSE(result);
                break;
            }
            REQUIRE(result);
            if (it->second.state == CoroutineState::Ready) {
                model.remove_ready(id.value, it->second.priority);
                model.ready[priority].push_back(id.value);
            }
            it->second.priority = priority;
            break;
        }
        case 6: { // cancel (rarely: it empties the executor)
            if (issued.empty() || random() % 4 != 0) break;
            const CoroutineId id = issued[random() % issued.size()];
            const CancelOutcome outcome = executor_cancel(executor.state, id);
            auto it = model.live.find(id.value);
            if (it == model.live.end()) {
                REQUIRE(outcome.status == CancelStatus::Stale);
            } else if (it->second.state == CoroutineState::Running) {
                REQUIRE(outcome.status == CancelStatus::Deferred);
                // The model frees it when it next suspends with anything but Exit... keep it simple:
                // finish it at once as the poll loop would.
                for (std::size_t i = 0; i < running.size(); ++i) {
                    if (running[i].id == id) {
                        running[i].block->suspend_reason = SuspendReason::Yield;
                        executor_finish(executor.state, nullptr, running[i]);
                        running.erase(running.begin() + i);
                        break;
                    }
                }
                model.live.erase(it);
            } else {
                REQUIRE(outcome.status == CancelStatus::Cancelled);
                if (it->second.state == CoroutineState::Ready) model.remove_ready(id.value, it->second.priority);
                model.live.erase(it);
            }
            break;
        }
        }
        REQUIRE(executor.invariants());
        REQUIRE(executor.state.live_count == model.live.size());
        std::uint32_t expected_highest = kNoPriority;
        for (std::uint32_t level = 0; level < kPriorityLevels; ++level) {
            if (!model.ready[level].empty()) {
                expected_highest = level;
                break;
            }
        }
        REQUIRE(executor_highest_ready(executor.state) == expected_highest);
        for (auto& [value, coroutine] : model.live) {
            auto state = executor_state_of(executor.state, CoroutineId{value});
            REQUIRE(state);
            REQUIRE(*state == coroutine.state);
        }
    }
}

} // namespace

TEST_CASE("executor model: random operation sequences match the reference model", "[vdso][model]") {
    for (std::uint64_t seed = 1; seed <= 12; ++seed) {
        INFO("seed " << seed);
        run_model(seed, 4000);
    }
}
