// uintrtest cases: a user interrupt ends an interruptible wait (futex wait, nanosleep) with -EINTR
// and is delivered on the call's return.
#include "user/programs/uintrtest/uintrtest.hpp"

namespace uintrtest {
int masked_word = 0, futex_word = 0;

int futex_waiter_main(void* argument) {
    Record& record = static_cast<HandlerArea*>(argument)->record;
    install(*static_cast<HandlerArea*>(argument), false);
    // A pending interrupt the thread cannot take (UIE clear) does not end a wait.
    record.nested_raise_result = user::raise_user_interrupt(user::gettid());
    __atomic_store_n(&record.ready, 1, __ATOMIC_RELEASE);
    record.masked_result = user::futex_wait(&masked_word, 0);  // main changes the word and wakes it
    if (record.masked_result == -user::EINTR || load(record.deliveries) != 0) {
        __atomic_store_n(&record.done, 1, __ATOMIC_RELEASE);
        return 0;
    }
    uintr_unmask_status();  // delivered here
    __atomic_store_n(&record.ready, 2, __ATOMIC_RELEASE);
    // An interrupt it can take ends the wait with -EINTR; it is delivered on the call's return.
    long result;
    do result = waiting_call(98, reinterpret_cast<long>(&futex_word), 128 /* FUTEX_WAIT | PRIVATE */, 0);
    while (result != -user::EINTR);
    record.result = result;
    __atomic_store_n(&record.done, 1, __ATOMIC_RELEASE);
    return 0;
}

int sleeper_main(void* argument) {
    Record& record = static_cast<HandlerArea*>(argument)->record;
    install(*static_cast<HandlerArea*>(argument), true);
    __atomic_store_n(&record.ready, 2, __ATOMIC_RELEASE);
    long result;
    user::Timespec remaining{};
    do {
        user::Timespec minute{60, 0};
        result = waiting_call(user::Nanosleep, reinterpret_cast<long>(&minute), reinterpret_cast<long>(&remaining), 0);
    } while (result != -user::EINTR);
    record.seconds_left = remaining.seconds;
    record.result = result;
    __atomic_store_n(&record.done, 1, __ATOMIC_RELEASE);
    return 0;
}

// Raises for the waiter until it reports that its wait ended with -EINTR. A raise that arrives while it
// is still in user mode is delivered there and it then waits: the next raise ends that wait. A raise
// that arrives while its handler still runs is taken again right after the handler's uret (as on
// hardware), so the next raise waits until the handler has returned: otherwise the two threads can
// keep the waiter in its handler, far from its wait, for many rounds.
bool raise_until_done(Record& record, long tid) {
    while (load(record.ready) < 2 && !load(record.done)) user::sched_yield();
    for (int attempt = 0; attempt < 1000 && !load(record.done); ++attempt) {
        unsigned long before = load(record.deliveries);
        long raised = user::raise_user_interrupt(tid);
        if (raised != 0) break;  // it has exited
        if (!wait_for_delivery(record, before)) return false;
        for (int i = 0; i < 8 || (load(record.depth) != 0 && !load(record.done)); ++i) user::sched_yield();
    }
    expect_true("the wait was ended", load(record.done) == 1);
    return load(record.done) == 1;
}

// Delivery to a sibling blocked in futex wait: the wait ends with -EINTR and the handler runs on the
// call's return (a0 = -EINTR, a7 = futex). A masked pending interrupt does not end a wait.
void case_futex() {
    Record& record = areas[1].record;
    int child = 0;
    long tid = start_sibling(futex_waiter_main, &child);
    if (tid <= 0) return;
    wait_until_at_least(record.ready, 1);
    for (int i = 0; i < 20; ++i) user::sched_yield();  // let it block (if it has not, it sees the new value)
    __atomic_store_n(&masked_word, 1, __ATOMIC_RELEASE);
    user::futex_wake(&masked_word, 1);
    if (!raise_until_done(record, tid)) return;
    user::join_thread(&child);
    expect("raise by tid with UIE clear", record.nested_raise_result, 0);
    expect_true("a masked interrupt did not end the wait",
                record.masked_result == 0 || record.masked_result == -user::EAGAIN);
    expect("futex wait ended with -EINTR", record.result, -user::EINTR);
    // The first delivery was taken at the csrsi, the one that ended the wait on the call's return.
    expect_true("a delivery on the return of the futex call", load(record.on_return_count) >= 1);
    if (load(record.on_return_count) < 1) return;
    expect_true("nothing delivered before the csrsi that set UIE",
                record.log[0].uepc == address(uintr_after_unmask_status));
    expect("a0 in the handler: -EINTR", static_cast<long>(record.on_return.registers[10]), -user::EINTR);
    expect("a7 in the handler: futex", static_cast<long>(record.on_return.registers[17]), 98);
    expect_delivery_basics("ucause (futex)", record.on_return);
}

void case_nanosleep() {
    Record& record = areas[1].record;
    int child = 0;
    long tid = start_sibling(sleeper_main, &child);
    if (tid <= 0) return;
    if (!raise_until_done(record, tid)) return;
    user::join_thread(&child);
    expect("nanosleep ended with -EINTR", record.result, -user::EINTR);
    expect_true("time left reported (1 to 59 s)", record.seconds_left >= 1 && record.seconds_left <= 59);
    expect_true("a delivery on the return of nanosleep", load(record.on_return_count) >= 1);
    if (load(record.on_return_count) < 1) return;
    expect("a0 in the handler: -EINTR", static_cast<long>(record.on_return.registers[10]), -user::EINTR);
    expect("a7 in the handler: nanosleep", static_cast<long>(record.on_return.registers[17]), 101);
    expect_delivery_basics("ucause (nanosleep)", record.on_return);
}

} // namespace uintrtest
