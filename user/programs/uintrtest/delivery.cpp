// uintrtest cases: delivery to the raising thread itself, masking, nesting, to a sibling spinning on
// another hart or runnable on this one, and from the kernel.
#include "user/programs/uintrtest/uintrtest.hpp"

namespace uintrtest {
// Delivery to the caller on the return of the raise system call, with every register preserved.
void case_self() {
    HandlerArea& area = areas[0];
    Record& record = area.record;
    install(area, true);
    unsigned long after[32];
    raise_with_patterns(after);
    expect("deliveries", static_cast<long>(load(record.deliveries)), 1);
    const Delivery& delivery = record.log[0];
    expect_delivery_basics("ucause is the user software interrupt", delivery);
    expect_true("uepc is the instruction after the ecall", delivery.uepc == address(uintr_after_ecall));
    expect("a0 in the handler: the call's result", static_cast<long>(delivery.registers[10]), 0);
    expect("a7 in the handler", static_cast<long>(delivery.registers[17]), 1032);
    expect_true("sp in the handler", delivery.registers[2] == uintr_sp_at_ecall);
    int wrong_in_handler = 0, wrong_after = 0;
    for (int n = 1; n < 32; ++n) {
        if (n == 2 || n == 10 || n == 17) continue;
        wrong_in_handler += delivery.registers[n] != pattern(n);
        wrong_after += after[n] != pattern(n);
    }
    expect("registers the handler saw differing from the interrupted code's", wrong_in_handler, 0);
    expect("registers changed across the handler", wrong_after, 0);
    expect("a0 after the handler", static_cast<long>(after[10]), 0);
    expect("a7 after the handler", static_cast<long>(after[17]), 1032);
    expect_true("ustatus after uret: UIE 1, UPIE 1", csr_read<Ustatus>() == (StatusUie | StatusUpie));
    expect("uip after the handler cleared it", static_cast<long>(csr_read<Uip>()), 0);
    expect("no nested entry", static_cast<long>(record.nested_entries), 0);
    // The CSRs read back what was written, minus the bits that are read-only zero.
    csr_write<Uscratch>(0x123456789abcdef0ul);
    expect("uscratch", static_cast<long>(csr_read<Uscratch>()), static_cast<long>(0x123456789abcdef0ul));
    csr_write<Uscratch>(address(&record));
    csr_write<Utval>(~0ul);
    expect("utval", static_cast<long>(csr_read<Utval>()), -1);
    csr_write<Ucause>(5);
    expect("ucause", static_cast<long>(csr_read<Ucause>()), 5);
    csr_write<Uepc>(0x1235);
    expect("uepc bit 0 reads 0", static_cast<long>(csr_read<Uepc>()), 0x1234);
    unsigned long handler = csr_read<Utvec>();
    csr_write<Utvec>(handler | 1);  // vectored mode is not supported: MODE reads 0
    expect_true("utvec MODE reads 0", csr_read<Utvec>() == handler);
    csr_clear<Ustatus>(StatusUie);
    csr_write<Ustatus>(~0ul);
    expect("ustatus writable bits", static_cast<long>(csr_read<Ustatus>()), static_cast<long>(StatusUie | StatusUpie));
    csr_clear<Ustatus>(StatusUie);
    csr_write<Uie>(~0ul);
    expect("uie writable bits (USIE only)", static_cast<long>(csr_read<Uie>()), 1);
    csr_write<Uip>(~0ul);
    expect("uip writable bits (USIP only)", static_cast<long>(csr_read<Uip>()), 1);
    // csrrw returns the old value; rd = x0 and rs1 = x0 forms.
    unsigned long old;
    asm volatile("csrrw %0, 0x044, zero" : "=r"(old) : : "memory");
    expect("csrrw uip: old value", static_cast<long>(old), 1);
    asm volatile("csrrsi %0, 0x043, 0" : "=r"(old) : : "memory");  // uimm 0: reads, writes nothing
    expect("csrrsi with 0 reads", static_cast<long>(old), -1);
    asm volatile("csrrci %0, 0x043, 3" : "=r"(old) : : "memory");
    expect("csrrci old value", static_cast<long>(old), -1);
    expect("csrrci cleared two bits", static_cast<long>(csr_read<Utval>()), -4);
    expect("nothing delivered while UIE was 0", static_cast<long>(load(record.deliveries)), 1);
}

// Masking: with UIE clear nothing is delivered, however many traps pass; setting UIE delivers at once,
// at the instruction after the csrsi. The same with uie.USIE.
void case_mask() {
    HandlerArea& area = areas[0];
    Record& record = area.record;
    install(area, false);
    expect("raise with UIE clear", user::raise_user_interrupt(0), 0);
    for (int i = 0; i < 5; ++i) user::sched_yield();
    (void)user::getpid();
    expect("not delivered while UIE is clear", static_cast<long>(load(record.deliveries)), 0);
    expect("pending: uip.USIP", static_cast<long>(csr_read<Uip>()), 1);
    uintr_unmask_status();
    expect("delivered when UIE was set", static_cast<long>(load(record.deliveries)), 1);
    expect_true("uepc: right after the csrsi", record.log[0].uepc == address(uintr_after_unmask_status));
    expect_delivery_basics("ucause (UIE unmasked)", record.log[0]);

    csr_clear<Uie>(SoftwareInterrupt);
    expect("no receiver without uie.USIE", user::raise_user_interrupt(0), -user::ESRCH);
    expect("raise by tid without uie.USIE", user::raise_user_interrupt(user::gettid()), 0);
    for (int i = 0; i < 5; ++i) user::sched_yield();
    expect("not delivered while USIE is clear", static_cast<long>(load(record.deliveries)), 1);
    uintr_unmask_uie();
    expect("delivered when USIE was set", static_cast<long>(load(record.deliveries)), 2);
    expect_true("uepc: right after the csrsi on uie", record.log[1].uepc == address(uintr_after_unmask_uie));
}

// A raise inside the handler (UIE = 0) is taken right after uret, at the same interrupted pc.
void case_nested() {
    HandlerArea& area = areas[0];
    Record& record = area.record;
    install(area, true);
    record.raise_in_handler = 1;
    expect("raise", user::raise_user_interrupt(0), 0);
    expect("deliveries: the raise and the one raised in the handler", static_cast<long>(load(record.deliveries)), 2);
    expect("raise inside the handler", record.nested_raise_result, 0);
    expect("pending again inside the handler", static_cast<long>(record.uip_after_nested_raise), 1);
    expect("the handler was not entered while it ran", static_cast<long>(record.nested_entries), 0);
    expect_true("second delivery: the same interrupted pc", record.log[1].uepc == record.log[0].uepc);
    expect_delivery_basics("ucause (second delivery)", record.log[1]);
}

int spinner_main(void* argument) {
    Record& record = static_cast<HandlerArea*>(argument)->record;
    install(*static_cast<HandlerArea*>(argument), true);
    __atomic_store_n(&record.ready, 1, __ATOMIC_RELEASE);
    for (unsigned long n = 1; !load(record.stop); ++n) __atomic_store_n(&record.spins, n, __ATOMIC_RELAXED);
    return 0;
}

// Delivery to a sibling spinning in user mode: with more than one hart it runs on another one, and
// the raise must interrupt it at once (an IPI), not at its next timer tick. The bound: at least 6 of 8
// deliveries within a quarter of the spins the sibling makes in one tick (10 ms), measured first.
void case_spinner(long harts) {
    Record& record = areas[1].record;
    int child = 0;
    long tid = start_sibling(spinner_main, &child);
    if (tid <= 0) return;
    wait_until_at_least(record.ready, 1);
    unsigned long spins_per_tick = 0;
    if (harts > 1) {
        user::Timespec start{}, end{};
        unsigned long first = load(record.spins);
        user::clock_gettime(1, &start);
        user::Timespec pause{0, 100'000'000};
        user::nanosleep(&pause);
        user::clock_gettime(1, &end);
        unsigned long last = load(record.spins);
        long nanoseconds = (end.seconds - start.seconds) * 1'000'000'000 + (end.nanoseconds - start.nanoseconds);
        spins_per_tick = nanoseconds > 0 ? (last - first) * 10'000'000ul / static_cast<unsigned long>(nanoseconds) : 0;
    }
    constexpr int Trials = 8;
    unsigned long latency[Trials] = {};
    for (int trial = 0; trial < Trials; ++trial) {
        unsigned long before = load(record.spins);
        expect("raise", user::raise_user_interrupt(tid), 0);
        if (!wait_for_delivery(record, static_cast<unsigned long>(trial))) return;
        latency[trial] = record.log[trial].spins - before;
        // Before the next raise the sibling must be back in its loop, out of the handler (whose CSR
        // accesses and uret trap into the kernel here, where a raise would be taken without an IPI).
        while (load(record.spins) < record.log[trial].spins + 100) user::sched_yield();
    }
    __atomic_store_n(&record.stop, 1, __ATOMIC_RELEASE);
    user::join_thread(&child);
    expect("deliveries", static_cast<long>(load(record.deliveries)), Trials);
    for (int trial = 0; trial < Trials; ++trial) expect_delivery_basics("ucause (spinner)", record.log[trial]);
    if (harts > 1) {
        int prompt = 0;
        user::say("uintrtest spinner: ", static_cast<long>(spins_per_tick), " spins per tick; spins to delivery:");
        for (unsigned long value : latency) {
            user::say(" ", static_cast<long>(value));
            prompt += value <= spins_per_tick / 4;
        }
        user::print("\n");
        expect_true("spins per tick measured", spins_per_tick > 0);
        expect_true("at least 6 of 8 deliveries within a quarter tick of spinning", prompt >= 6);
    }
}

int yielder_main(void* argument) {
    Record& record = static_cast<HandlerArea*>(argument)->record;
    install(*static_cast<HandlerArea*>(argument), true);
    waiting_call(124 /* sched_yield */, 0, 0, 0);
    __atomic_store_n(&record.ready, 1, __ATOMIC_RELEASE);
    for (long i = 0; load(record.deliveries) == 0 && i < 10'000'000; ++i) waiting_call(124, 0, 0, 0);
    return 0;
}

// A sibling that is runnable but not running when the raise comes (certain on one hart: the raiser
// holds it) keeps it pending and takes it when it runs: on one hart, on the return of its sched_yield,
// unless a timer tick preempted it in user mode between two yields (rare): then on the return from
// that trap, at the pc where it was.
void case_runnable(long harts) {
    Record& record = areas[1].record;
    int child = 0;
    long tid = start_sibling(yielder_main, &child);
    if (tid <= 0) return;
    wait_until_at_least(record.ready, 1);
    expect("raise", user::raise_user_interrupt(tid), 0);
    user::join_thread(&child);
    expect("deliveries", static_cast<long>(load(record.deliveries)), 1);
    expect_delivery_basics("ucause (runnable)", record.log[0]);
    if (harts == 1 && record.log[0].uepc == address(uintr_after_waiting_call)) {
        expect("a7 in the handler: sched_yield", static_cast<long>(record.log[0].registers[17]), 124);
        expect("a0 in the handler: its result", static_cast<long>(record.log[0].registers[10]), 0);
    }
}

// For the kernel self-test: a handler, then yields until the kernel raises (raise_user_interrupt of
// the process, from the self-test's kernel context).
void case_kernel() {
    HandlerArea& area = areas[0];
    install(area, true);
    for (long i = 0; load(area.record.deliveries) == 0 && i < 10'000'000; ++i) user::sched_yield();
    expect("deliveries", static_cast<long>(load(area.record.deliveries)), 1);
    expect_delivery_basics("ucause (kernel)", area.record.log[0]);
}

} // namespace uintrtest
