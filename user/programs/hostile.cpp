// hostile: what a hostile multithreaded process does to the kernel (issue 14), one case per argument.
// Run by the kernel self-test `reliability`, which checks afterwards that the kernel survived, that
// every process was reaped and that free frames came back to their figure.
//
//   hostile wait-race   two threads in wait4(-1) at once reap the same children
//   hostile orphans     parents that exit without waiting leave children the kernel must reap
//   hostile exit        exits at once with status 0 (a quiet child)
//   hostile orphan-parent N   spawns N children of `hostile exit` and exits without waiting
#include "user/lib/print.hpp"

namespace {

int failures = 0;
void expect(const char* what, long got, long wanted) {
    if (got == wanted) return;
    user::say("hostile: FAILED ", what, ": got ", got, ", wanted ", wanted, "\n");
    ++failures;
}

bool same(const char* a, const char* b) {
    while (*a && *a == *b) ++a, ++b;
    return *a == *b;
}

constexpr size_t StackSize = 16 * 1024;

// A thread running `entry(argument)` on a fresh stack; join() waits for it and frees the stack.
struct Helper {
    int tid_word = 0;
    long stack = 0;
    bool start(int (*entry)(void*), void* argument) {
        stack = user::mmap(0, StackSize, user::PROT_READ | user::PROT_WRITE, user::MAP_PRIVATE | user::MAP_ANONYMOUS);
        if (stack < 0) return false;
        long tid = user::spawn_thread(entry, argument, reinterpret_cast<void*>(stack + StackSize), &tid_word);
        if (tid <= 0) {
            user::munmap(stack, StackSize);
            return false;
        }
        return true;
    }
    void join() {
        user::join_thread(&tid_word);
        user::munmap(stack, StackSize);
    }
};

const char* const quiet_child[] = {"bin/hostile", "exit", nullptr};

// --- wait-race: every child reaped exactly once, by one of the two waiters -----------------------

constexpr int WaitRounds = 100;
constexpr int ChildrenPerRound = 4;
constexpr int WaitHelpers = 2;  // with the main thread, three threads in wait4(-1) at once
long reaped_by_helper = 0;

int reap_all(long* count) {
    int status = 0;
    for (;;) {
        long pid = user::wait4(-1, &status, 0);
        if (pid == -user::ECHILD) return 0;
        if (pid <= 0) {
            user::say("hostile: FAILED wait4(-1): ", pid, "\n");
            ++failures;
            return 1;
        }
        if (!user::exited_normally(status) || user::exit_code(status) != 0) {
            user::say("hostile: FAILED child ", pid, " status ", static_cast<long>(status), "\n");
            ++failures;
        }
        __atomic_fetch_add(count, 1, __ATOMIC_RELAXED);
    }
}

int helper_reaps(void*) { return reap_all(&reaped_by_helper); }

void wait_race() {
    long total = 0, spawned = 0;
    for (int round = 0; round < WaitRounds && failures == 0; ++round) {
        for (int i = 0; i < ChildrenPerRound; ++i) {
            long child = user::spawn("bin/hostile", quiet_child);
            if (child > 0) ++spawned;
            else expect("spawn", child, 1);
        }
        Helper helpers[WaitHelpers];
        int started = 0;
        while (started < WaitHelpers && helpers[started].start(helper_reaps, nullptr)) ++started;
        expect("helper threads started", started, WaitHelpers);
        reap_all(&total);
        for (int i = 0; i < started; ++i) helpers[i].join();
    }
    expect("children reaped (by either thread)", total + reaped_by_helper, spawned);
    expect("nothing left to wait for", user::wait4(-1, nullptr, user::WaitNoHang), -user::ECHILD);
}

// --- orphans --------------------------------------------------------------------------------------

void orphan_parent(long children) {
    for (long i = 0; i < children; ++i) expect("spawn of an orphan", user::spawn("bin/hostile", quiet_child) > 0, 1);
    // Exits without waiting: the children, exited or not, are orphans now.
}

// More orphans than the process table has slots (256): unless the kernel reaps them, spawn fails.
constexpr int OrphanParents = 100;
constexpr int OrphansPerParent = 3;

void orphans() {
    const char* parent[] = {"bin/hostile", "orphan-parent", "3", nullptr};
    static_assert(OrphansPerParent == 3, "the argument above");
    for (int i = 0; i < OrphanParents && failures == 0; ++i) {
        long pid = user::spawn("bin/hostile", parent);
        if (pid <= 0) {
            expect("spawn of an orphans' parent", pid, 1);
            break;
        }
        int status = -1;
        expect("wait4 of the orphans' parent", user::wait4(pid, &status, 0), pid);
        expect("the parent's status", status, 0);
    }
    // The orphans are nobody's children, not this process's.
    expect("no child left to wait for", user::wait4(-1, nullptr, user::WaitNoHang), -user::ECHILD);
}

} // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        user::print("usage: hostile wait-race|orphans\n");
        return 2;
    }
    const char* which = argv[1];
    if (same(which, "exit")) return 0;
    if (same(which, "orphan-parent")) {
        orphan_parent(argc > 2 ? user::parse_decimal(argv[2]) : 1);
        return failures == 0 ? 0 : 1;
    }
    if (same(which, "wait-race")) wait_race();
    else if (same(which, "orphans")) orphans();
    else {
        user::say("hostile: unknown case ", which, "\n");
        return 2;
    }
    if (failures == 0) user::say("hostile ", which, ": ok\n");
    return failures == 0 ? 0 : 1;
}
