// badptr: system calls with bad arguments get errors, never a kernel fault, and write nothing.
#include "user/lib/print.hpp"

namespace {
int failures = 0;
void expect(const char* what, long got, long wanted) {
    if (got == wanted) return;
    user::say("badptr: FAILED ", what, ": got ", got, ", wanted ", wanted, "\n");
    ++failures;
}
} // namespace

int main() {
    expect("unmapped buffer", user::write(1, reinterpret_cast<const void*>(0x1000), 8), -user::EFAULT);
    expect("kernel address", user::write(1, reinterpret_cast<const void*>(0xffffffc080200000ul), 8), -user::EFAULT);
    expect("wrapping range", user::write(1, reinterpret_cast<const void*>(0x10000), ~0ul), -user::EFAULT);
    static char buffer[8192];
    expect("buffer running off the end of data", user::write(1, buffer + sizeof(buffer) - 4, 1ul << 20), -user::EFAULT);
    expect("bad fd", user::write(7, "x", 1), -user::EBADF);
    expect("unknown syscall", user::syscall(9999), -user::ENOSYS);
    expect("zero-length write", user::write(1, nullptr, 0), 0);
    user::print(failures == 0 ? "badptr: ok\n" : "badptr: FAILED\n");
    return failures == 0 ? 0 : 1;
}
