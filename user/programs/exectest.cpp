// exectest: execve. Without arguments it checks that failing calls return the right error and leave
// the program running, then replaces itself with `exectest after-exec <pid> <kept fd> <closed fd>`,
// which checks that the pid stayed, that the plain descriptor survived and the close-on-exec one did
// not, and replaces itself with bin/hello (whose exit status, 0, becomes the process's).
#include "user/lib/print.hpp"

namespace user {
extern char** environment;  // user/lib/runtime.hpp (not included: its <atomic> brings errno macros)
}

namespace {

int failures = 0;
void expect(const char* what, long got, long wanted) {
    if (got == wanted) return;
    user::say("exectest: FAILED ", what, ": got ", got, ", wanted ", wanted, "\n");
    ++failures;
}



void check_failures() {
    const char* hello[] = {"bin/hello", nullptr};
    expect("missing program", user::execve("bin/no-such-program", hello), -user::ENOENT);
    expect("not an executable", user::execve("bin/not-elf", hello), -user::ENOEXEC);
    expect("truncated executable", user::execve("bin/truncated-elf", hello), -user::ENOEXEC);
    expect("32-bit executable", user::execve("bin/elf32", hello), -user::ENOEXEC);
    expect("bad path pointer", user::execve(reinterpret_cast<const char*>(0x1000), hello), -user::EFAULT);
    expect("bad argv pointer", user::execve("bin/hello", reinterpret_cast<const char* const*>(0x1000)), -user::EFAULT);
    const char* bad_string[] = {"bin/hello", reinterpret_cast<const char*>(0x1000), nullptr};
    expect("bad argument string", user::execve("bin/hello", bad_string), -user::EFAULT);
    expect("bad envp pointer", user::execve("bin/hello", hello, reinterpret_cast<const char* const*>(0x1000)),
           -user::EFAULT);
    const char* bad_environment[] = {"A=1", reinterpret_cast<const char*>(0x1000), nullptr};
    expect("bad environment string", user::execve("bin/hello", hello, bad_environment), -user::EFAULT);
    const char* many[18];
    for (int i = 0; i < 17; ++i) many[i] = "x";
    many[17] = nullptr;
    expect("17 arguments", user::execve("bin/hello", many), -user::E2BIG);
    static char long_argument[1100];
    for (char& c : long_argument) c = 'y';
    long_argument[sizeof(long_argument) - 1] = '\0';
    const char* too_long[] = {"bin/hello", long_argument, nullptr};
    expect("1 KiB of arguments", user::execve("bin/hello", too_long), -user::E2BIG);
    const char* empty[] = {nullptr};
    expect("empty argv", user::execve("bin/hello", empty), -user::EINVAL);
    // Still this program, with its memory intact.
    static long marker = 42;
    expect("memory unchanged after the failures", marker, 42);
}

// The environment the first execve passed (envp reaches the new program, Linux's layout).
bool environment_is(const char* const* wanted) {
    char** got = user::environment;
    for (; *wanted; ++wanted, ++got) {
        if (*got == nullptr) return false;
        const char *a = *got, *b = *wanted;
        while (*a && *a == *b) ++a, ++b;
        if (*a != *b) return false;
    }
    return *got == nullptr;
}
const char* const passed_environment[] = {"COKERNEL=1", "PATH=/bin", nullptr};

int after_exec(long old_pid, int kept, int closed) {
    expect("pid unchanged by execve", user::getpid(), old_pid);
    expect("environment passed through execve", environment_is(passed_environment), 1);
    expect("plain descriptor kept", user::write(kept, "k", 1), 1);
    expect("close-on-exec descriptor closed", user::write(closed, "c", 1), -user::EBADF);
    if (failures) return 1;
    user::print("exectest: ok, now execve bin/hello\n");
    const char* hello[] = {"bin/hello", "from", "exectest", nullptr};
    const char* environment[] = {"HOME=/", nullptr};
    long result = user::execve("bin/hello", hello, environment);
    user::say("exectest: FAILED execve bin/hello: ", result, "\n");
    return 1;
}

} // namespace

int main(int argc, char** argv) {
    if (argc == 5) return after_exec(user::parse_decimal(argv[2]), static_cast<int>(user::parse_decimal(argv[3])), static_cast<int>(user::parse_decimal(argv[4])));
    check_failures();
    int kept[2], closed[2];
    expect("pipe2", user::pipe2(kept, 0), 0);
    expect("pipe2 O_CLOEXEC", user::pipe2(closed, user::O_CLOEXEC), 0);
    if (failures) return 1;
    char pid_text[21], kept_text[24], closed_text[24];
    const char* again[] = {"bin/exectest", "after-exec", user::decimal_text(user::getpid(), pid_text), user::decimal_text(kept[1], kept_text),
                           user::decimal_text(closed[1], closed_text), nullptr};
    long result = user::execve("bin/exectest", again, passed_environment);
    user::say("exectest: FAILED execve bin/exectest: ", result, "\n");
    return 1;
}
