// uintrtest: user-space interrupts (the N extension, docs/user-interrupts.md) seen from user mode,
// with the raw CSR instructions and an assembly handler, as a program would use them on hardware.
// The pieces: handler.cpp (the handler, its assembly entry and the assembly helpers the cases call),
// checks.cpp (the checks and thread helpers), one file per family of cases, main.cpp (the dispatch).
#pragma once

#include "user/lib/print.hpp"

namespace uintrtest {

// CSR numbers and bits of the N extension.
constexpr unsigned Ustatus = 0x000, Uie = 0x004, Utvec = 0x005, Uscratch = 0x040, Uepc = 0x041, Ucause = 0x042,
                   Utval = 0x043, Uip = 0x044;
constexpr unsigned long StatusUie = 1, StatusUpie = 1ul << 4, SoftwareInterrupt = 1;
constexpr unsigned long CauseUserSoftwareInterrupt = 1ul << 63;

template <unsigned Csr>
unsigned long csr_read() {
    unsigned long value;
    asm volatile("csrr %0, %1" : "=r"(value) : "i"(Csr) : "memory");
    return value;
}
template <unsigned Csr>
void csr_write(unsigned long value) {
    asm volatile("csrw %0, %1" ::"i"(Csr), "r"(value) : "memory");
}
template <unsigned Csr>
void csr_set(unsigned long bits) {
    asm volatile("csrs %0, %1" ::"i"(Csr), "r"(bits) : "memory");
}
template <unsigned Csr>
void csr_clear(unsigned long bits) {
    asm volatile("csrc %0, %1" ::"i"(Csr), "r"(bits) : "memory");
}

constexpr int MaxLog = 16;

// What the handler saw at one delivery.
struct Delivery {
    unsigned long uepc, ucause, utval, ustatus, uip;
    unsigned long registers[32];  // the interrupted code's x0..x31 (x2: its sp)
    unsigned long spins;          // the spinner's counter at that moment
};

// One per thread with a handler. uscratch points here while the thread runs its own code; the
// handler's stack ends here (HandlerArea).
struct alignas(16) Record {
    Delivery log[MaxLog];         // the first MaxLog deliveries
    Delivery on_return;           // the latest delivery taken on the return of a waiting_call
    unsigned long on_return_count;
    unsigned long deliveries;     // written by the handler; others read it atomically
    unsigned long depth;          // > 0 while the handler runs
    unsigned long nested_entries; // handler entered while it was running: must stay 0
    unsigned long raise_in_handler;
    long nested_raise_result;
    unsigned long uip_after_nested_raise;
    unsigned long spins;
    int ready, stop, done;
    long result;
    long masked_result;       // futex: the wait with a pending interrupt masked
    long seconds_left;        // nanosleep: what it reported
};

struct alignas(16) HandlerArea {
    unsigned char stack[8192];
    Record record;
};
// One per thread that installs a handler (handler.cpp).
extern HandlerArea areas[3];

inline unsigned long load(const unsigned long& value) { return __atomic_load_n(&value, __ATOMIC_ACQUIRE); }
inline int load(const int& value) { return __atomic_load_n(&value, __ATOMIC_ACQUIRE); }

} // namespace uintrtest

// Defined in handler.cpp (C names: the assembly refers to them).
extern "C" {
void uintr_handler(unsigned long* saved, uintrtest::Record* record);
void uintr_entry();
void raise_with_patterns(unsigned long* after);
void uintr_unmask_status();
void uintr_unmask_uie();
long waiting_call(long number, long a0, long a1, long a2);
extern char uintr_after_ecall[], uintr_after_unmask_status[], uintr_after_unmask_uie[], uintr_after_waiting_call[];
extern unsigned long uintr_sp_at_ecall;
}

namespace uintrtest {

// checks.cpp
extern int failures;
extern const char* test_name;
void expect(const char* what, long got, long wanted);
void expect_true(const char* what, bool value);
constexpr unsigned long pattern(int n) { return 0x5a5a5a5a00000000ul + static_cast<unsigned long>(n); }
inline unsigned long address(const void* p) { return reinterpret_cast<unsigned long>(p); }
bool same(const char* a, const char* b);
void install(HandlerArea& area, bool enable);
long start_thread(int (*entry)(void*), void* argument, int* child_tid);
long start_sibling(int (*entry)(void*), int* child_tid);
void wait_until_at_least(const int& value, int wanted);
bool wait_for_delivery(const Record& record, unsigned long count);
void expect_delivery_basics(const char* what, const Delivery& delivery);

// The cases: delivery.cpp (to a running, runnable or spinning thread), waits.cpp (ending a futex
// wait or a nanosleep), lifecycle.cpp (clone, execve, errors).
void case_self();
void case_mask();
void case_nested();
void case_spinner(long harts);
void case_runnable(long harts);
void case_kernel();
void case_futex();
void case_nanosleep();
void case_clone();
void case_exec();
void case_exec_check();
void case_errors();

} // namespace uintrtest
