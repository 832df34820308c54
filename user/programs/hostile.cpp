// hostile: what a hostile multithreaded process does to the kernel (issue 14), one case per argument.
// Run by the kernel self-test `reliability`, which checks afterwards that the kernel survived, that
// every process was reaped and that free frames came back to their figure.
//
//   hostile wait-race   two threads in wait4(-1) at once reap the same children
//   hostile orphans     parents that exit without waiting leave children the kernel must reap
//   hostile mm-race     processes whose four threads race mmap/munmap/brk and kernel copies into one
//                       range of their address space
//   hostile mm-race-child     one such process
//   hostile exit        exits at once with status 0 (a quiet child)
//   hostile orphan-parent N   spawns N children of `hostile exit` and exits without waiting
//   hostile authority   run from the shell (under init): may not kill init nor power off, may kill
//                       its own child
//   hostile sleep       sleeps 60 s (a child to kill)
//   hostile kill-race   helper threads kill, prioritise and cap children while they exit and
//                       are reaped (by the main thread or a helper): the records must outlive each use
//   hostile kill-waits  kills a child blocked in each kind of wait (pipe read, pipe write, futex,
//                       wait4, nanosleep, an asynchronous call pending): each ends within 2 s
//   hostile block KIND READY   the child: writes a byte to fd READY, then blocks in KIND
//   hostile async-share 4 greedy children take their share (1,536) of the work executor; a modest
//                       one still gets its 64 calls; ring and slots count in the memory limit
//   hostile memory      with no explicit limit, an mmap hog stops at the default limit (the others
//                       unaffected), a thread hog at the limit its parent set, a pipe hog at its
//                       descriptors; who may set a limit; pipes charged to their creator
//   hostile hog KIND GO REPORT [hold]   the child: takes all the memory KIND (mmap, threads, pipes)
//                       allows once GO has a byte, reports on REPORT, exits at the next (or is killed)
//   hostile raise-limit the child that tries to raise its own limit; its pipes past it: -ENFILE
//   hostile reserve     two hogs take all they can and hold it: the second stops at the reserve
//   hostile map-reserve maps and touches 4 MiB (the self-test runs it while the hogs hold the memory)
//   hostile async-modest READY   the modest child (bin/asyncgreedy greedy READY: a greedy one):
//                       submits reads that wait until refused, writes the count on READY, waits to be killed
#include "user/lib/print.hpp"
#include "user/programs/async_submitter.hpp"

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

// --- mm-race: threads of one process change its address space at once -----------------------------

// A window of 8 MiB (four level-0 page tables) at a fixed address; every thread maps, unmaps and
// copies through the kernel into it at random, so table pages are made and freed under each other.
constexpr uintptr_t RaceWindow = 0x2000000000;
constexpr size_t RaceWindowPages = 2048;
constexpr int RaceThreads = 4;
constexpr int RaceOperations = 1500;
constexpr size_t PageBytes = 4096;

struct Random {
    uint64_t state;
    uint64_t next() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        return state;
    }
    uint64_t below(uint64_t bound) { return next() % bound; }
};

int race_pipes[RaceThreads][2];  // one per thread: its reads never wait for another's writes

int race_address_space(void* argument) {
    long index = reinterpret_cast<long>(argument);
    Random random{0x9e3779b97f4a7c15ull * static_cast<uint64_t>(index + 1)};
    uintptr_t break_start = static_cast<uintptr_t>(user::brk(0));
    for (int i = 0; i < RaceOperations; ++i) {
        uintptr_t page = RaceWindow + random.below(RaceWindowPages) * PageBytes;
        size_t pages = 1 + random.below(random.below(4) == 0 ? 300 : 8);
        if (page + pages * PageBytes > RaceWindow + RaceWindowPages * PageBytes) pages = 1;
        size_t bytes = pages * PageBytes;
        switch (random.below(7)) {
        case 0:
        case 1: {
            long got = user::mmap(page, bytes, user::PROT_READ | user::PROT_WRITE,
                                  user::MAP_PRIVATE | user::MAP_ANONYMOUS | user::MAP_FIXED);
            if (got != static_cast<long>(page) && got != -user::ENOMEM) expect("mmap MAP_FIXED", got, page);
            break;
        }
        case 2: {
            long got = user::mmap(page, bytes, user::PROT_READ, user::MAP_PRIVATE | user::MAP_ANONYMOUS |
                                  user::MAP_FIXED_NOREPLACE);
            if (got != static_cast<long>(page) && got != -user::EEXIST && got != -user::ENOMEM)
                expect("mmap MAP_FIXED_NOREPLACE", got, page);
            break;
        }
        case 3: {  // -ENOMEM when a split finds the region table (64) full
            long got = user::munmap(page, bytes);
            if (got != 0 && got != -user::ENOMEM) expect("munmap", got, 0);
            break;
        }
        case 4: (void)user::brk(break_start + random.below(256) * PageBytes); break;
        case 5: {  // the kernel writes into the window while others unmap it: a copy or -EFAULT
            user::Timespec* where = reinterpret_cast<user::Timespec*>(page + random.below(PageBytes / 16) * 16);
            long got = user::clock_gettime(1, where);
            if (got != 0 && got != -user::EFAULT) expect("clock_gettime into the window", got, 0);
            break;
        }
        case 6: {  // the kernel reads from the window (a pipe write) and writes into it (the read)
            int* ends = race_pipes[index];
            char* where = reinterpret_cast<char*>(page);
            long wrote = user::write(ends[1], where, 64 + random.below(3000));
            if (wrote < 0 && wrote != -user::EFAULT) expect("write from the window", wrote, 0);
            long pending = wrote > 0 ? wrote : 0;
            while (pending > 0) {  // never more than the pipe holds: a read never blocks
                long got = user::read(ends[0], where + random.below(PageBytes), pending);
                if (got == -user::EFAULT) {
                    char drain[256];
                    got = user::read(ends[0], drain, pending < 256 ? pending : 256);
                }
                if (got <= 0) {
                    expect("read back what was written", got, 1);
                    break;
                }
                pending -= got;
            }
            break;
        }
        }
    }
    return 0;
}

// One process: the threads race, then the region table must still be whole: the window unmaps,
// maps again in one piece, and reads back zeros where it was written.
int mm_race_child() {
    for (auto& ends : race_pipes)
        if (user::pipe2(ends) != 0) return 1;
    Helper helpers[RaceThreads - 1];
    int started = 0;
    for (; started < RaceThreads - 1; ++started)
        if (!helpers[started].start(race_address_space, reinterpret_cast<void*>(static_cast<long>(started + 1)))) break;
    expect("racing threads started", started, RaceThreads - 1);
    race_address_space(nullptr);
    for (int i = 0; i < started; ++i) helpers[i].join();
    expect("munmap of the window", user::munmap(RaceWindow, RaceWindowPages * PageBytes), 0);
    long again = user::mmap(RaceWindow, RaceWindowPages * PageBytes, user::PROT_READ | user::PROT_WRITE,
                            user::MAP_PRIVATE | user::MAP_ANONYMOUS | user::MAP_FIXED_NOREPLACE);
    expect("the window maps again in one piece", again, static_cast<long>(RaceWindow));
    if (again == static_cast<long>(RaceWindow)) {
        auto* words = reinterpret_cast<volatile long*>(RaceWindow);
        for (size_t i = 0; i < RaceWindowPages * PageBytes / sizeof(long); i += 512) {
            if (words[i] != 0) {
                expect("fresh memory is zero", words[i], 0);
                break;
            }
            words[i] = 1;
        }
    }
    return failures == 0 ? 0 : 1;
}

constexpr int RaceProcesses = 6;

void mm_race() {
    const char* child[] = {"bin/hostile", "mm-race-child", nullptr};
    for (int i = 0; i < RaceProcesses && failures == 0; ++i) {
        long pid = user::spawn("bin/hostile", child);
        if (pid <= 0) {
            expect("spawn of mm-race-child", pid, 1);
            break;
        }
        int status = -1;
        expect("wait4 mm-race-child", user::wait4(pid, &status, 0), pid);
        expect("mm-race-child's status", status, 0);
    }
}

// --- authority: who may kill and power off (docs/reliability.md) -----------------------------------

void sleep_long() {
    user::Timespec time{60, 0};
    (void)user::nanosleep(&time, nullptr);
}

void authority() {
    expect("kill(1, 9) of init", user::kill(1, 9), -user::EPERM);
    expect("kill(1, 0) of init", user::kill(1, 0), -user::EPERM);
    expect("power off by a grandchild of init", user::reboot(0xfee1dead, 672274793, 0x4321fedc), -user::EPERM);
    const char* child[] = {"bin/hostile", "sleep", nullptr};
    long pid = user::spawn("bin/hostile", child);
    expect("spawn of a sleeper", pid > 0, 1);
    if (pid <= 0) return;
    expect("kill of one's own child", user::kill(pid, 9), 0);
    int status = 0;
    expect("wait4 of the killed child", user::wait4(pid, &status, 0), pid);
    expect("the child ended by signal 9", user::exited_normally(status) ? 0 : user::terminating_signal(status), 9);
}

// --- kill-race: calls naming a child that exits and is reaped at the same moment ------------------

constexpr int KillRaceChildren = 200;
constexpr int KillRaceHelpers = 3;
long kill_race_target = 0;     // the newest child's pid (0: none yet)
int kill_race_done = 0;
long kill_race_reaped = 0;     // by helper 0's WNOHANG wait4
long kill_race_calls = 0;

void check_one_of(const char* what, long got, long a, long b, long c = 1) {
    if (got == a || got == b || got == c) return;
    expect(what, got, a);
}

int kill_race_helper(void* argument) {
    long index = reinterpret_cast<long>(argument);
    Random random{0x2545f4914f6cdd1dull * static_cast<uint64_t>(index + 1)};
    while (!__atomic_load_n(&kill_race_done, __ATOMIC_ACQUIRE)) {
        long pid = __atomic_load_n(&kill_race_target, __ATOMIC_RELAXED);
        if (pid == 0) continue;
        pid -= static_cast<long>(random.below(2));  // now and then the previous child: surely gone
        switch (random.below(6)) {
        case 0: check_one_of("kill(child, 9)", user::kill(pid, 9), 0, -user::ESRCH); break;
        case 1: check_one_of("kill(child, 0)", user::kill(pid, 0), 0, -user::ESRCH); break;
        case 2: {
            long got = user::set_priority(pid, static_cast<long>(random.below(17)));  // never below ours: it runs
            if (got < 0) check_one_of("set_priority(child)", got, -user::ESRCH, -user::ESRCH);
            break;
        }
        case 3: {
            long got = user::get_priority(pid);
            if (got < 0) check_one_of("get_priority(child)", got, -user::ESRCH, -user::ESRCH);
            break;
        }
        case 4:
            check_one_of("set_priority_cap(child)", user::set_priority_cap(pid, static_cast<long>(random.below(17))), 0,
                         -user::ESRCH, -user::EINVAL);
            break;
        case 5:
            if (index == 0) {
                long got = user::wait4(-1, nullptr, user::WaitNoHang);
                if (got > 0) __atomic_fetch_add(&kill_race_reaped, 1, __ATOMIC_RELAXED);
                else check_one_of("wait4(-1, WNOHANG) by a helper", got, 0, -user::ECHILD);
            }
            break;
        }
        __atomic_fetch_add(&kill_race_calls, 1, __ATOMIC_RELAXED);
    }
    return 0;
}

void kill_race() {
    Helper helpers[KillRaceHelpers];
    int started = 0;
    while (started < KillRaceHelpers &&
           helpers[started].start(kill_race_helper, reinterpret_cast<void*>(static_cast<long>(started))))
        ++started;
    expect("kill-race helpers started", started, KillRaceHelpers);
    long spawned = 0, reaped = 0;
    for (int i = 0; i < KillRaceChildren && failures == 0; ++i) {
        long pid = user::spawn("bin/hostile", quiet_child);
        if (pid <= 0) {
            expect("spawn", pid, 1);
            break;
        }
        ++spawned;
        __atomic_store_n(&kill_race_target, pid, __ATOMIC_RELAXED);
        int status = 0;
        long got = user::wait4(-1, &status, 0);  // this child or one a helper left; -ECHILD: the helper had it
        if (got > 0) ++reaped;
        else check_one_of("wait4(-1)", got, -user::ECHILD, -user::ECHILD);
        if (got > 0 && !(user::exited_normally(status) ? user::exit_code(status) == 0 : user::terminating_signal(status) == 9))
            expect("a child's status (0 or signal 9)", status, 0);
    }
    __atomic_store_n(&kill_race_done, 1, __ATOMIC_RELEASE);
    for (int i = 0; i < started; ++i) helpers[i].join();
    int status = 0;
    while (user::wait4(-1, &status, 0) > 0) ++reaped;
    expect("every child reaped once", reaped + kill_race_reaped, spawned);
    user::say("hostile kill-race: ", spawned, " children, ", kill_race_calls, " calls naming them\n");
}

// --- kill-waits: kill reaches a process whatever it waits in (registered waits) -------------------

const char* const wait_kinds[] = {"pipe-read", "pipe-write", "futex", "wait4", "sleep", "async"};

char* decimal(long value, char* buffer) {  // buffer of 24
    char digits[24];
    int n = 0;
    do digits[n++] = static_cast<char>('0' + value % 10), value /= 10;
    while (value);
    for (int i = 0; i < n; ++i) buffer[i] = digits[n - 1 - i];
    buffer[n] = '\0';
    return buffer;
}

uint64_t now_ns() {
    user::Timespec t{};
    (void)user::clock_gettime(1, &t);
    return static_cast<uint64_t>(t.seconds) * 1000000000ull + static_cast<uint64_t>(t.nanoseconds);
}

int block_word = 0;


// The child: says it is about to block (a byte on `ready`), then blocks until killed.
int block(const char* kind, int ready) {
    int ends[2];
    if (user::pipe2(ends) != 0) return 1;
    char byte = 'r';
    static char buffer[8192];
    long ready_written = user::write(ready, &byte, 1);
    if (ready_written != 1) return 1;
    if (same(kind, "pipe-read")) (void)user::read(ends[0], buffer, 1);           // its own write end stays open
    else if (same(kind, "pipe-write")) {
        for (;;) (void)user::write(ends[1], buffer, sizeof(buffer));            // fills, then waits for room
    } else if (same(kind, "futex")) (void)user::futex_wait(&block_word, 0);
    else if (same(kind, "wait4")) {
        // A grandchild that reads what this process never writes; it ends when this one (holding the
        // write end) is gone: end of file.
        char in[24], out[24];
        const char* grandchild[] = {"bin/hostile", "eof", decimal(ends[0], in), decimal(ends[1], out), nullptr};
        if (user::spawn("bin/hostile", grandchild) <= 0) return 1;
        (void)user::wait4(-1, nullptr, 0);
    } else if (same(kind, "sleep")) sleep_long();
    else if (same(kind, "async")) {
        // The runtime set the ring up before main (64 slots): -EEXIST here, its ring is the one.
        long ring = user::async_setup(16, 4);
        if (ring == -user::EEXIST) ring = static_cast<long>(cokernel::abi::UserCompletionRingAddress);
        long submitted = ring < 0 ? ring : hostile::submit_async(63, ends[0], reinterpret_cast<long>(buffer), 1, 7);
        uint32_t in_flight = ring < 0 ? 0 : reinterpret_cast<cokernel::abi::CompletionRing*>(ring)->in_flight;
        if (ring < 0 || submitted != 0 || in_flight != 1) {  // the read must be pending
            user::say("hostile: FAILED block async: setup ", ring, ", submit ", submitted, ", in flight ",
                      static_cast<long>(in_flight), "\n");
            return 1;
        }
        sleep_long();
    }
    return 3;  // woken without being killed: the parent sees status 3, not signal 9
}

void kill_waits() {
    int ready[2];
    if (user::pipe2(ready) != 0) {
        expect("pipe2", 1, 0);
        return;
    }
    char ready_text[24];
    for (const char* kind : wait_kinds) {
        const char* child[] = {"bin/hostile", "block", kind, decimal(ready[1], ready_text), nullptr};
        long pid = user::spawn("bin/hostile", child);
        if (pid <= 0) {
            expect("spawn of a blocking child", pid, 1);
            continue;
        }
        char byte = 0;
        expect("the child's ready byte", user::read(ready[0], &byte, 1), 1);
        user::Timespec settle{0, 50 * 1000 * 1000};  // time to block (if not, kill still ends it)
        (void)user::nanosleep(&settle, nullptr);
        uint64_t start = now_ns();
        expect("kill of a blocked child", user::kill(pid, 9), 0);
        int status = 0;
        expect("wait4 of the killed child", user::wait4(pid, &status, 0), pid);
        uint64_t took_ms = (now_ns() - start) / 1000000;
        if (user::exited_normally(status) || user::terminating_signal(status) != 9) {
            user::say("hostile: FAILED kill-waits ", kind, ": status ", static_cast<long>(status), "\n");
            ++failures;
        }
        if (took_ms > 2000) {
            user::say("hostile: FAILED kill-waits ", kind, ": ended after ", static_cast<long>(took_ms), " ms\n");
            ++failures;
        }
        user::say("hostile kill-waits: ", kind, " ended in ", static_cast<long>(took_ms), " ms\n");
    }
    user::close(ready[0]);
    user::close(ready[1]);
}

// The wait4 case's grandchild: closes its copy of the write end, reads until end of file.
int eof(int read_end, int write_end) {
    user::close(write_end);
    char byte;
    while (user::read(read_end, &byte, 1) > 0) {
    }
    return 0;
}

// --- async-share: one process's share of the work executor ----------------------------------

constexpr long GreedyShare = 1536;  // kernel/syscall/async_call.hpp ExecutorShare
constexpr int GreedyProcesses = 4;


void async_share() {
    int ready[2];
    if (user::pipe2(ready) != 0) return expect("pipe2", 1, 0);
    char ready_text[24];
    long pids[GreedyProcesses + 1];
    int started = 0;
    for (int i = 0; i <= GreedyProcesses; ++i) {
        const char* program = i < GreedyProcesses ? "bin/asyncgreedy" : "bin/hostile";
        const char* child[] = {program, i < GreedyProcesses ? "greedy" : "async-modest", decimal(ready[1], ready_text),
                               nullptr};
        pids[i] = user::spawn(program, child);
        if (pids[i] <= 0) {
            expect("spawn of a submitter", pids[i], 1);
            break;
        }
        ++started;
        long count = 0;  // one at a time: the greedy ones have all their calls in before the modest one
        expect("a submitter's report", user::read(ready[0], &count, sizeof(count)), sizeof(count));
        if (i < GreedyProcesses) expect("a greedy process gets its share, no more", count, GreedyShare);
        else expect("a modest process still gets its 64 calls", count, 64);
    }
    for (int i = 0; i < started; ++i) {
        expect("kill of a submitter", user::kill(pids[i], 9), 0);
        int status = 0;
        expect("wait4 of a submitter", user::wait4(pids[i], &status, 0), pids[i]);
    }
    const char* account[] = {"bin/asyncgreedy", "account", nullptr};
    long pid = user::spawn("bin/asyncgreedy", account);
    int status = -1;
    expect("wait4 of async-account", user::wait4(pid, &status, 0), pid);
    expect("async-account's status (ring and slots counted in the limit)", status, 0);
    user::close(ready[0]);
    user::close(ready[1]);
}

// --- memory: the default limit, the parent's say, charged pipes (docs/reliability.md) -----------

constexpr long Page = 4096;
constexpr long PipeBytes = 2 * Page;  // a pipe's record and buffer: one heap block of two frames
constexpr long RlimitAddressSpace = 9;
constexpr long Unlimited = -1;

long memory_limit() {
    long limit[2] = {0, 0};
    long got = user::prlimit64(0, RlimitAddressSpace, nullptr, limit);
    return got < 0 ? got : limit[0];
}

// What a hog reports on its report pipe once it has taken all it could.
struct HogReport {
    long taken;   // mmap: bytes mapped; threads: threads made; pipes: pipes made
    long error;   // the call that stopped it
    long usage;   // memory_usage() then
    long limit;   // its limit then (prlimit64 RLIMIT_AS)
};

int park_word = 0;
int parked_tid = 0;
int park(void*) {
    for (;;) user::futex_wait(&park_word, 0);
}

// The child: waits for a byte on `go`, takes all the memory KIND allows (mmap, threads, pipes),
// reports, then waits for a second byte and exits 0 (or, `hold`, waits to be killed).
int hog(const char* kind, int go, int report, bool hold) {
    char byte;
    if (user::read(go, &byte, 1) != 1) return 10;
    HogReport r{0, 0, 0, memory_limit()};
    if (same(kind, "mmap")) {
        // Large requests first, halved on each refusal down to one page: the usage ends within a
        // page (and the tables of the last request) of where it was stopped.
        for (long chunk = 16l << 20; chunk >= Page;) {
            long got = user::mmap(0, chunk, user::PROT_READ | user::PROT_WRITE, user::MAP_PRIVATE | user::MAP_ANONYMOUS);
            if (got < 0) {
                r.error = got;
                chunk /= 2;
            } else {
                r.taken += chunk;
            }
        }
    } else if (same(kind, "threads")) {
        for (;;) {
            long stack = user::mmap(0, Page, user::PROT_READ | user::PROT_WRITE, user::MAP_PRIVATE | user::MAP_ANONYMOUS);
            if (stack < 0) {
                r.error = stack;
                break;
            }
            long tid = user::spawn_thread(park, nullptr, reinterpret_cast<void*>(stack + Page), &parked_tid);
            if (tid <= 0) {
                r.error = tid;
                user::munmap(stack, Page);
                break;
            }
            ++r.taken;
        }
    } else if (same(kind, "pipes")) {
        for (;;) {
            int ends[2];
            long got = user::pipe2(ends);
            if (got != 0) {
                r.error = got;
                break;
            }
            ++r.taken;
        }
    }
    r.usage = user::memory_usage();
    if (user::write(report, &r, sizeof(r)) != sizeof(r)) return 11;
    if (hold) {
        for (;;) user::futex_wait(&park_word, 0);
    }
    if (user::read(go, &byte, 1) != 1) return 12;
    return 0;
}

struct Hog {
    long pid = -1;
    int go[2] = {-1, -1};
    int report[2] = {-1, -1};
    HogReport result{};

    // Spawns `hostile hog KIND GO REPORT [hold]`; it waits for go().
    bool spawn(const char* kind, bool hold = false) {
        if (user::pipe2(go) != 0 || user::pipe2(report) != 0) return false;
        char go_text[24], report_text[24];
        const char* child[] = {"bin/hostile", "hog", kind, decimal(go[0], go_text), decimal(report[1], report_text),
                               hold ? "hold" : nullptr, nullptr};
        pid = user::spawn("bin/hostile", child);
        return pid > 0;
    }
    // Lets it take memory; waits for its report.
    bool run() {
        char byte = 'g';
        if (user::write(go[1], &byte, 1) != 1) return false;
        return user::read(report[0], &result, sizeof(result)) == sizeof(result);
    }
    // Lets it exit; its status.
    int finish() {
        char byte = 'x';
        (void)user::write(go[1], &byte, 1);
        int status = -1;
        expect("wait4 of a hog", user::wait4(pid, &status, 0), pid);
        close_pipes();
        return status;
    }
    void close_pipes() {
        const int fds[] = {go[0], go[1], report[0], report[1]};
        for (int fd : fds)
            if (fd >= 0) user::close(fd);
    }
};

void say_report(const char* what, const HogReport& r) {
    user::say("hostile memory: ", what, ": took ", r.taken, ", stopped by ", r.error, ", usage ", r.usage, " of ",
              r.limit, "\n");
}

void memory() {
    const long limit = memory_limit();
    expect("a process the kernel started has the default limit (not unlimited)", limit > 0 && limit != Unlimited, 1);
    const long usage_before = user::memory_usage();

    // mmap until refused, with no explicit limit: it stops at the default (inherited) limit.
    Hog mapper;
    expect("spawn of an mmap hog", mapper.spawn("mmap"), 1);
    expect("the mmap hog's report", mapper.run(), 1);
    say_report("mmap, default limit", mapper.result);
    expect("the hog inherited its parent's limit", mapper.result.limit, limit);
    expect("the hog's mmap past its limit", mapper.result.error, -user::ENOMEM);
    expect("the hog stopped within a page of its limit",
           mapper.result.usage + Page > limit && mapper.result.usage <= limit + 16 * Page, 1);
    // Meanwhile the others are unaffected: this process still maps memory and spawns.
    long four = user::mmap(0, 4l << 20, user::PROT_READ | user::PROT_WRITE, user::MAP_PRIVATE | user::MAP_ANONYMOUS);
    expect("mmap of 4 MiB beside the hog", four > 0, 1);
    if (four > 0) {
        static_cast<volatile char*>(reinterpret_cast<char*>(four))[(4l << 20) - 1] = 1;
        expect("munmap", user::munmap(four, 4l << 20), 0);
    }
    long quiet = user::spawn("bin/hostile", quiet_child);
    int status = -1;
    expect("wait4 of a child spawned beside the hog", user::wait4(quiet, &status, 0), quiet);
    expect("its status", status, 0);
    expect("the mmap hog's status", mapper.finish(), 0);

    // Threads until refused, under a limit the parent sets (lower than its own).
    Hog threads;
    expect("spawn of a thread hog", threads.spawn("threads"), 1);
    // 4 MiB: 124 threads, so that every kernel stack stays in the first 256 slots of the stack
    // area, whose tables are made at boot (a later slot's table is kept: the self-test's free-frame
    // figure would change by one).
    constexpr long ThreadLimit = 4l << 20;
    expect("set_child_memory_limit of a child", user::set_child_memory_limit(threads.pid, ThreadLimit), 0);
    expect("the thread hog's report", threads.run(), 1);
    say_report("threads, limit set by the parent", threads.result);
    expect("the limit the parent set", threads.result.limit, ThreadLimit);
    expect("the thread hog stopped with -ENOMEM", threads.result.error, -user::ENOMEM);
    expect("the thread hog made over a hundred threads", threads.result.taken > 100, 1);
    expect("the thread hog's usage within its limit", threads.result.usage <= ThreadLimit + 16 * Page, 1);
    expect("the thread hog's status", threads.finish(), 0);

    // Pipes until refused, with no explicit limit: the descriptor table (2,048) stops it first.
    Hog pipes;
    expect("spawn of a pipe hog", pipes.spawn("pipes"), 1);
    expect("the pipe hog's report", pipes.run(), 1);
    say_report("pipes, default limit", pipes.result);
    expect("the pipe hog stopped with -EMFILE", pipes.result.error, -user::EMFILE);
    expect("the pipe hog's pipes", pipes.result.taken > 500, 1);
    expect("the pipe hog's status", pipes.finish(), 0);

    // Who may set a limit: a parent, within its own; its child cannot raise it.
    expect("set_child_memory_limit of a reaped child", user::set_child_memory_limit(mapper.pid, limit), -user::ESRCH);
    Hog child;
    expect("spawn of a limit child", child.spawn("none"), 1);
    expect("set_child_memory_limit above the parent's own", user::set_child_memory_limit(child.pid, limit + Page),
           -user::EPERM);
    expect("set_child_memory_limit(0)", user::set_child_memory_limit(child.pid, 0), -user::EINVAL);
    expect("set_child_memory_limit of oneself (not one's child)", user::set_child_memory_limit(user::getpid(), Page),
           -user::EPERM);
    expect("set_child_memory_limit of a child, lower", user::set_child_memory_limit(child.pid, limit / 2), 0);
    expect("set_child_memory_limit of a child, back up to one's own", user::set_child_memory_limit(child.pid, limit), 0);
    expect("set_child_memory_limit of a child, lower again", user::set_child_memory_limit(child.pid, limit / 4), 0);
    expect("the limit child's report", child.run(), 1);
    expect("the limit child sees the limit its parent set", child.result.limit, limit / 4);
    expect("the limit child's status", child.finish(), 0);
    const char* raiser[] = {"bin/hostile", "raise-limit", nullptr};
    long pid = user::spawn("bin/hostile", raiser);
    status = -1;
    expect("wait4 of raise-limit", user::wait4(pid, &status, 0), pid);
    expect("raise-limit's status (it cannot raise its limit)", status, 0);

    // Pipes are charged to their creator: visible in memory_usage, until the pipe is freed, even
    // when its ends went to a child; past the limit pipe2 gives -ENFILE.
    const long usage = user::memory_usage();
    int ends[2];
    expect("pipe2", user::pipe2(ends), 0);
    expect("memory_usage counts the pipe", user::memory_usage() - usage, PipeBytes);
    char in[24], out[24];
    const char* reader[] = {"bin/hostile", "eof", decimal(ends[0], in), decimal(ends[1], out), nullptr};
    long reader_pid = user::spawn("bin/hostile", reader);
    expect("spawn of a reader holding the pipe", reader_pid > 0, 1);
    user::close(ends[0]);
    expect("the pipe stays charged while the child holds it", user::memory_usage() - usage, PipeBytes);
    user::close(ends[1]);  // the reader sees end of file and exits
    status = -1;
    expect("wait4 of the reader", user::wait4(reader_pid, &status, 0), reader_pid);
    expect("memory_usage back to its figure once the pipe is freed", user::memory_usage(), usage);
    // A socket's record is charged the same way (when the kernel has a network).
    const int socket_types[] = {1, 2};  // SOCK_STREAM, SOCK_DGRAM
    for (int type : socket_types) {
        long fd = user::socket(2, type);  // AF_INET
        if (fd == -user::ENETDOWN) break;
        expect("socket", fd >= 0, 1);
        if (fd < 0) break;
        long grown = user::memory_usage() - usage;
        expect("memory_usage counts the socket's record (a heap block)", grown > 0 && grown <= 4096, 1);
        user::close(fd);
        expect("memory_usage back to its figure once the socket is freed", user::memory_usage(), usage);
    }
    expect("memory_usage back to its figure after the hogs", usage, usage_before);
}

// A child that tries to raise its own limit every way it can.
int raise_limit() {
    const long limit = memory_limit();
    expect("set_memory_limit above the limit", user::set_memory_limit(limit + Page), -user::EPERM);
    long higher[2] = {limit + Page, limit + Page};
    expect("prlimit64 RLIMIT_AS above the limit", user::prlimit64(0, RlimitAddressSpace, higher, nullptr), -user::EPERM);
    long unlimited[2] = {Unlimited, Unlimited};
    expect("prlimit64 RLIMIT_AS unlimited", user::prlimit64(0, RlimitAddressSpace, unlimited, nullptr), -user::EPERM);
    expect("set_child_memory_limit of its parent", user::set_child_memory_limit(user::getppid(), limit + Page),
           -user::EPERM);
    long lower[2] = {limit - 64 * Page, limit - 64 * Page};
    expect("prlimit64 RLIMIT_AS lower", user::prlimit64(0, RlimitAddressSpace, lower, nullptr), 0);
    expect("the lowered limit", memory_limit(), limit - 64 * Page);
    expect("set_memory_limit back up", user::set_memory_limit(limit), -user::EPERM);
    // Its own limit bounds its pipes: two fit, the third gives -ENFILE, and nothing is lost.
    const long usage = user::memory_usage();
    expect("set_memory_limit to room for two pipes", user::set_memory_limit(usage + 2 * PipeBytes + Page), 0);
    int a[2], b[2], c[2];
    expect("pipe2 within the limit", user::pipe2(a), 0);
    expect("pipe2 within the limit", user::pipe2(b), 0);
    expect("pipe2 past the limit", user::pipe2(c), -user::ENFILE);
    expect("memory_usage with two pipes", user::memory_usage(), usage + 2 * PipeBytes);
    const int fds[] = {a[0], a[1], b[0], b[1]};
    for (int fd : fds) user::close(fd);
    expect("memory_usage after closing them", user::memory_usage(), usage);
    expect("pipe2 again after closing", user::pipe2(c), 0);
    return failures == 0 ? 0 : 1;
}

// --- reserve: processes that take everything leave the reserve ---------------------------------

// Two hogs with the default limit (half of RAM each) hold what they took until killed: the first
// stops at its limit, the second at the reserve, short of its limit; this process cannot take the
// reserve either. It exits leaving them: the self-test checks the reserve, spawns as init would,
// then kills them.
void reserve() {
    Hog first, second;
    expect("spawn of the first hog", first.spawn("mmap", true), 1);
    expect("the first hog's report", first.run(), 1);
    say_report("reserve, first hog", first.result);
    expect("the first hog stopped at its limit", first.result.usage + Page > first.result.limit, 1);
    expect("spawn of the second hog", second.spawn("mmap", true), 1);
    expect("the second hog's report", second.run(), 1);
    say_report("reserve, second hog", second.result);
    expect("the second hog's mmap past the free memory", second.result.error, -user::ENOMEM);
    expect("the second hog stopped by the reserve, short of its limit",
           second.result.usage < second.result.limit - (1l << 20), 1);
    expect("mmap of 64 KiB in the reserve by a process that is not init's",
           user::mmap(0, 16 * Page, user::PROT_READ | user::PROT_WRITE, user::MAP_PRIVATE | user::MAP_ANONYMOUS),
           -user::ENOMEM);
    first.close_pipes();
    second.close_pipes();
}

} // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        user::print("usage: hostile wait-race|orphans|mm-race|authority|kill-race|kill-waits|async-share|memory|reserve\n");
        return 2;
    }
    const char* which = argv[1];
    if (same(which, "exit")) return 0;
    if (same(which, "sleep")) {
        sleep_long();
        return 0;
    }
    if (same(which, "block") && argc > 3) return block(argv[2], static_cast<int>(user::parse_decimal(argv[3])));
    if (same(which, "eof") && argc > 3)
        return eof(static_cast<int>(user::parse_decimal(argv[2])), static_cast<int>(user::parse_decimal(argv[3])));
    if (same(which, "async-modest") && argc > 2) return hostile::async_submitter(static_cast<int>(user::parse_decimal(argv[2])), 64);
    if (same(which, "mm-race-child")) return mm_race_child();
    if (same(which, "hog") && argc > 4)
        return hog(argv[2], static_cast<int>(user::parse_decimal(argv[3])), static_cast<int>(user::parse_decimal(argv[4])),
                   argc > 5 && same(argv[5], "hold"));
    if (same(which, "raise-limit")) return raise_limit();
    if (same(which, "map-reserve")) {  // maps, touches and unmaps 4 MiB: 0 if it could
        long got = user::mmap(0, 4l << 20, user::PROT_READ | user::PROT_WRITE, user::MAP_PRIVATE | user::MAP_ANONYMOUS);
        if (got < 0) return 1;
        static_cast<volatile char*>(reinterpret_cast<char*>(got))[(4l << 20) - 1] = 1;
        return user::munmap(got, 4l << 20) == 0 ? 0 : 2;
    }
    if (same(which, "orphan-parent")) {
        orphan_parent(argc > 2 ? user::parse_decimal(argv[2]) : 1);
        return failures == 0 ? 0 : 1;
    }
    if (same(which, "wait-race")) wait_race();
    else if (same(which, "orphans")) orphans();
    else if (same(which, "mm-race")) mm_race();
    else if (same(which, "authority")) authority();
    else if (same(which, "kill-race")) kill_race();
    else if (same(which, "kill-waits")) kill_waits();
    else if (same(which, "async-share")) async_share();
    else if (same(which, "memory")) memory();
    else if (same(which, "reserve")) reserve();
    else {
        user::say("hostile: unknown case ", which, "\n");
        return 2;
    }
    if (failures == 0) user::say("hostile ", which, ": ok\n");
    return failures == 0 ? 0 : 1;
}
