// uintrtest's checks and helpers: expectations that count failures, installing a handler, threads.
#include "user/programs/uintrtest/uintrtest.hpp"

namespace uintrtest {

int failures = 0;
const char* test_name = "?";

void expect(const char* what, long got, long wanted) {
    if (got == wanted) return;
    user::say("uintrtest ", test_name, ": FAILED ", what, ": got ", got, ", wanted ", wanted, "\n");
    ++failures;
}
void expect_true(const char* what, bool value) { expect(what, value, 1); }


bool same(const char* a, const char* b) {
    while (*a && *a == *b) ++a, ++b;
    return *a == *b;
}

void install(HandlerArea& area, bool enable) {
    csr_write<Uscratch>(address(&area.record));
    csr_write<Utvec>(address(reinterpret_cast<const void*>(&uintr_entry)));
    csr_set<Uie>(SoftwareInterrupt);
    if (enable) csr_set<Ustatus>(StatusUie);
}

// Starts a thread running entry(argument) on a fresh stack; *child_tid is 0 once it has ended.
long start_thread(int (*entry)(void*), void* argument, int* child_tid) {
    constexpr unsigned long StackSize = 16 * 1024;
    long stack = user::mmap(0, StackSize, user::PROT_READ | user::PROT_WRITE, user::MAP_PRIVATE | user::MAP_ANONYMOUS);
    if (stack < 0) return stack;
    return user::spawn_thread(entry, argument, reinterpret_cast<void*>(stack + StackSize), child_tid);
}

// Starts entry(&areas[1]) as the case's sibling thread and checks that it started; the tid, or <= 0.
long start_sibling(int (*entry)(void*), int* child_tid) {
    long tid = start_thread(entry, &areas[1], child_tid);
    expect_true("thread started", tid > 0);
    return tid;
}

// Waits (yielding, so that it also works on one hart) until `value` reaches `wanted`.
void wait_until_at_least(const int& value, int wanted) {
    while (load(value) < wanted) user::sched_yield();
}

// Waits (yielding) until the record counts more than `count` deliveries or `done` is set; false, with a
// message, if that takes a million yields (a kernel that lost the interrupt: fail instead of hanging;
// the caller then returns without joining, and the process's exit ends its other threads).
bool wait_for_delivery(const Record& record, unsigned long count) {
    for (long yields = 0; load(record.deliveries) <= count && !load(record.done); ++yields) {
        if (yields == 1'000'000) {
            expect("delivered within a million yields", 0, 1);
            return false;
        }
        user::sched_yield();
    }
    return true;
}

void expect_delivery_basics(const char* what, const Delivery& delivery) {
    expect(what, static_cast<long>(delivery.ucause == CauseUserSoftwareInterrupt), 1);
    expect("utval is 0 at a delivery", static_cast<long>(delivery.utval), 0);
    expect("ustatus in the handler: UIE 0, UPIE 1", static_cast<long>(delivery.ustatus), static_cast<long>(StatusUpie));
    expect("uip.USIP still set in the handler", static_cast<long>(delivery.uip), 1);
}

} // namespace uintrtest
