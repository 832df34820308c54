// The executor core: every operation and state transition of paper §3.3.1, driven directly
// (no coroutine is resumed; resume addresses are dummies).
#include <catch2/catch.hpp>

#include "executor_fixture.hpp"

using namespace vdso;
using vdso_test::TestExecutor;

namespace {

void* dummy(std::uintptr_t n) { return reinterpret_cast<void*>(0x1000 + n); }

CoroutineId spawn_at(TestExecutor& executor, uint32_t priority, std::uintptr_t tag = 0) {
    auto id = executor_spawn(executor.state, dummy(tag), nullptr, priority);
    REQUIRE(id);
    REQUIRE(executor.invariants());
    return *id;
}

// The fetched coroutine "suspends" for `reason` and the poll loop hands it back.
void* finish(TestExecutor& executor, const FetchedCoroutine& ran, SuspendReason reason,
             PollThread* thread = nullptr) {
    ran.block->suspend_reason = reason;
    void* owner = executor_finish(executor.state, thread, ran);
    REQUIRE(executor.invariants());
    return owner;
}

CoroutineState state_of(TestExecutor& executor, CoroutineId id) {
    auto state = executor_state_of(executor.state, id);
    REQUIRE(state);
    return *state;
}

} // namespace

TEST_CASE("executor: spawn makes a Ready coroutine with a fresh ID", "[vdso][executor]") {
    TestExecutor executor;
    const CoroutineId id = spawn_at(executor, 5);
    CHECK_FALSE(id.is_null());
    CHECK(state_of(executor, id) == CoroutineState::Ready);
    CHECK(*executor_priority_of(executor.state, id) == 5);
    CHECK(executor_highest_ready(executor.state) == 5);
    CHECK(executor.state.ready_levels.test(5));
}

TEST_CASE("executor: spawn rejects a bad priority and a full table", "[vdso][executor]") {
    TestExecutor executor(4);
    auto bad = executor_spawn(executor.state, dummy(0), nullptr, PriorityLevels);
    REQUIRE_FALSE(bad);
    CHECK(bad.error() == Error::InvalidArgument);
    for (int i = 0; i < 4; ++i) spawn_at(executor, 1);
    auto full = executor_spawn(executor.state, dummy(0), nullptr, 1);
    REQUIRE_FALSE(full);
    CHECK(full.error() == Error::NoMemory);
    CHECK(executor.invariants());
}

TEST_CASE("executor: fetch is strict priority across levels and FIFO within one", "[vdso][executor]") {
    TestExecutor executor;
    const CoroutineId low_a = spawn_at(executor, 40, 1);
    const CoroutineId high_a = spawn_at(executor, 0, 2);
    const CoroutineId low_b = spawn_at(executor, 40, 3);
    const CoroutineId mid = spawn_at(executor, 7, 4);
    const CoroutineId high_b = spawn_at(executor, 0, 5);
    const CoroutineId last = spawn_at(executor, 63, 6);
    for (CoroutineId expected : {high_a, high_b, mid, low_a, low_b, last}) {
        const FetchedCoroutine fetched = executor_fetch(executor.state, nullptr);
        REQUIRE(fetched);
        CHECK(fetched.id == expected);
        CHECK(state_of(executor, expected) == CoroutineState::Running);
        REQUIRE(executor.invariants());
    }
    CHECK_FALSE(executor_fetch(executor.state, nullptr));
    CHECK(executor_highest_ready(executor.state) == NoPriority);
}

TEST_CASE("executor: Running -> yield -> Ready at the tail of its level", "[vdso][executor]") {
    TestExecutor executor;
    const CoroutineId first = spawn_at(executor, 3);
    const CoroutineId second = spawn_at(executor, 3);
    const FetchedCoroutine ran = executor_fetch(executor.state, nullptr);
    REQUIRE(ran.id == first);
    CHECK(finish(executor, ran, SuspendReason::Yield) == nullptr);
    CHECK(state_of(executor, first) == CoroutineState::Ready);
    CHECK(executor_fetch(executor.state, nullptr).id == second);
    CHECK(executor_fetch(executor.state, nullptr).id == first);
}

TEST_CASE("executor: Running -> wait -> Pending -> wake -> Ready", "[vdso][executor]") {
    TestExecutor executor;
    const CoroutineId id = spawn_at(executor, 2);
    const FetchedCoroutine ran = executor_fetch(executor.state, nullptr);
    finish(executor, ran, SuspendReason::Wait);
    CHECK(state_of(executor, id) == CoroutineState::Pending);
    CHECK_FALSE(executor.state.ready_levels.test(2));
    CHECK(executor_wake(executor.state, id) == WakeStatus::Woken);
    CHECK(state_of(executor, id) == CoroutineState::Ready);
    CHECK(executor.invariants());
    CHECK(executor_fetch(executor.state, nullptr).id == id);
}

TEST_CASE("executor: Running -> exit -> Exited, the slot is reused with a new generation",
          "[vdso][executor]") {
    TestExecutor executor(1);
    const CoroutineId id = spawn_at(executor, 2);
    finish(executor, executor_fetch(executor.state, nullptr), SuspendReason::Exit);
    CHECK(state_of(executor, id) == CoroutineState::Exited);
    CHECK(executor.state.live_count == 0);
    const CoroutineId reused = spawn_at(executor, 2);
    CHECK(reused.index() == id.index());
    CHECK(reused.generation() != id.generation());
    CHECK(state_of(executor, id) == CoroutineState::Exited);
    CHECK(state_of(executor, reused) == CoroutineState::Ready);
}

TEST_CASE("executor: stale, unknown and duplicate wake-ups are harmless no-ops", "[vdso][executor]") {
    TestExecutor executor(2);
    const CoroutineId id = spawn_at(executor, 2);
    CHECK(executor_wake(executor.state, id) == WakeStatus::Duplicate); // Ready
    const FetchedCoroutine ran = executor_fetch(executor.state, nullptr);
    CHECK(executor_wake(executor.state, id) == WakeStatus::Duplicate); // Running, not arming
    finish(executor, ran, SuspendReason::Wait);
    CHECK(state_of(executor, id) == CoroutineState::Pending); // the early wake was not remembered
    CHECK(executor_wake(executor.state, id) == WakeStatus::Woken);
    CHECK(executor_wake(executor.state, id) == WakeStatus::Duplicate);
    finish(executor, executor_fetch(executor.state, nullptr), SuspendReason::Exit);
    CHECK(executor_wake(executor.state, id) == WakeStatus::Stale);
    // The slot is reused: the old ID must not wake the new occupant.
    const CoroutineId reused = spawn_at(executor, 2);
    finish(executor, executor_fetch(executor.state, nullptr), SuspendReason::Wait);
    CHECK(executor_wake(executor.state, id) == WakeStatus::Stale);
    CHECK(state_of(executor, reused) == CoroutineState::Pending);
    // IDs never issued.
    CHECK(executor_wake(executor.state, CoroutineId{}) == WakeStatus::Stale);
    CHECK(executor_wake(executor.state, CoroutineId::make(7, 1)) == WakeStatus::Stale);
    CHECK(executor_wake(executor.state, CoroutineId::make(0, 99)) == WakeStatus::Stale);
    CHECK_FALSE(executor_state_of(executor.state, CoroutineId::make(7, 1)));
    CHECK(executor.invariants());
}

TEST_CASE("executor: a wake while the waiter is being armed is remembered", "[vdso][executor]") {
    TestExecutor executor;
    const CoroutineId id = spawn_at(executor, 2);
    const FetchedCoroutine ran = executor_fetch(executor.state, nullptr);
    ran.block->arming.store(true);
    CHECK(executor_wake(executor.state, id) == WakeStatus::Woken);
    CHECK(executor_wake(executor.state, id) == WakeStatus::Duplicate);
    finish(executor, ran, SuspendReason::Wait);
    CHECK(state_of(executor, id) == CoroutineState::Ready);
    CHECK_FALSE(ran.block->arming.load());
}

TEST_CASE("executor: re-prioritise moves a Ready coroutine and keeps the others' order",
          "[vdso][executor]") {
    TestExecutor executor;
    const CoroutineId a = spawn_at(executor, 10);
    const CoroutineId b = spawn_at(executor, 10);
    const CoroutineId c = spawn_at(executor, 20);
    REQUIRE(executor_set_priority(executor.state, b, 1));
    CHECK(executor.invariants());
    REQUIRE(executor_set_priority(executor.state, a, 20));
    CHECK(executor.invariants());
    CHECK_FALSE(executor.state.ready_levels.test(10));
    CHECK(executor_fetch(executor.state, nullptr).id == b);
    CHECK(executor_fetch(executor.state, nullptr).id == c);
    const FetchedCoroutine ran_a = executor_fetch(executor.state, nullptr);
    CHECK(ran_a.id == a);
    // Running and Pending coroutines keep the new priority for their next enqueue.
    REQUIRE(executor_set_priority(executor.state, a, 4));
    finish(executor, ran_a, SuspendReason::Wait);
    REQUIRE(executor_set_priority(executor.state, a, 5));
    executor_wake(executor.state, a);
    CHECK(executor_highest_ready(executor.state) == 5);
    CHECK(executor_set_priority(executor.state, a, PriorityLevels).error() == Error::InvalidArgument);
    CHECK(executor_set_priority(executor.state, CoroutineId::make(a.index(), a.generation() + 1), 1).error() ==
          Error::NotFound);
}

TEST_CASE("executor: cancel Ready, Pending, Running and stale coroutines", "[vdso][executor]") {
    TestExecutor executor;
    int owner_ready = 0, owner_pending = 0, owner_running = 0;
    auto ready = executor_spawn(executor.state, dummy(1), &owner_ready, 3);
    auto pending = executor_spawn(executor.state, dummy(2), &owner_pending, 3);
    auto running = executor_spawn(executor.state, dummy(3), &owner_running, 3);
    REQUIRE(ready);
    REQUIRE(pending);
    REQUIRE(running);
    // Make `pending` Pending (the first fetched is `ready`: put it back).
    FetchedCoroutine first = executor_fetch(executor.state, nullptr);
    finish(executor, first, SuspendReason::Yield);
    FetchedCoroutine second = executor_fetch(executor.state, nullptr);
    REQUIRE(second.id == *pending);
    finish(executor, second, SuspendReason::Wait);
    FetchedCoroutine third = executor_fetch(executor.state, nullptr);
    REQUIRE(third.id == *running);

    CancelOutcome outcome = executor_cancel(executor.state, *ready);
    CHECK(outcome.status == CancelStatus::Cancelled);
    CHECK(outcome.owner == &owner_ready);
    CHECK(executor.invariants());
    outcome = executor_cancel(executor.state, *pending);
    CHECK(outcome.status == CancelStatus::Cancelled);
    CHECK(outcome.owner == &owner_pending);
    outcome = executor_cancel(executor.state, *running);
    CHECK(outcome.status == CancelStatus::Deferred);
    CHECK(state_of(executor, *running) == CoroutineState::Running);
    // When it suspends, the poll loop gets its owner to release.
    CHECK(finish(executor, third, SuspendReason::Yield) == &owner_running);
    for (CoroutineId id : {*ready, *pending, *running}) {
        CHECK(state_of(executor, id) == CoroutineState::Exited);
        CHECK(executor_cancel(executor.state, id).status == CancelStatus::Stale);
        CHECK(executor_wake(executor.state, id) == WakeStatus::Stale);
    }
    CHECK(executor.state.live_count == 0);
    CHECK(executor.state.ready_levels.empty());
    CHECK(executor.invariants());
}

TEST_CASE("executor: highest priority is reported on spawn, wake and yield, not on fetch",
          "[vdso][executor]") {
    TestExecutor executor;
    const CoroutineId low = spawn_at(executor, 9);
    CHECK(executor.reports == std::vector<uint32_t>{9});
    spawn_at(executor, 12); // no change
    CHECK(executor.reports.size() == 1);
    const CoroutineId high = spawn_at(executor, 2);
    CHECK(executor.reports == std::vector<uint32_t>{9, 2});
    const FetchedCoroutine ran = executor_fetch(executor.state, nullptr); // fetch: no report
    REQUIRE(ran.id == high);
    CHECK(executor.reports.size() == 2);
    finish(executor, ran, SuspendReason::Wait);
    CHECK(executor.reports.size() == 2);
    executor_wake(executor.state, high); // re_back: still 2, as last reported
    CHECK(executor.reports.size() == 2);
    finish(executor, executor_fetch(executor.state, nullptr), SuspendReason::Exit);
    const FetchedCoroutine ran_low = executor_fetch(executor.state, nullptr);
    REQUIRE(ran_low.id == low);
    finish(executor, ran_low, SuspendReason::Yield); // highest ready is now 9
    CHECK(executor.reports.back() == 9);
    // Drain and idle: the poll loop reports "nothing ready".
    while (FetchedCoroutine next = executor_fetch(executor.state, nullptr)) {
        finish(executor, next, SuspendReason::Exit);
    }
    executor_report_if_idle(executor.state);
    CHECK(executor.reports.back() == NoPriority);
}

TEST_CASE("executor: a bound coroutine runs only on its poll thread", "[vdso][executor]") {
    TestExecutor executor;
    PollThread mine, other;
    const CoroutineId id = spawn_at(executor, 5);
    FetchedCoroutine ran = executor_fetch(executor.state, &mine);
    ran.block->bind_request = true;
    finish(executor, ran, SuspendReason::Yield, &mine);
    CHECK(state_of(executor, id) == CoroutineState::Ready);
    CHECK(mine.bound_ready_count == 1);
    CHECK_FALSE(executor_fetch(executor.state, &other));
    CHECK_FALSE(executor_fetch(executor.state, nullptr));
    // A more urgent shared coroutine goes first; the bound one wins ties.
    const CoroutineId urgent = spawn_at(executor, 1);
    const CoroutineId tie = spawn_at(executor, 5);
    CHECK(executor_fetch(executor.state, &mine).id == urgent);
    ran = executor_fetch(executor.state, &mine);
    CHECK(ran.id == id);
    finish(executor, ran, SuspendReason::Wait, &mine);
    CHECK(executor_wake(executor.state, id) == WakeStatus::Woken);
    CHECK(mine.bound_ready_count == 1);
    CHECK(executor_fetch(executor.state, &other).id == tie);
    // Cancel while bound and Ready, then unbind path.
    CHECK(executor_cancel(executor.state, id).status == CancelStatus::Cancelled);
    CHECK(mine.bound_ready_count == 0);
    CHECK(executor.invariants());
}

// The yield fast path of executor_finish_and_fetch (executor_fast_path.hpp, yield_fast): each case
// below must end exactly as the general path (finish, then fetch) would, reports included.
namespace {

FetchedCoroutine yield_and_fetch(TestExecutor& executor, const FetchedCoroutine& ran, PollThread* thread = nullptr) {
    ran.block->suspend_reason = SuspendReason::Yield;
    void* cancelled = &cancelled;
    const FetchedCoroutine next = executor_finish_and_fetch(executor.state, thread, ran, &cancelled);
    CHECK(cancelled == nullptr);
    REQUIRE(executor.invariants());
    return next;
}

} // namespace

TEST_CASE("executor: yields among equals rotate their level in FIFO order, with no report",
          "[vdso][executor][yield]") {
    TestExecutor executor;
    const CoroutineId a = spawn_at(executor, 5, 1);
    const CoroutineId b = spawn_at(executor, 5, 2);
    const CoroutineId c = spawn_at(executor, 5, 3);
    spawn_at(executor, 9, 4); // a less urgent level, never reached
    CHECK(executor.reports == std::vector<uint32_t>{5});
    FetchedCoroutine ran = executor_fetch(executor.state, nullptr);
    REQUIRE(ran.id == a);
    for (int round = 0; round < 3; ++round) {
        for (CoroutineId expected : {b, c, a}) {
            const CoroutineId yielded = ran.id;
            ran = yield_and_fetch(executor, ran);
            REQUIRE(ran.id == expected);
            CHECK(state_of(executor, expected) == CoroutineState::Running);
            CHECK(state_of(executor, yielded) == CoroutineState::Ready);
            CHECK(ran.block->suspend_reason == SuspendReason::Wait); // nothing asked of it yet
            CHECK(executor.state.ready_count == 3);
            CHECK(executor_highest_ready(executor.state) == 5);
        }
    }
    CHECK(executor.reports == std::vector<uint32_t>{5});
    CHECK(executor.state.published_priority == 5);
}

TEST_CASE("executor: two coroutines at one level take turns", "[vdso][executor][yield]") {
    TestExecutor executor;
    const CoroutineId a = spawn_at(executor, 16, 1);
    const CoroutineId b = spawn_at(executor, 16, 2);
    FetchedCoroutine ran = executor_fetch(executor.state, nullptr);
    for (int round = 0; round < 4; ++round) {
        REQUIRE(ran.id == (round % 2 == 0 ? a : b));
        ran = yield_and_fetch(executor, ran);
    }
    CHECK(ran.id == a);
    CHECK(executor.state.ready[16].head == executor.state.ready[16].tail);
    CHECK(executor.reports == std::vector<uint32_t>{16});
}

TEST_CASE("executor: a coroutine alone at the most urgent ready level yields and runs on",
          "[vdso][executor][yield]") {
    TestExecutor executor;
    const CoroutineId alone = spawn_at(executor, 5, 1);
    const CoroutineId lower = spawn_at(executor, 9, 2);
    FetchedCoroutine ran = executor_fetch(executor.state, nullptr);
    REQUIRE(ran.id == alone);
    ran = yield_and_fetch(executor, ran);
    CHECK(ran.id == alone);
    CHECK(state_of(executor, alone) == CoroutineState::Running);
    CHECK_FALSE(executor.state.ready_levels.test(5));
    CHECK(executor.state.ready_count == 1);
    CHECK(executor.reports == std::vector<uint32_t>{5});
    // Nothing else ready at all: the same.
    ran.block->suspend_reason = SuspendReason::Exit;
    REQUIRE(executor_finish(executor.state, nullptr, ran) == nullptr);
    ran = executor_fetch(executor.state, nullptr);
    REQUIRE(ran.id == lower);
    CHECK(executor.reports == std::vector<uint32_t>{5}); // fetch and exit do not report
    // lower (9) yields, alone, but the last report was 5: the yield reports 9 (general path).
    ran = yield_and_fetch(executor, ran);
    CHECK(ran.id == lower);
    CHECK(executor.reports == std::vector<uint32_t>{5, 9});
    ran = yield_and_fetch(executor, ran); // now the report is current: runs on without one
    CHECK(ran.id == lower);
    CHECK(executor.reports == std::vector<uint32_t>{5, 9});
    CHECK(executor.state.ready_count == 0);
    CHECK(executor.state.ready_levels.empty());
}

TEST_CASE("executor: a yield with something more urgent ready lets it run first",
          "[vdso][executor][yield]") {
    TestExecutor executor;
    const CoroutineId a = spawn_at(executor, 5, 1);
    const CoroutineId b = spawn_at(executor, 5, 2);
    FetchedCoroutine ran = executor_fetch(executor.state, nullptr);
    const CoroutineId urgent = spawn_at(executor, 2, 3);
    CHECK(executor.reports == std::vector<uint32_t>{5, 2});
    ran = yield_and_fetch(executor, ran);
    CHECK(ran.id == urgent);
    CHECK(executor.reports == std::vector<uint32_t>{5, 2});
    ran.block->suspend_reason = SuspendReason::Exit;
    REQUIRE(executor_finish(executor.state, nullptr, ran) == nullptr);
    CHECK(executor_fetch(executor.state, nullptr).id == b); // a went to the tail
    CHECK(executor_fetch(executor.state, nullptr).id == a);
}

TEST_CASE("executor: a yield reports its level when the last report is stale", "[vdso][executor][yield]") {
    TestExecutor executor;
    const CoroutineId a = spawn_at(executor, 5, 1);
    const CoroutineId b = spawn_at(executor, 5, 2);
    spawn_at(executor, 2, 3);
    FetchedCoroutine urgent = executor_fetch(executor.state, nullptr);
    finish(executor, urgent, SuspendReason::Wait); // no report: 2 is still the last one
    CHECK(executor.reports == std::vector<uint32_t>{5, 2});
    FetchedCoroutine ran = executor_fetch(executor.state, nullptr);
    REQUIRE(ran.id == a);
    ran = yield_and_fetch(executor, ran);
    CHECK(ran.id == b);
    CHECK(executor.reports == std::vector<uint32_t>{5, 2, 5});
    ran = yield_and_fetch(executor, ran);
    CHECK(ran.id == a);
    CHECK(executor.reports == std::vector<uint32_t>{5, 2, 5});
}

TEST_CASE("executor: yields with bound coroutines or requests take the general path",
          "[vdso][executor][yield]") {
    TestExecutor executor;
    PollThread mine;
    const CoroutineId a = spawn_at(executor, 5, 1);
    const CoroutineId b = spawn_at(executor, 5, 2);
    const CoroutineId c = spawn_at(executor, 5, 3);
    // a asks to be bound: into mine's queue, where it wins the tie with b and c.
    FetchedCoroutine ran = executor_fetch(executor.state, &mine);
    REQUIRE(ran.id == a);
    ran.block->bind_request = true;
    ran = yield_and_fetch(executor, ran, &mine);
    REQUIRE(ran.id == a);
    // Bound and yielding: back into mine's queue, and wins again.
    ran = yield_and_fetch(executor, ran, &mine);
    REQUIRE(ran.id == a);
    // a waits; b runs; a is woken into mine's queue; b's yield lets the bound a run first.
    finish(executor, ran, SuspendReason::Wait, &mine);
    ran = executor_fetch(executor.state, &mine);
    REQUIRE(ran.id == b);
    CHECK(executor_wake(executor.state, a) == WakeStatus::Woken);
    CHECK(mine.bound_ready_count == 1);
    ran = yield_and_fetch(executor, ran, &mine);
    REQUIRE(ran.id == a);
    CHECK(mine.bound_ready_count == 0);
    // a unbinds: to the tail of the shared level, behind c and b.
    ran.block->unbind_request = true;
    ran = yield_and_fetch(executor, ran, &mine);
    REQUIRE(ran.id == c);
    // A cancelled coroutine that yields is freed; the next in line runs.
    CHECK(executor_cancel(executor.state, c).status == CancelStatus::Deferred);
    ran.block->suspend_reason = SuspendReason::Yield;
    void* cancelled = &cancelled;
    ran = executor_finish_and_fetch(executor.state, &mine, ran, &cancelled);
    CHECK(cancelled == nullptr); // spawned without an owner
    CHECK(ran.id == b);
    CHECK(state_of(executor, c) == CoroutineState::Exited);
    CHECK(executor.invariants());
    CHECK(executor.reports == std::vector<uint32_t>{5});
}
