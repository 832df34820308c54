// sh: the console shell. Runs programs from the initial archive with arguments (in the background
// with a trailing &), and has built-ins to list programs and processes, change priorities, end
// processes and power off.
#include "user/lib/print.hpp"

namespace {

constexpr size_t MaxLine = 256;
constexpr size_t MaxWords = 16;

bool equal(const char* a, const char* b) {
    while (*a && *a == *b) ++a, ++b;
    return *a == *b;
}

long parse_number(const char* text) {
    if (!*text) return -1;
    long value = 0;
    for (; *text; ++text) {
        if (*text < '0' || *text > '9') return -1;
        value = value * 10 + (*text - '0');
    }
    return value;
}

// Reads a line with echo and backspace. False at end of input.
bool read_line(char* line, size_t& length) {
    length = 0;
    for (;;) {
        char c;
        if (user::read(0, &c, 1) != 1) return false;
        if (c == '\r' || c == '\n') {
            user::print("\n");
            line[length] = '\0';
            return true;
        }
        if (c == 0x7f || c == '\b') {
            if (length > 0) {
                --length;
                user::print("\b \b");
            }
            continue;
        }
        if (length + 1 < MaxLine) {
            line[length++] = c;
            user::write(1, &c, 1);
        }
    }
}

size_t split(char* line, const char** words) {
    size_t count = 0;
    for (char* p = line; *p && count < MaxWords;) {
        while (*p == ' ') *p++ = '\0';
        if (!*p) break;
        words[count++] = p;
        while (*p && *p != ' ') ++p;
    }
    return count;
}

void help() {
    user::print("  PROGRAM [ARGS...] [&]   run bin/PROGRAM from the archive (& : do not wait)\n"
                "  programs                list the programs in the archive\n"
                "  ps                      list processes, their parents and priorities\n"
                "  prio PID PRIORITY       set a process's priority (0 is the highest of 64)\n"
                "  kill PID                end a process\n"
                "  halt                    power the machine off\n");
}

void programs() {
    char listing[2048];
    long length = user::list_programs(listing, sizeof(listing));
    if (length < 0) user::say("programs: error ", -length, "\n");
    else user::write(1, listing, static_cast<size_t>(length));
}

void ps() {
    user::ProcessRecord records[32];
    long count = user::process_list(records, 32);
    if (count < 0) {
        user::say("ps: error ", -count, "\n");
        return;
    }
    user::print("  PID  PPID  PRIO  CAP  PAGES  STATE   NAME\n");
    for (long i = 0; i < count && i < 32; ++i) {
        const user::ProcessRecord& r = records[i];
        user::say("  ", static_cast<long>(r.pid), "  ", static_cast<long>(r.parent_pid), "  ", static_cast<long>(r.priority),
                  "  ", static_cast<long>(r.priority_cap), "  ", static_cast<long>(r.user_pages), "  ",
                  r.exited ? "exited  " : "running ", r.name, "\n");
    }
}

void run(const char** words, size_t count) {
    bool background = count > 1 && equal(words[count - 1], "&");
    if (background) --count;
    char path[MaxLine + 4] = "bin/";
    size_t n = 4;
    for (const char* p = words[0]; *p && n + 1 < sizeof(path); ++p) path[n++] = *p;
    path[n] = '\0';
    bool has_slash = false;
    for (const char* p = words[0]; *p; ++p) has_slash |= *p == '/';
    const char* program = has_slash ? words[0] : path;  // "hello" runs bin/hello; "bin/hello" as given
    const char* argv[MaxWords + 1];
    for (size_t i = 0; i < count; ++i) argv[i] = words[i];
    argv[count] = nullptr;
    long pid = user::spawn(program, argv);
    if (pid == -user::ENOENT) {
        user::say(words[0], ": no such program (try 'programs')\n");
        return;
    }
    if (pid < 0) {
        user::say(words[0], ": cannot run (error ", -pid, ")\n");
        return;
    }
    if (background) {
        user::say("[", pid, "] ", program, "\n");
        return;
    }
    int status = 0;
    if (user::wait4(pid, &status, 0) != pid) return;
    if (!user::exited_normally(status)) user::say("[", pid, " killed by signal ", user::terminating_signal(status), "]\n");
    else if (user::exit_code(status) != 0) user::say("[", pid, " exited with status ", user::exit_code(status), "]\n");
}

void reap_background() {
    int status;
    long pid;
    while ((pid = user::wait4(-1, &status, user::WaitNoHang)) > 0) {
        if (user::exited_normally(status)) user::say("[", pid, " done, status ", user::exit_code(status), "]\n");
        else user::say("[", pid, " killed by signal ", user::terminating_signal(status), "]\n");
    }
}

} // namespace

int main() {
    user::print("cokernel shell: type 'help'\n");
    char line[MaxLine];
    for (;;) {
        reap_background();
        user::print("$ ");
        size_t length;
        if (!read_line(line, length)) return 0;
        const char* words[MaxWords];
        size_t count = split(line, words);
        if (count == 0) continue;
        if (equal(words[0], "help")) help();
        else if (equal(words[0], "programs")) programs();
        else if (equal(words[0], "ps")) ps();
        else if (equal(words[0], "halt")) {
            // Only a shell init started may power off (docs/reliability.md); another says why not.
            long result = user::reboot(0xfee1dead, 672274793, 0x4321fedc);
            user::say("halt: error ", -result, "\n");
        }
        else if (equal(words[0], "exit")) return 0;
        else if (equal(words[0], "prio") && count == 3) {
            long result = user::set_priority(parse_number(words[1]), parse_number(words[2]));
            if (result < 0) user::say("prio: error ", -result, "\n");
            else user::say("prio: ", words[1], " now at priority ", result, "\n");
        } else if (equal(words[0], "kill") && count == 2) {
            long result = user::kill(parse_number(words[1]), 9);
            if (result < 0) user::say("kill: error ", -result, "\n");
        } else run(words, count);
    }
}
