// uintrtest cases: the user-interrupt state across clone and execve, and the raise call's errors.
#include "user/programs/uintrtest/uintrtest.hpp"

namespace uintrtest {
unsigned long child_csrs[8];
int reader_main(void*) {
    child_csrs[0] = csr_read<Ustatus>();
    child_csrs[1] = csr_read<Uie>();
    child_csrs[2] = csr_read<Utvec>();
    child_csrs[3] = csr_read<Uscratch>();
    child_csrs[4] = csr_read<Uepc>();
    child_csrs[5] = csr_read<Ucause>();
    child_csrs[6] = csr_read<Utval>();
    child_csrs[7] = csr_read<Uip>();
    return 0;
}

// Gives every CSR of this thread a value other than 0 (USIP pending, UIE clear).
void make_state_nonzero() {
    install(areas[0], false);
    csr_write<Uepc>(0x4444);
    csr_write<Ucause>(7);
    csr_write<Utval>(0x1234);
    csr_set<Ustatus>(StatusUpie);
    user::raise_user_interrupt(user::gettid());
}

// A new thread starts with every user-interrupt CSR 0, whatever its creator's are.
void case_clone() {
    make_state_nonzero();
    for (unsigned long& value : child_csrs) value = 0xdead;
    int child = 0;
    long tid = start_thread(reader_main, nullptr, &child);
    expect_true("thread started", tid > 0);
    if (tid <= 0) return;
    user::join_thread(&child);
    const char* names[8] = {"ustatus", "uie", "utvec", "uscratch", "uepc", "ucause", "utval", "uip"};
    for (int i = 0; i < 8; ++i) expect(names[i], static_cast<long>(child_csrs[i]), 0);
    expect("the creator's utval unchanged", static_cast<long>(csr_read<Utval>()), 0x1234);
    expect("the creator's uip unchanged", static_cast<long>(csr_read<Uip>()), 1);
}

// execve resets the state: exec-check runs in the new image.
void case_exec() {
    make_state_nonzero();
    const char* arguments[] = {"bin/uintrtest", "exec-check", nullptr};
    long result = user::execve("bin/uintrtest", arguments);
    expect("execve", result, 0);
}

void case_exec_check() {
    for (unsigned long& value : child_csrs) value = 0xdead;
    reader_main(nullptr);
    const char* names[8] = {"ustatus", "uie", "utvec", "uscratch", "uepc", "ucause", "utval", "uip"};
    for (int i = 0; i < 8; ++i) expect(names[i], static_cast<long>(child_csrs[i]), 0);
}

// Raise errors: a thread of another process, a thread that does not exist, no receiver.
void case_errors() {
    expect("no receiver", user::raise_user_interrupt(0), -user::ESRCH);
    expect("no such thread", user::raise_user_interrupt(999999), -user::ESRCH);
    const char* arguments[] = {"bin/hello", "from-uintrtest", nullptr};
    long child = user::spawn("bin/hello", arguments);
    expect_true("spawn", child > 0);
    if (child > 0) {
        expect("another process's thread", user::raise_user_interrupt(child), -user::ESRCH);
        int status = 0;
        expect("wait4", user::wait4(child, &status, 0), child);
    }
}

} // namespace uintrtest
