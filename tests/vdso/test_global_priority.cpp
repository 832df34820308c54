#include <catch2/catch.hpp>

#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <vector>

#include "executor_fixture.hpp"
#include "vdso/global_priority.hpp"

using namespace vdso;

namespace {

struct TestTable {
    explicit TestTable(uint32_t capacity = 16) : processes(capacity) {
        REQUIRE(global_priority_init(table, processes.data(), capacity));
    }
    uint32_t pick() {
        auto process = global_priority_pick_highest(table);
        REQUIRE(process);
        return *process;
    }
    std::vector<ProcessPriority> processes;
    GlobalPriorityTable table;
};

} // namespace

TEST_CASE("global priority: pick the highest, then round-robin among equals", "[vdso][global]") {
    TestTable t;
    for (uint32_t process : {1u, 2u, 3u, 4u}) REQUIRE(global_priority_add(t.table, process, 0));
    CHECK(global_priority_pick_highest(t.table).error() == Error::NotFound);
    REQUIRE(global_priority_publish(t.table, 1, 5));
    REQUIRE(global_priority_publish(t.table, 2, 3));
    REQUIRE(global_priority_publish(t.table, 3, 3));
    REQUIRE(global_priority_publish(t.table, 4, 3));
    CHECK(global_priority_highest(t.table) == 3);
    CHECK(global_priority_check_invariants(t.table));
    std::vector<uint32_t> picks;
    for (int i = 0; i < 6; ++i) picks.push_back(t.pick());
    CHECK(picks == std::vector<uint32_t>{2, 3, 4, 2, 3, 4});
    // Process 3 goes idle: the others keep their turns.
    REQUIRE(global_priority_publish(t.table, 3, NoPriority));
    CHECK(t.pick() == 2);
    CHECK(t.pick() == 4);
    REQUIRE(global_priority_publish(t.table, 2, NoPriority));
    REQUIRE(global_priority_publish(t.table, 4, 6));
    CHECK(t.pick() == 1);
    CHECK(t.pick() == 1);
    CHECK(global_priority_check_invariants(t.table));
}

TEST_CASE("global priority: a published priority is clamped to the process's cap", "[vdso][global]") {
    TestTable t;
    REQUIRE(global_priority_add(t.table, 7, 10));
    REQUIRE(global_priority_add(t.table, 8, 0));
    REQUIRE(global_priority_publish(t.table, 7, 0));
    CHECK(global_priority_of(t.table, 7) == 10);
    REQUIRE(global_priority_publish(t.table, 8, 11));
    CHECK(t.pick() == 7);
    CHECK(global_priority_should_yield(t.table, 8));
    CHECK_FALSE(global_priority_should_yield(t.table, 7));
    // Lowering the cap re-clamps; raising it lets the request through.
    REQUIRE(global_priority_set_cap(t.table, 7, 20));
    CHECK(global_priority_of(t.table, 7) == 20);
    CHECK(t.pick() == 8);
    REQUIRE(global_priority_set_cap(t.table, 7, 0));
    CHECK(global_priority_of(t.table, 7) == 0);
    CHECK(global_priority_check_invariants(t.table));
}

TEST_CASE("global priority: remove, bad arguments and unknown processes", "[vdso][global]") {
    TestTable t(4);
    CHECK(global_priority_add(t.table, 4, 0).error() == Error::InvalidArgument);
    CHECK(global_priority_add(t.table, 0, PriorityLevels).error() == Error::InvalidArgument);
    REQUIRE(global_priority_add(t.table, 0, 0));
    CHECK(global_priority_add(t.table, 0, 0).error() == Error::AlreadyExists);
    CHECK(global_priority_publish(t.table, 1, 3).error() == Error::NotFound);
    CHECK(global_priority_publish(t.table, 0, NoPriority + 1).error() == Error::InvalidArgument);
    REQUIRE(global_priority_publish(t.table, 0, 3));
    REQUIRE(global_priority_remove(t.table, 0));
    CHECK(global_priority_highest(t.table) == NoPriority);
    CHECK(global_priority_of(t.table, 0) == NoPriority);
    CHECK(global_priority_of(t.table, 99) == NoPriority);
    CHECK(global_priority_remove(t.table, 0).error() == Error::NotFound);
    CHECK(global_priority_check_invariants(t.table));
}

TEST_CASE("global priority: random operations keep the invariants and pick like a model",
          "[vdso][global]") {
    const uint32_t capacity = 32;
    TestTable t(capacity);
    std::mt19937_64 random(7);
    std::map<uint32_t, std::pair<uint32_t, uint32_t>> model; // process -> (requested, cap)
    for (int step = 0; step < 20000; ++step) {
        const uint32_t process = random() % capacity;
        const uint32_t value = random() % 2 ? random() % 8 : random() % (NoPriority + 1);
        switch (random() % 5) {
        case 0:
            if (model.count(process) == 0 && value < PriorityLevels) {
                REQUIRE(global_priority_add(t.table, process, value));
                model[process] = {NoPriority, value};
            }
            break;
        case 1:
        case 2:
            if (model.count(process) != 0) {
                REQUIRE(global_priority_publish(t.table, process, value));
                model[process].first = value;
            }
            break;
        case 3:
            if (model.count(process) != 0 && value < PriorityLevels) {
                REQUIRE(global_priority_set_cap(t.table, process, value));
                model[process].second = value;
            }
            break;
        case 4:
            if (model.count(process) != 0 && random() % 4 == 0) {
                REQUIRE(global_priority_remove(t.table, process));
                model.erase(process);
            }
            break;
        }
        REQUIRE(global_priority_check_invariants(t.table));
        uint32_t expected = NoPriority;
        for (auto& [p, entry] : model) {
            const uint32_t effective =
                entry.first == NoPriority ? NoPriority : std::max(entry.first, entry.second);
            REQUIRE(global_priority_of(t.table, p) == effective);
            expected = std::min(expected, effective);
        }
        for (auto& [p, entry] : model) { // should_yield: someone strictly more urgent, both forms
            const bool more_urgent = expected < global_priority_of(t.table, p);
            REQUIRE(global_priority_should_yield(t.table, p) == more_urgent);
            REQUIRE(global_priority_should_yield(t.table, global_priority_entries(t.table)[p]) == more_urgent);
        }
        REQUIRE(global_priority_highest(t.table) == expected);
        if (expected != NoPriority) REQUIRE(global_priority_of(t.table, t.pick()) == expected);
    }
}

namespace {

Task<> yield_times(ExecutorState&, int times, int& ran) {
    for (int i = 0; i < times; ++i) {
        ++ran;
        co_await yield_now();
    }
}

} // namespace

TEST_CASE("global priority: an executor publishes its highest ready priority and yields the hart "
          "to a more urgent process (paper 3.3.2)", "[vdso][global][poll]") {
    TestTable t;
    REQUIRE(global_priority_add(t.table, 1, 0)); // this process
    REQUIRE(global_priority_add(t.table, 2, 0)); // another process
    vdso_test::TestExecutor executor;
    GlobalPriorityBinding binding{&t.table, 1};
    executor.state.hooks.highest_priority_changed = &global_priority_publish_hook;
    executor.state.hooks.highest_priority_context = &binding;
    executor.state.hooks.should_yield_hart = &global_priority_should_yield_hook;
    executor.state.hooks.should_yield_context = &binding;

    int ran = 0;
    auto handle = spawn(executor.state, yield_times(executor.state, 4, ran), 6);
    REQUIRE(handle);
    CHECK(global_priority_of(t.table, 1) == 6); // spawn published it
    CHECK(t.pick() == 1);
    // Another process becomes more urgent: after the current coroutine the poll loop gives up the hart.
    REQUIRE(global_priority_publish(t.table, 2, 2));
    CHECK(run_until_idle(executor.state, nullptr) == PollOutcome::YieldHart);
    CHECK(ran == 1);
    // It goes idle: ours runs to the end, then reports that nothing is ready.
    REQUIRE(global_priority_publish(t.table, 2, NoPriority));
    executor.state.hooks.idle = [](void*) { return false; };
    CHECK(run_poll_loop(executor.state, nullptr) == PollOutcome::Stopped);
    CHECK(ran == 4);
    CHECK(global_priority_of(t.table, 1) == NoPriority);
    CHECK(global_priority_check_invariants(t.table));
}

TEST_CASE("global priority: readers work on a copy mapped at another address", "[vdso][global]") {
    // The kernel maps the table and its entries read-only into every process, at another virtual
    // address than its own: nothing in the block may be an absolute pointer.
    struct Block {
        GlobalPriorityTable table;
        ProcessPriority entries[8];
    };
    auto original = std::make_unique<Block>();
    REQUIRE(global_priority_init(original->table, original->entries, 8));
    REQUIRE(global_priority_add(original->table, 2, 0));
    REQUIRE(global_priority_add(original->table, 5, 0));
    REQUIRE(global_priority_publish(original->table, 2, 9));
    REQUIRE(global_priority_publish(original->table, 5, 4));

    std::vector<unsigned char> mapped(sizeof(Block) + 64);
    std::memcpy(mapped.data() + 64, original.get(), sizeof(Block));
    const auto& view = *reinterpret_cast<const GlobalPriorityTable*>(mapped.data() + 64);
    std::memset(static_cast<void*>(original.get()), 0xff, sizeof(Block));  // a reader following a pointer
    original.reset();                                                      // into it would see garbage
    CHECK(global_priority_highest(view) == 4);
    CHECK(global_priority_of(view, 2) == 9);
    CHECK(global_priority_of(view, 5) == 4);
    CHECK(global_priority_should_yield(view, 2));
    CHECK_FALSE(global_priority_should_yield(view, 5));
    CHECK(global_priority_should_yield(view, global_priority_entries(view)[2]));
    CHECK_FALSE(global_priority_should_yield(view, global_priority_entries(view)[5]));
    CHECK(global_priority_should_yield(view, 7)); // not in the table (NoPriority): anyone ready is more urgent
}
