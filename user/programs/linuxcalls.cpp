// linuxcalls: the calls added for C libraries (docs/syscalls.md, "Calls for C libraries"), their
// results and their errors: identity, uname, prlimit64, getrandom, writev/readv, dup/fcntl, the
// console's ioctls, mprotect, madvise, futex with bitsets and timeouts, clocks, tgkill, robust list,
// rseq. Bad pointers give -EFAULT. Prints "linuxcalls: ok" and exits 0, or names each failure.
#include "user/lib/print.hpp"

namespace {

int failures = 0;
void expect(const char* what, long got, long wanted) {
    if (got == wanted) return;
    user::say("linuxcalls: FAILED ", what, ": got ", got, ", wanted ", wanted, "\n");
    ++failures;
}

constexpr long Bad = 0x1000;  // never mapped (below the lowest mappable address)
using user::syscall;

void identity_and_limits() {
    expect("getuid", syscall(user::GetUid), 0);
    expect("geteuid", syscall(user::GetEuid), 0);
    expect("getgid", syscall(user::GetGid), 0);
    expect("getegid", syscall(user::GetEgid), 0);
    expect("getppid (started by the kernel)", syscall(user::GetPpid), 0);
    static char name[6 * 65];
    expect("uname", syscall(user::Uname, reinterpret_cast<long>(name)), 0);
    expect("uname machine", name[4 * 65] == 'r' && name[4 * 65 + 6] == '4', 1);
    expect("uname bad pointer", syscall(user::Uname, Bad), -user::EFAULT);
    unsigned long limit[2] = {};
    expect("prlimit64 RLIMIT_STACK", syscall(user::Prlimit64, 0, 3, 0, reinterpret_cast<long>(limit)), 0);
    expect("RLIMIT_STACK soft = hard", limit[0] == limit[1] && limit[0] > 0, 1);
    expect("prlimit64 bad resource", syscall(user::Prlimit64, 0, 99, 0, reinterpret_cast<long>(limit)), -user::EINVAL);
    expect("prlimit64 other pid", syscall(user::Prlimit64, 99999, 3, 0, reinterpret_cast<long>(limit)), -user::ESRCH);
    expect("prlimit64 bad pointer", syscall(user::Prlimit64, 0, 3, 0, Bad), -user::EFAULT);
    unsigned long raise[2] = {limit[0] * 2, limit[1] * 2};
    expect("prlimit64 raising", syscall(user::Prlimit64, 0, 3, reinterpret_cast<long>(raise), 0), -user::EPERM);
    expect("set_robust_list", syscall(user::SetRobustList, reinterpret_cast<long>(limit), 24), 0);
    expect("set_robust_list bad length", syscall(user::SetRobustList, reinterpret_cast<long>(limit), 8), -user::EINVAL);
    expect("rseq", syscall(user::Rseq, 0, 32, 0, 0), -user::ENOSYS);
    expect("tgkill signal 0, own thread", syscall(user::Tgkill, user::getpid(), user::gettid(), 0), 0);
    expect("tgkill no such thread", syscall(user::Tgkill, user::getpid(), 999999, 0), -user::ESRCH);
    expect("tkill signal 0", syscall(user::Tkill, user::gettid(), 0), 0);
}

void randomness() {
    unsigned long a[4] = {}, b[4] = {};
    expect("getrandom", syscall(user::Getrandom, reinterpret_cast<long>(a), sizeof(a), 0), sizeof(a));
    expect("getrandom again", syscall(user::Getrandom, reinterpret_cast<long>(b), sizeof(b), 1), sizeof(b));
    expect("two draws differ", a[0] != b[0] || a[1] != b[1], 1);
    expect("getrandom bad pointer", syscall(user::Getrandom, Bad, 16, 0), -user::EFAULT);
    expect("getrandom bad flags", syscall(user::Getrandom, reinterpret_cast<long>(a), 8, 0x100), -user::EINVAL);
}

void vectored_io_and_descriptors() {
    int fds[2];
    expect("pipe2", user::pipe2(fds), 0);
    char first[] = "vec", second[] = "tored";
    long vector[4] = {reinterpret_cast<long>(first), 3, reinterpret_cast<long>(second), 5};
    expect("writev", syscall(user::Writev, fds[1], reinterpret_cast<long>(vector), 2), 8);
    char in_a[4] = {}, in_b[5] = {};
    long in_vector[4] = {reinterpret_cast<long>(in_a), 4, reinterpret_cast<long>(in_b), 4};
    expect("readv", syscall(user::Readv, fds[0], reinterpret_cast<long>(in_vector), 2), 8);
    expect("readv contents", in_a[0] == 'v' && in_a[3] == 't' && in_b[0] == 'o' && in_b[3] == 'd', 1);
    expect("writev bad vector", syscall(user::Writev, fds[1], Bad, 1), -user::EFAULT);
    long bad_element[2] = {Bad, 4};
    expect("writev bad buffer", syscall(user::Writev, fds[1], reinterpret_cast<long>(bad_element), 1), -user::EFAULT);
    expect("writev bad fd", syscall(user::Writev, 77, reinterpret_cast<long>(vector), 1), -user::EBADF);
    long copy = syscall(user::Dup, fds[1]);
    expect("dup gives the lowest free descriptor", copy > fds[1], 1);
    expect("write through the dup", user::write(static_cast<int>(copy), "x", 1), 1);
    expect("dup bad fd", syscall(user::Dup, 77), -user::EBADF);
    expect("F_GETFD", syscall(user::Fcntl, copy, 1), 0);
    expect("F_SETFD FD_CLOEXEC", syscall(user::Fcntl, copy, 2, 1), 0);
    expect("F_GETFD after", syscall(user::Fcntl, copy, 1), 1);
    long high = syscall(user::Fcntl, copy, 1030, 10);  // F_DUPFD_CLOEXEC
    expect("F_DUPFD_CLOEXEC from 10", high, 10);
    expect("F_GETFD of it", syscall(user::Fcntl, high, 1), 1);
    expect("F_GETFL", syscall(user::Fcntl, 0, 3) & 3, 2);  // the console: O_RDWR
    expect("F_SETFL O_NONBLOCK", syscall(user::Fcntl, copy, 4, 0x800), 0);
    expect("fcntl bad command", syscall(user::Fcntl, copy, 999), -user::EINVAL);
    expect("fcntl bad fd", syscall(user::Fcntl, 77, 1), -user::EBADF);
    unsigned char termios[60];
    expect("TCGETS on the console", syscall(user::Ioctl, 1, 0x5401, reinterpret_cast<long>(termios)), 0);
    unsigned short window[4];
    expect("TIOCGWINSZ on the console", syscall(user::Ioctl, 1, 0x5413, reinterpret_cast<long>(window)), 0);
    expect("window 80 columns", window[1], 80);
    expect("TCGETS on a pipe", syscall(user::Ioctl, fds[0], 0x5401, reinterpret_cast<long>(termios)), -user::ENOTTY);
    expect("TCGETS bad pointer", syscall(user::Ioctl, 1, 0x5401, Bad), -user::EFAULT);
    user::close(fds[0]);
    user::close(fds[1]);
    user::close(static_cast<int>(copy));
    user::close(static_cast<int>(high));
}

void memory() {
    constexpr size_t Size = 4 * 4096;
    long area = user::mmap(0, Size, user::PROT_READ | user::PROT_WRITE, user::MAP_PRIVATE | user::MAP_ANONYMOUS);
    expect("mmap", area > 0, 1);
    auto* bytes = reinterpret_cast<volatile char*>(area);
    bytes[4096] = 42;
    expect("mprotect read-only keeps contents", syscall(user::Mprotect, area + 4096, 4096, user::PROT_READ), 0);
    expect("contents after mprotect", bytes[4096], 42);
    expect("mprotect back to read-write", syscall(user::Mprotect, area, Size, user::PROT_READ | user::PROT_WRITE), 0);
    bytes[4096] = 43;
    expect("contents after the second mprotect", bytes[4096], 43);
    expect("mprotect PROT_NONE", syscall(user::Mprotect, area + 2 * 4096, 4096, user::PROT_NONE), 0);
    expect("a write from a PROT_NONE page", user::write(1, reinterpret_cast<const void*>(area + 2 * 4096), 1),
           -user::EFAULT);
    expect("mprotect PROT_NONE back to read-write", syscall(user::Mprotect, area + 2 * 4096, 4096, user::PROT_READ | user::PROT_WRITE), 0);
    bytes[2 * 4096] = 1;
    expect("mprotect W+X", syscall(user::Mprotect, area, 4096, 7), -user::EINVAL);
    expect("mprotect misaligned", syscall(user::Mprotect, area + 1, 4096, 1), -user::EINVAL);
    expect("mprotect unmapped", syscall(user::Mprotect, 0x100000000, 4096, 1), -user::ENOMEM);
    expect("madvise DONTNEED", syscall(user::Madvise, area, Size, 4), 0);
    expect("madvise unknown advice", syscall(user::Madvise, area, Size, 99), -user::EINVAL);
    expect("munmap", user::munmap(static_cast<uintptr_t>(area), Size), 0);
}

void futexes_and_clocks() {
    static int word = 5;
    cokernel::abi::Timespec timeout{0, 20 * 1000 * 1000};
    // FUTEX_WAIT_BITSET | PRIVATE with an absolute timeout: the clocks count from boot.
    cokernel::abi::Timespec now{};
    user::clock_gettime(1, &now);
    cokernel::abi::Timespec deadline{now.seconds, now.nanoseconds + 20 * 1000 * 1000};
    if (deadline.nanoseconds >= 1000000000) deadline.seconds += 1, deadline.nanoseconds -= 1000000000;
    expect("futex WAIT_BITSET times out",
           syscall(98, reinterpret_cast<long>(&word), 9 | 128, 5, reinterpret_cast<long>(&deadline), 0, -1), -user::ETIMEDOUT);
    expect("futex WAIT relative times out",
           syscall(98, reinterpret_cast<long>(&word), 0 | 128, 5, reinterpret_cast<long>(&timeout)), -user::ETIMEDOUT);
    expect("futex WAIT_BITSET other value",
           syscall(98, reinterpret_cast<long>(&word), 9 | 128, 6, reinterpret_cast<long>(&timeout), 0, -1), -user::EAGAIN);
    expect("futex WAIT_BITSET bitset 0", syscall(98, reinterpret_cast<long>(&word), 9 | 128, 5, 0, 0, 0), -user::EINVAL);
    expect("futex WAKE_BITSET", syscall(98, reinterpret_cast<long>(&word), 10 | 128, 1, 0, 0, -1), 0);
    expect("futex bad timeout pointer", syscall(98, reinterpret_cast<long>(&word), 0 | 128, 5, Bad), -user::EFAULT);
    cokernel::abi::Timespec value{};
    for (long clock = 0; clock <= 7; ++clock) expect("clock_gettime", user::clock_gettime(clock, &value), 0);
    expect("clock_gettime unknown clock", user::clock_gettime(99, &value), -user::EINVAL);
    expect("clock_getres", syscall(user::ClockGetres, 1, reinterpret_cast<long>(&value)), 0);
    expect("resolution below a millisecond", value.seconds == 0 && value.nanoseconds > 0 && value.nanoseconds < 1000000, 1);
    cokernel::abi::Timespec nap{0, 1000 * 1000};
    expect("clock_nanosleep", syscall(user::ClockNanosleep, 1, 0, reinterpret_cast<long>(&nap), 0), 0);
    expect("clock_nanosleep bad clock", syscall(user::ClockNanosleep, 3, 0, reinterpret_cast<long>(&nap), 0), -user::EINVAL);
    expect("clock_nanosleep bad pointer", syscall(user::ClockNanosleep, 1, 0, Bad, 0), -user::EFAULT);
}

} // namespace

int main() {
    identity_and_limits();
    randomness();
    vectored_io_and_descriptors();
    memory();
    futexes_and_clocks();
    if (failures) return 1;
    user::print("linuxcalls: ok\n");
    return 0;
}
