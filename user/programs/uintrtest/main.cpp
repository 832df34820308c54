// uintrtest: user-space interrupts (the N extension, docs/user-interrupts.md) seen from user mode.
// argv[1] names the case (the kernel self-test `uintr` runs each one); argv[2] is the number of harts
// where a case needs it. Exit status 0 when every check passed; bad-csr and bad-uret must be killed.
#include "user/programs/uintrtest/uintrtest.hpp"

namespace user {
// This program drives the user-interrupt CSRs itself: the runtime leaves them alone.
extern const bool runtime_user_interrupts = false;
} // namespace user

using namespace uintrtest;

int main(int argc, char** argv) {
    test_name = argc > 1 ? argv[1] : "self";
    long harts = argc > 2 ? user::parse_decimal(argv[2]) : 1;
    if (same(test_name, "self")) case_self();
    else if (same(test_name, "mask")) case_mask();
    else if (same(test_name, "nested")) case_nested();
    else if (same(test_name, "spinner")) case_spinner(harts);
    else if (same(test_name, "futex")) case_futex();
    else if (same(test_name, "nanosleep")) case_nanosleep();
    else if (same(test_name, "runnable")) case_runnable(harts);
    else if (same(test_name, "clone")) case_clone();
    else if (same(test_name, "exec")) case_exec();
    else if (same(test_name, "exec-check")) case_exec_check();
    else if (same(test_name, "errors")) case_errors();
    else if (same(test_name, "kernel")) case_kernel();
    else if (same(test_name, "no-handler")) {
        // For the kernel self-test: a process that never installs a handler (this program opts out of
        // the runtime's, runtime_user_interrupts) and runs until it is killed.
        for (;;) user::sched_yield();
    }
    else if (same(test_name, "bad-csr")) {
        unsigned long value;
        asm volatile("csrr %0, 0x045" : "=r"(value));  // next to uip, but not a CSR of the N extension
        user::say("uintrtest bad-csr: still running: FAILED\n");
        return 1;
    } else if (same(test_name, "bad-uret")) {
        asm volatile(".4byte 0x002000f3");  // uret's encoding with rd = x1: not uret
        user::say("uintrtest bad-uret: still running: FAILED\n");
        return 1;
    } else {
        user::say("uintrtest: unknown case ", test_name, "\n");
        return 2;
    }
    user::say("uintrtest ", test_name, failures == 0 ? ": ok\n" : ": FAILED\n");
    return failures == 0 ? 0 : 1;
}
