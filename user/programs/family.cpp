// family: spawn, wait4 and kill from user space; nanosleep and clock_gettime.
#include "user/lib/print.hpp"

namespace {

int failures = 0;
void expect(const char* what, long got, long wanted) {
    if (got == wanted) return;
    user::say("family: FAILED ", what, ": got ", got, ", wanted ", wanted, "\n");
    ++failures;
}

long now_ms() {
    user::Timespec t{};
    user::clock_gettime(1, &t);
    return t.seconds * 1000 + t.nanoseconds / 1'000'000;
}

} // namespace

int main() {
    int status = -1;
    expect("wait4 without children", user::wait4(-1, &status, 0), -user::ECHILD);

    const char* hello[] = {"bin/hello", "child", nullptr};
    long child = user::spawn("bin/hello", hello);
    expect("spawn hello", child > 0, 1);
    expect("wait4 hello", user::wait4(child, &status, 0), child);
    expect("hello exited normally", user::exited_normally(status), 1);
    expect("hello exit code", user::exit_code(status), 0);

    const char* fault[] = {"bin/fault", "store", nullptr};
    child = user::spawn("bin/fault", fault);
    expect("wait4 fault", user::wait4(-1, &status, 0), child);
    expect("fault killed by SIGSEGV", user::terminating_signal(status), 11);

    const char* spin[] = {"bin/spin", nullptr};
    child = user::spawn("bin/spin", spin);
    expect("WNOHANG while it runs", user::wait4(child, &status, user::WaitNoHang), 0);
    expect("kill", user::kill(child, 9), 0);
    expect("wait4 killed", user::wait4(child, &status, 0), child);
    expect("killed by SIGKILL", user::terminating_signal(status), 9);
    expect("kill a reaped pid", user::kill(child, 9), -3);

    expect("spawn missing program", user::spawn("bin/nothing", spin), -user::ENOENT);
    expect("spawn non-executable", user::spawn("bin/not-elf", spin), -user::ENOEXEC);
    expect("spawn truncated executable", user::spawn("bin/truncated-elf", spin), -user::ENOEXEC);
    expect("spawn 32-bit executable", user::spawn("bin/elf32", spin), -user::ENOEXEC);
    expect("spawn bad path pointer", user::spawn(reinterpret_cast<const char*>(0x1000), spin), -user::EFAULT);
    expect("spawn bad argv", user::spawn("bin/hello", reinterpret_cast<const char* const*>(0x1000)), -user::EFAULT);

    long before = now_ms();
    user::Timespec fifty_ms{0, 50'000'000};
    expect("nanosleep", user::nanosleep(&fifty_ms), 0);
    long slept = now_ms() - before;
    expect("slept at least 50 ms", slept >= 50, 1);
    expect("slept less than 1 s", slept < 1000, 1);
    user::Timespec bad{0, 2'000'000'000};
    expect("nanosleep bad timespec", user::nanosleep(&bad), -user::EINVAL);
    expect("clock_gettime bad clock", user::clock_gettime(99, nullptr), -user::EINVAL);

    user::print(failures == 0 ? "family: ok\n" : "family: FAILED\n");
    return failures == 0 ? 0 : 1;
}
