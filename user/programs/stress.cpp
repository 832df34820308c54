// stress: a seeded, syzkaller-style fuzzer of the system calls (issue 14, docs/reliability.md,
// "The fuzzer"). Run by the kernel self-test `stress` (and so by `make fuzz`), or by hand:
//
//   stress SEED [CALLS [THREADS]]   THREADS worker threads (default 4, at most 8) each make CALLS
//                                   random calls (default 2000) on objects they share
//   stress child MODE [ARG]         a child process the workers spawn (exit, sleep, spin, fault,
//                                   threads, orphan), not meant to be run by hand
//
// Every worker draws from its own SplitMix64 sequence, seeded from SEED and its index, so one seed
// always asks for the same calls (the interleaving of the threads, and so some results, differ from
// run to run). The calls are related: they name the same objects, so that they race with each other
// in the kernel:
//
//   the window     512 pages at 0x2000000000: mmap (MAP_FIXED, NOREPLACE), munmap, mprotect,
//                  madvise, brk, and the kernel's copies into and out of it (read, write, readv,
//                  writev, clock_gettime, getrandom, uname, process_list, futex, asynchronous reads)
//   the pipes      descriptors in a shared table: pipe2, read, write, close, dup, dup3, fcntl, ioctl
//   the children   spawn (good and bad), kill, wait4, set_priority, get_priority, set_priority_cap
//   the futexes    four shared words: wait (with and without a timeout, odd values, bitsets), wake
//   the ring       asynchronous read/write/nanosleep with odd tokens, async_flush, async_setup
//   threads        clone of short-lived threads, clone with bad arguments, tkill, user interrupts
//
// with hostile arguments: null, unaligned, kernel and read-only addresses, huge and zero lengths,
// bad descriptors, unknown flags. A result is only checked to be sane: 0..n, or one of the errnos
// docs/syscalls.md gives for that call. Anything else is a failure, printed as
// `stress: FAILED seed S thread T call N: KIND(a, b, c) = R` (the process exits 1).
//
// The main thread does no calls of its own: it watches. When no worker has made progress for
// StallMilliseconds (all blocked: reads of empty pipes, writes to full ones, waits), it breaks the
// stall as a hostile program would: kills the children, closes every descriptor above 2 and wakes
// the futex words. Afterwards it checks that the process still works: the window maps again in one
// piece and reads zeros, a fresh pipe carries bytes, a child runs. It prints the seed first and, at
// the end, the calls made per kind and `stress: seed S done, N failures` (exit status 1 if N > 0).
#include "user/programs/async_submitter.hpp"  // before format.hpp: <cerrno> makes the E names macros
#include "user/lib/format.hpp"
#include "user/lib/print.hpp"

namespace {

// --- randomness -------------------------------------------------------------------------------------

struct Random {
    uint64_t state;
    uint64_t next() {  // SplitMix64
        uint64_t z = (state += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
    }
    uint64_t below(uint64_t bound) { return bound == 0 ? 0 : next() % bound; }
    bool one_in(uint64_t n) { return below(n) == 0; }
};

// --- what is shared ---------------------------------------------------------------------------------

constexpr uintptr_t Window = 0x2000000000;
constexpr size_t WindowPages = 512;
constexpr size_t PageBytes = 4096;
constexpr size_t WindowBytes = WindowPages * PageBytes;
constexpr uintptr_t UserEnd = 0x4000000000;
constexpr uintptr_t TopGiB = 0x3fc0000000;
constexpr uintptr_t PriorityTable = 0x3ff7000000;
constexpr int MaxWorkers = 8;
constexpr int SharedDescriptors = 8;
constexpr int FutexWords = 4;
constexpr int MaxChildren = 32;
constexpr long LiveChildrenBound = 6;
constexpr long StallMilliseconds = 300;

int shared_fds[SharedDescriptors];
int futex_words[FutexWords];
long child_pids[MaxChildren];
long live_children = 0;
long worker_tids[MaxWorkers];
long progress[MaxWorkers];  // calls made, per worker: the watcher sees stalls
int current_kind[MaxWorkers];  // the kind of call each worker is in (the watcher names a stuck one)
int failures = 0;
uint64_t the_seed = 0;
uintptr_t break_start = 0;
// A buffer that is always writable (shared: its contents are noise), ValidBytes followed by a
// PROT_NONE reservation of GuardBytes, so that a copy of a huge length into it ends in the guard
// rather than in another mapping of this process.
constexpr size_t ValidBytes = 64 * 1024;
constexpr size_t GuardBytes = (size_t{1} << 32) + 64 * 1024;
char* valid_buffer = nullptr;

long load(const long& word) { return __atomic_load_n(&word, __ATOMIC_RELAXED); }
int load(const int& word) { return __atomic_load_n(&word, __ATOMIC_RELAXED); }

// --- the kinds of call, counted ---------------------------------------------------------------------

#define STRESS_KINDS(X)                                                                                   \
    X(MmapFixed, "mmap-fixed") X(MmapNoReplace, "mmap-noreplace") X(MmapHint, "mmap-hint")               \
    X(MmapBad, "mmap-bad") X(Munmap, "munmap") X(Mprotect, "mprotect") X(Madvise, "madvise") X(Brk, "brk") \
    X(ClockGettime, "clock_gettime") X(Getrandom, "getrandom") X(Uname, "uname")                          \
    X(ProcessList, "process_list") X(ListPrograms, "list_programs") X(Pipe2, "pipe2") X(Read, "read")    \
    X(Write, "write") X(Readv, "readv") X(Writev, "writev") X(Close, "close") X(Dup, "dup")               \
    X(Dup3, "dup3") X(Fcntl, "fcntl") X(Ioctl, "ioctl") X(Spawn, "spawn") X(SpawnBad, "spawn-bad")       \
    X(Kill, "kill") X(Wait4, "wait4") X(SetPriority, "set_priority") X(GetPriority, "get_priority")      \
    X(SetPriorityCap, "set_priority_cap") X(FutexWait, "futex-wait") X(FutexWake, "futex-wake")          \
    X(FutexBad, "futex-bad") X(AsyncSubmit, "async-submit") X(AsyncFlush, "async_flush")                 \
    X(AsyncSetup, "async_setup") X(Thread, "thread") X(CloneBad, "clone-bad") X(Tkill, "tkill")          \
    X(RaiseInterrupt, "raise_user_interrupt") X(Nanosleep, "nanosleep") X(ClockNanosleep, "clock_nanosleep") \
    X(Execve, "execve") X(MemoryLimit, "set_memory_limit") X(Misc, "misc")

enum Kind : int {
#define STRESS_KIND_ENUM(name, text) name,
    STRESS_KINDS(STRESS_KIND_ENUM)
#undef STRESS_KIND_ENUM
    KindCount
};
const char* const KindNames[KindCount] = {
#define STRESS_KIND_NAME(name, text) text,
    STRESS_KINDS(STRESS_KIND_NAME)
#undef STRESS_KIND_NAME
};

long calls_of[KindCount];   // summed over the workers at the end
long errors_of[KindCount];  // results that were a (sane) errno

// --- one worker's state -----------------------------------------------------------------------------

struct Worker {
    int index;
    Random random;
    long calls = 0;
    long nested = 0;  // > 0 inside a short-lived thread's calls
};

bool is_errno(long result, long error) { return result == -error; }

template <typename... Errors>
bool one_of(long result, Errors... errors) {
    return ((result == -static_cast<long>(errors)) || ...);
}

void check(Worker& w, Kind kind, long result, bool sane, long a = 0, long b = 0, long c = 0) {
    __atomic_fetch_add(&calls_of[kind], 1, __ATOMIC_RELAXED);
    if (result < 0 && result >= -4095) __atomic_fetch_add(&errors_of[kind], 1, __ATOMIC_RELAXED);
    if (sane) return;
    __atomic_fetch_add(&failures, 1, __ATOMIC_RELAXED);
    user::println("stress: FAILED seed {} thread {} call {}: {}({:#x}, {:#x}, {:#x}) = {}", the_seed, w.index, w.calls,
                  KindNames[kind], a, b, c, result);
}

// Checks `result` in [0, most] (a negative `most`, a huge length: no bound) or one of `errors`.
template <typename... Errors>
void expect(Worker& w, Kind kind, long result, long most, long a, long b, long c, Errors... errors) {
    if (most < 0) most = 0x7fffffffffffffff;
    check(w, kind, result, (result >= 0 && result <= most) || one_of(result, errors...), a, b, c);
}

// --- hostile arguments ------------------------------------------------------------------------------

uintptr_t window_page(Worker& w) { return Window + w.random.below(WindowPages) * PageBytes; }

size_t window_pages(Worker& w, uintptr_t page) {
    size_t pages = 1 + w.random.below(w.random.one_in(4) ? 96 : 6);
    if (page + pages * PageBytes > Window + WindowBytes) pages = (Window + WindowBytes - page) / PageBytes;
    return pages;
}

// A pointer the kernel must copy through or refuse: in the window (mapped or not, sometimes
// unaligned), valid, null, low, read-only (the program's text, the priority table), kernel, the
// end of the user half, the top of the address range.
uintptr_t pointer(Worker& w) {
    switch (w.random.below(12)) {
    case 0: return 0;
    case 1: return 0x1000 + w.random.below(0xf000);
    case 2: return reinterpret_cast<uintptr_t>(&valid_buffer[w.random.below(64)]);
    case 3: return reinterpret_cast<uintptr_t>(&check);  // the program's text: read-only
    case 4: return PriorityTable + w.random.below(64) * 8;
    case 5: return 0xffffffc000000000ull + w.random.below(1 << 20) * 8;  // the direct map
    case 6: return 0xffffffff80200000ull;                                 // the kernel image
    case 7: return UserEnd - 8 * (1 + w.random.below(4));
    case 8: return ~uintptr_t{0} - w.random.below(64);
    default: return window_page(w) + (w.random.one_in(3) ? w.random.below(PageBytes) : PageBytes - 16 * (1 + w.random.below(8)));
    }
}

// A pointer the kernel cannot read at all (for a time to sleep: memory the workers scribble on
// could hold years; the program's text is readable too).
uintptr_t unreadable(Worker& w) {
    switch (w.random.below(5)) {
    case 0: return 0;
    case 1: return 0x1000 + w.random.below(0xf000);
    case 2: return 0xffffffc000000000ull + w.random.below(1 << 20) * 8;
    case 3: return UserEnd - 8;
    default: return ~uintptr_t{0} - 15;
    }
}

size_t length(Worker& w) {
    switch (w.random.below(10)) {
    case 0: return 0;
    case 1: return 1;
    case 2: return 4096;
    case 3: return 4097;
    case 4: return 65536;
    case 5: return size_t{1} << 31;
    case 6: return ~size_t{0};
    default: return 1 + w.random.below(3000);
    }
}

// Descriptors: the shared ones mostly, never 0..2 (the console: reads would wait for a person).
int descriptor(Worker& w) {
    switch (w.random.below(10)) {
    case 0: return -1;
    case 1: return 3 + static_cast<int>(w.random.below(40));
    case 2: return w.random.one_in(2) ? static_cast<int>(user::MaxDescriptors) : 1 << 30;
    case 3: return static_cast<int>(0x80000000u);
    default: {
        int fd = load(shared_fds[w.random.below(SharedDescriptors)]);
        return fd > 2 ? fd : 3 + static_cast<int>(w.random.below(8));
    }
    }
}

bool in_window(uintptr_t address, size_t bytes) {
    return address >= Window && bytes <= WindowBytes && address + bytes <= Window + WindowBytes;
}

// --- memory -----------------------------------------------------------------------------------------

int protection(Worker& w) {
    switch (w.random.below(6)) {
    case 0: return user::PROT_NONE;
    case 1: return user::PROT_READ;
    case 2: return user::PROT_READ | user::PROT_EXEC;
    case 3: return user::PROT_WRITE | user::PROT_EXEC;  // refused: W+X
    default: return user::PROT_READ | user::PROT_WRITE;
    }
}

void memory_call(Worker& w, Kind kind) {
    uintptr_t page = window_page(w);
    size_t pages = window_pages(w, page);
    size_t bytes = pages * PageBytes;
    int prot = protection(w);
    bool wx = (prot & user::PROT_WRITE) && (prot & user::PROT_EXEC);
    const int Anonymous = user::MAP_PRIVATE | user::MAP_ANONYMOUS;
    switch (kind) {
    case MmapFixed: {
        long got = user::mmap(page, bytes, prot, Anonymous | user::MAP_FIXED);
        check(w, kind, got, wx ? is_errno(got, EINVAL) : (got == static_cast<long>(page) || is_errno(got, ENOMEM)),
              page, bytes, prot);
        break;
    }
    case MmapNoReplace: {
        long got = user::mmap(page, bytes, prot, Anonymous | user::MAP_FIXED_NOREPLACE);
        check(w, kind, got,
              wx ? is_errno(got, EINVAL) : (got == static_cast<long>(page) || one_of(got, EEXIST, ENOMEM)),
              page, bytes, prot);
        break;
    }
    case MmapHint: {  // the kernel picks (or takes the hint); unmapped again unless in the window
        uintptr_t hint = w.random.one_in(2) ? page : pointer(w);
        long got = user::mmap(hint, bytes, wx ? user::PROT_READ : prot, Anonymous);
        bool placed = got >= 0x10000 && static_cast<uintptr_t>(got) < TopGiB && got % PageBytes == 0;
        check(w, kind, got, placed || is_errno(got, ENOMEM), hint, bytes, prot);
        if (placed && !in_window(static_cast<uintptr_t>(got), bytes)) {
            long unmapped = user::munmap(static_cast<uintptr_t>(got), bytes);
            check(w, Munmap, unmapped, unmapped == 0 || is_errno(unmapped, ENOMEM), got, bytes, 0);
        }
        break;
    }
    case MmapBad: {  // every one of these must be refused
        uintptr_t address = page;
        size_t size = bytes;
        int flags = Anonymous | user::MAP_FIXED, fd = -1;
        long offset = 0;
        switch (w.random.below(10)) {
        case 0: flags = user::MAP_SHARED | user::MAP_ANONYMOUS; break;
        case 1: flags = user::MAP_PRIVATE | user::MAP_FIXED; break;  // no MAP_ANONYMOUS: -ENODEV
        case 2: fd = 3; break;
        case 3: offset = 4096; break;
        case 4: size = 0; break;
        case 5: size = ~size_t{0} - 100; break;
        case 6: prot = 0x10; break;
        case 7: address = page + 1 + w.random.below(PageBytes - 1); break;
        case 8: address = 0x1000; break;  // below 0x10000: -EPERM
        default: address = w.random.one_in(2) ? TopGiB - PageBytes : 0xffffffc000000000ull; size = 2 * PageBytes; break;
        }
        long got = user::mmap(address, size, prot, flags, fd, offset);
        check(w, kind, got, one_of(got, EINVAL, ENODEV, EPERM, ENOMEM), address, size, flags);
        if (got >= 0) (void)user::munmap(static_cast<uintptr_t>(got), size);
        break;
    }
    case Munmap: {
        uintptr_t address = page;
        size_t size = bytes;
        bool bad = w.random.one_in(5);
        if (bad) {
            switch (w.random.below(4)) {
            case 0: address = page + 8; break;
            case 1: size = 0; break;
            case 2: size = size_t{1} << 40; break;  // past the user half
            default: address = 0xffffffc000000000ull; break;
            }
        }
        long got = user::munmap(address, size);
        check(w, kind, got, bad ? is_errno(got, EINVAL) : (got == 0 || is_errno(got, ENOMEM)), address, size);
        break;
    }
    case Mprotect: {
        uintptr_t address = w.random.one_in(6) ? page + 4 : page;
        size_t size = w.random.one_in(8) ? ~size_t{0} - 4095 : bytes;
        long got = user::mprotect(address, size, prot);
        check(w, kind, got, got == 0 || one_of(got, ENOMEM, EINVAL), address, size, prot);
        break;
    }
    case Madvise: {
        uintptr_t address = w.random.one_in(6) ? page + 8 : page;
        long advice = static_cast<long>(w.random.below(24));
        long got = user::madvise(address, bytes, static_cast<int>(advice));
        check(w, kind, got, got == 0 || one_of(got, EINVAL, ENOMEM), address, bytes, advice);
        break;
    }
    case Brk: {
        uintptr_t wanted = 0;
        switch (w.random.below(5)) {
        case 0: wanted = 0; break;
        case 1: wanted = break_start - PageBytes; break;        // below the start: refused
        case 2: wanted = break_start + (uintptr_t{1} << 31); break;  // past the 1 GiB limit
        default: wanted = break_start + w.random.below(200) * PageBytes + w.random.below(PageBytes); break;
        }
        long got = user::brk(wanted);
        uintptr_t now = static_cast<uintptr_t>(got);
        check(w, kind, got, now >= break_start && now <= break_start + (uintptr_t{1} << 30), wanted);
        break;
    }
    default: break;
    }
}

// --- the kernel's copies ----------------------------------------------------------------------------

void copy_call(Worker& w, Kind kind) {
    uintptr_t where = pointer(w);
    switch (kind) {
    case ClockGettime: {
        long clock = static_cast<long>(w.random.below(10));
        long got = user::clock_gettime(clock, reinterpret_cast<user::Timespec*>(where));
        uintptr_t valid = reinterpret_cast<uintptr_t>(valid_buffer);
        bool good_pointer = where >= valid && where < valid + 64 && clock < 8;
        check(w, kind, got, good_pointer ? got == 0 : (got == 0 || one_of(got, EFAULT, EINVAL)), clock, where);
        break;
    }
    case Getrandom: {
        size_t size = length(w);
        unsigned flags = w.random.one_in(5) ? 0x10 : static_cast<unsigned>(w.random.below(3));
        long got = user::getrandom(reinterpret_cast<void*>(where), size, flags);
        expect(w, kind, got, static_cast<long>(size), where, size, flags, EFAULT, EINVAL);
        break;
    }
    case Uname: {
        long got = user::uname(reinterpret_cast<void*>(where));
        expect(w, kind, got, 0, where, 0, 0, EFAULT);
        break;
    }
    case ProcessList: {
        size_t capacity = w.random.below(6);
        long got = user::process_list(reinterpret_cast<user::ProcessRecord*>(where), capacity);
        expect(w, kind, got, 256, where, capacity, 0, EFAULT);
        break;
    }
    case ListPrograms: {
        size_t size = w.random.one_in(2) ? length(w) : 4096;
        long got = user::list_programs(reinterpret_cast<char*>(where), size);
        expect(w, kind, got, static_cast<long>(size), where, size, 0, EFAULT, EINVAL);
        break;
    }
    default: break;
    }
}

// --- descriptors and pipes --------------------------------------------------------------------------

void descriptor_call(Worker& w, Kind kind) {
    int fd = descriptor(w);
    switch (kind) {
    case Pipe2: {
        bool bad_pointer = w.random.one_in(6);
        int fds[2] = {-1, -1};
        uintptr_t where = bad_pointer ? pointer(w) : reinterpret_cast<uintptr_t>(fds);
        int flags = w.random.one_in(6) ? 0x800 /* O_NONBLOCK: refused */ : (w.random.one_in(3) ? user::O_CLOEXEC : 0);
        long got = user::pipe2(reinterpret_cast<int*>(where), flags);
        check(w, kind, got, got == 0 || one_of(got, EFAULT, EINVAL, EMFILE, ENOMEM), where, flags);
        if (got == 0 && !bad_pointer) {
            __atomic_store_n(&shared_fds[w.random.below(SharedDescriptors)], fds[0], __ATOMIC_RELAXED);
            __atomic_store_n(&shared_fds[w.random.below(SharedDescriptors)], fds[1], __ATOMIC_RELAXED);
        }
        break;
    }
    case Read:
    case Write: {
        uintptr_t where = w.random.one_in(3) ? window_page(w) + w.random.below(PageBytes) : pointer(w);
        size_t size = w.random.one_in(4) ? length(w) : 1 + w.random.below(600);
        long got = kind == Read ? user::read(fd, reinterpret_cast<void*>(where), size)
                                : user::write(fd, reinterpret_cast<const void*>(where), size);
        long most = static_cast<long>(size);
        if (kind == Read) expect(w, kind, got, most, fd, where, size, EFAULT, EBADF, EINTR, EINVAL);
        else expect(w, kind, got, most, fd, where, size, EFAULT, EBADF, EPIPE, EINTR, EINVAL);
        break;
    }
    case Readv:
    case Writev: {
        // The vector lives in the window or in the valid buffer (whose contents another thread scribbles on).
        struct Element {
            uintptr_t base;
            size_t length;
        };
        static_assert(sizeof(Element) == 16);
        Element local[4];
        int count = static_cast<int>(w.random.below(5));
        for (int i = 0; i < count; ++i) local[i] = {pointer(w), w.random.below(300)};
        uintptr_t vector = reinterpret_cast<uintptr_t>(local);
        if (w.random.one_in(3)) vector = pointer(w);
        if (w.random.one_in(10)) count = 1025;
        long got = kind == Readv ? user::readv(fd, reinterpret_cast<const void*>(vector), count)
                                 : user::writev(fd, reinterpret_cast<const void*>(vector), count);
        check(w, kind, got, got >= 0 || one_of(got, EFAULT, EBADF, EINVAL, EPIPE, EINTR), fd,
              vector, count);
        break;
    }
    case Close: {
        if (fd <= 2) fd = 3;
        long got = user::close(fd);
        check(w, kind, got, got == 0 || is_errno(got, EBADF), fd);
        break;
    }
    case Dup: {
        long got = user::dup(fd);
        check(w, kind, got, (got > 2 && got < user::MaxDescriptors) || one_of(got, EBADF, EMFILE), fd);
        if (got > 2 && got < user::MaxDescriptors) __atomic_store_n(&shared_fds[w.random.below(SharedDescriptors)], static_cast<int>(got), __ATOMIC_RELAXED);
        break;
    }
    case Dup3: {
        int target = w.random.one_in(6) ? (w.random.one_in(2) ? 1 << 20 : -1) : descriptor(w);
        if (target >= 0 && target <= 2) target = 3;
        int flags = w.random.one_in(5) ? 0x4 : (w.random.one_in(3) ? user::O_CLOEXEC : 0);
        long got = user::dup3(fd, target, flags);
        check(w, kind, got, got == target || one_of(got, EBADF, EINVAL), fd, target, flags);
        break;
    }
    case Fcntl: {
        static const int Commands[] = {0, 1, 2, 3, 4, 1030, 5, 1024, -1};
        int command = Commands[w.random.below(sizeof(Commands) / sizeof(Commands[0]))];
        long argument = w.random.one_in(4) ? 2 * long{user::MaxDescriptors} : static_cast<long>(w.random.below(40));
        long got = user::fcntl(fd, command, argument);
        check(w, kind, got, got >= 0 || one_of(got, EBADF, EINVAL, EMFILE), fd, command, argument);
        if ((command == 0 || command == 1030) && got > 2 && got < user::MaxDescriptors)
            __atomic_store_n(&shared_fds[w.random.below(SharedDescriptors)], static_cast<int>(got), __ATOMIC_RELAXED);
        break;
    }
    case Ioctl: {
        unsigned long request = w.random.one_in(2) ? 0x5401 /* TCGETS */ : 0x5413 /* TIOCGWINSZ */;
        if (w.random.one_in(4)) request = w.random.next();
        uintptr_t where = pointer(w);
        long got = user::ioctl(fd, request, reinterpret_cast<void*>(where));
        check(w, kind, got, got == 0 || one_of(got, EBADF, ENOTTY, EFAULT, EINVAL), fd,
              static_cast<long>(request), where);
        break;
    }
    default: break;
    }
}

// --- children ---------------------------------------------------------------------------------------

bool sane_status(int status) {
    if (user::exited_normally(status)) return user::exit_code(status) <= 5;
    int signal = user::terminating_signal(status);
    return signal == 9 || signal == 11;
}

// Children are remembered (for kill, wait4, priorities, and for the watcher to end them) in the
// first free slot, and forgotten when reaped; the slots hold every live child but in a race.
void remember_child(Worker& w, long pid) {
    for (long& slot : child_pids) {
        long empty = 0;
        if (__atomic_compare_exchange_n(&slot, &empty, pid, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) return;
    }
    __atomic_store_n(&child_pids[w.random.below(MaxChildren)], pid, __ATOMIC_RELAXED);
}

void forget_child(long pid) {
    for (long& slot : child_pids) {
        long expected = pid;
        if (__atomic_compare_exchange_n(&slot, &expected, 0, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) return;
    }
}

long some_child(Worker& w) {
    long pid = load(child_pids[w.random.below(MaxChildren)]);
    if (pid <= 0 || w.random.one_in(8)) {
        static const long Bad[] = {0, -1, -7, 1 << 30, 99999};
        return Bad[w.random.below(5)];
    }
    return pid;
}

void child_call(Worker& w, Kind kind) {
    switch (kind) {
    case Spawn: {
        if (load(live_children) >= LiveChildrenBound) {
            // Enough children: reap one instead (it may have ended; WNOHANG).
            int status = 0;
            long got = user::wait4(-1, &status, user::WaitNoHang);
            check(w, Wait4, got, (got > 0 && sane_status(status)) || got == 0 || is_errno(got, ECHILD), -1, 0, 1);
            if (got > 0) {
                __atomic_fetch_sub(&live_children, 1, __ATOMIC_RELAXED);
                forget_child(got);
            }
            break;
        }
        static const char* const Modes[] = {"exit", "sleep", "spin", "fault", "threads", "orphan"};
        char argument[24];
        const char* mode = Modes[w.random.below(6)];
        user::decimal_text(w.random.below(1000000), argument);
        const char* argv[] = {"bin/stress", "child", mode, argument, nullptr};
        long got = user::spawn("bin/stress", argv);
        check(w, kind, got, got > 0 || one_of(got, ENOMEM, EAGAIN), 0, 0, 0);
        if (got > 0) {
            __atomic_fetch_add(&live_children, 1, __ATOMIC_RELAXED);
            remember_child(w, got);
        }
        break;
    }
    case SpawnBad: {
        const char* many[20];
        for (auto& entry : many) entry = "x";
        many[19] = nullptr;
        const char* not_elf[] = {"bin/not-elf", nullptr};
        long got = 0;
        uintptr_t a = 0;
        switch (w.random.below(5)) {
        case 0: a = pointer(w); got = user::spawn(reinterpret_cast<const char*>(a), not_elf); break;
        case 1: got = user::spawn("bin/no-such-program", not_elf); break;
        case 2: got = user::spawn("bin/stress", many); break;  // 19 arguments: -E2BIG
        case 3: got = user::spawn("bin/not-elf", not_elf); break;
        default: a = pointer(w); got = user::spawn("bin/stress", reinterpret_cast<const char* const*>(a)); break;
        }
        bool sane = one_of(got, EFAULT, ENOENT, E2BIG, ENOEXEC, ENOMEM, EINVAL);
        if (got > 0) {  // argv in zeroed memory of the window is an empty argv: the child exits at once
            sane = true;
            __atomic_fetch_add(&live_children, 1, __ATOMIC_RELAXED);
            remember_child(w, got);
        }
        check(w, kind, got, sane, a);
        break;
    }
    case Kill: {
        long pid = some_child(w);
        long signal = w.random.one_in(6) ? 65 + static_cast<long>(w.random.below(100)) : (w.random.one_in(2) ? 9 : 0);
        long got = user::kill(pid, signal);
        check(w, kind, got, got == 0 || one_of(got, ESRCH, EINVAL, EPERM), pid, signal);
        break;
    }
    case Wait4: {
        long pid = w.random.one_in(2) ? -1 : some_child(w);
        long options = w.random.one_in(8) ? 6 : (w.random.one_in(3) ? 0 : user::WaitNoHang);
        int status = 0;
        bool bad_pointer = w.random.one_in(6);
        uintptr_t where = bad_pointer ? pointer(w) : reinterpret_cast<uintptr_t>(&status);
        long rusage = w.random.one_in(10) ? 8 : 0;
        long got = user::wait4(pid, reinterpret_cast<int*>(where), options, reinterpret_cast<void*>(rusage));
        bool sane = got == 0 || one_of(got, ECHILD, EINVAL, EFAULT, EINTR) ||
                    (got > 0 && (bad_pointer || sane_status(status)));
        check(w, kind, got, sane, pid, where, options);
        if (got > 0 || is_errno(got, EFAULT)) __atomic_fetch_sub(&live_children, 1, __ATOMIC_RELAXED);
        if (got > 0) forget_child(got);
        if (got > 0 && !bad_pointer && !sane_status(status))
            user::println("stress: child {} ended with status {:#x}", got, status);
        break;
    }
    case SetPriority: {
        long pid = w.random.one_in(3) ? 0 : some_child(w);
        long priority = w.random.one_in(6) ? 64 + static_cast<long>(w.random.below(1000)) : 4 + static_cast<long>(w.random.below(40));
        long got = user::set_priority(pid, priority);
        check(w, kind, got, (got >= 0 && got < 64) || one_of(got, EPERM, ESRCH, EINVAL), pid, priority);
        break;
    }
    case GetPriority: {
        long pid = w.random.one_in(3) ? 0 : some_child(w);
        long got = user::get_priority(pid);
        check(w, kind, got, (got >= 0 && got < 64) || one_of(got, EPERM, ESRCH, EINVAL), pid);
        break;
    }
    case SetPriorityCap: {
        long pid = w.random.one_in(5) ? 0 : some_child(w);
        long cap = static_cast<long>(w.random.below(70));
        long got = user::set_priority_cap(pid, cap);
        check(w, kind, got, got == 0 || one_of(got, EPERM, ESRCH, EINVAL), pid, cap);
        break;
    }
    default: break;
    }
}

// --- futexes ----------------------------------------------------------------------------------------

long futex6(uintptr_t address, long operation, long value, uintptr_t timeout, long bitset) {
    return user::syscall(user::Futex, static_cast<long>(address), operation, value, static_cast<long>(timeout), 0, bitset);
}

uint64_t monotonic_ns() {
    user::Timespec t{};
    (void)user::clock_gettime(1, &t);
    return static_cast<uint64_t>(t.seconds) * 1000000000ull + static_cast<uint64_t>(t.nanoseconds);
}

void futex_call(Worker& w, Kind kind) {
    int* word = &futex_words[w.random.below(FutexWords)];
    switch (kind) {
    case FutexWait: {
        // On a shared word: with no timeout only when another thread (or the watcher) will wake it.
        int value = w.random.one_in(3) ? static_cast<int>(w.random.next()) : load(*word);
        user::Timespec timeout{0, static_cast<long>(w.random.below(5) * 1000 * 1000)};
        bool bitset = w.random.one_in(3);
        long operation = bitset ? 9 : 0;
        if (w.random.one_in(2)) operation |= 128;
        if (bitset) {  // an absolute time on CLOCK_MONOTONIC
            uint64_t at = monotonic_ns() + w.random.below(5) * 1000 * 1000;
            timeout = {static_cast<long>(at / 1000000000), static_cast<long>(at % 1000000000)};
        }
        bool forever = w.random.one_in(4);
        long got = futex6(reinterpret_cast<uintptr_t>(word), operation, value,
                          forever ? 0 : reinterpret_cast<uintptr_t>(&timeout), bitset ? -1 : 0);
        check(w, kind, got, got == 0 || one_of(got, EAGAIN, ETIMEDOUT, EINTR), operation, value, forever);
        break;
    }
    case FutexWake: {
        if (w.random.one_in(2)) __atomic_fetch_add(word, 1, __ATOMIC_RELAXED);
        uintptr_t address = w.random.one_in(4) ? window_page(w) + 4 * w.random.below(1024) : reinterpret_cast<uintptr_t>(word);
        long count = w.random.one_in(3) ? 0x7fffffff : static_cast<long>(w.random.below(3));
        long operation = w.random.one_in(3) ? 10 : 1;
        if (w.random.one_in(2)) operation |= 128;
        long got = futex6(address, operation, count, 0, operation & 8 ? -1 : 0);
        check(w, kind, got, (got >= 0 && got <= 64) || one_of(got, EFAULT), address, operation, count);
        break;
    }
    case FutexBad: {
        uintptr_t address = reinterpret_cast<uintptr_t>(word);
        long operation = 128, value = load(*word) + 1;
        user::Timespec bad{0, 1000000000}, millisecond{0, 1000000};
        uintptr_t timeout = reinterpret_cast<uintptr_t>(&millisecond);
        long bitset = 0;
        switch (w.random.below(7)) {
        case 0: address = pointer(w); break;   // a wait on it compares (-EAGAIN), faults or times out
        case 1: address += 1 + w.random.below(3); break;  // unaligned: -EINVAL
        case 2: operation = 3 + static_cast<long>(w.random.below(6)); break;  // unsupported: -ENOSYS
        case 3: operation = 9; bitset = 0; value = load(*word); break;        // bitset 0: -EINVAL
        case 4: timeout = pointer(w); value = load(*word); break;            // the timeout read faults, or times out
        case 5: timeout = reinterpret_cast<uintptr_t>(&bad); value = load(*word); break;  // -EINVAL
        default: operation = 0x7f; break;
        }
        // A wait that could last: only on a shared word (the watcher wakes those) or with a timeout
        // read from memory that holds a short one or faults.
        if (timeout == 0) timeout = reinterpret_cast<uintptr_t>(&bad);
        long got = futex6(address, operation, value, timeout, bitset);
        check(w, kind, got,
              got == 0 || one_of(got, EAGAIN, EINVAL, EFAULT, ENOSYS, ETIMEDOUT, EINTR),
              address, operation, timeout);
        break;
    }
    default: break;
    }
}

// --- the completion ring ----------------------------------------------------------------------------

user::Timespec short_sleep{0, 3 * 1000 * 1000};

void async_call(Worker& w, Kind kind) {
    switch (kind) {
    case AsyncSubmit: {
        static const long Tokens[] = {0, 1, 2, 3, -1, 0x7fffffffffffffff, 0x1234567};
        long token = w.random.one_in(2) ? static_cast<long>(w.random.next() | 1) : Tokens[w.random.below(7)];
        long number = 0, a0 = 0, a1 = 0, a2 = 0;
        switch (w.random.below(6)) {
        case 0:
        case 1: number = user::Read; a0 = descriptor(w); a1 = static_cast<long>(w.random.one_in(2) ? window_page(w) : pointer(w)); a2 = static_cast<long>(1 + w.random.below(200)); break;
        case 2: number = user::Write; a0 = descriptor(w); a1 = static_cast<long>(pointer(w)); a2 = static_cast<long>(1 + w.random.below(200)); break;
        case 3: number = user::Nanosleep; a0 = static_cast<long>(w.random.one_in(3) ? unreadable(w) : reinterpret_cast<uintptr_t>(&short_sleep)); break;
        case 4: number = user::GetPid; break;  // no asynchronous form: -ENOSYS
        default: number = 4000 + static_cast<long>(w.random.below(100)); break;
        }
        long got = hostile::submit_async(number, a0, a1, a2, token);
        check(w, kind, got, got == 0 || one_of(got, EAGAIN, ENOSYS, EINVAL, ENXIO), number, a0, token);
        break;
    }
    case AsyncFlush: {
        long got = user::async_flush();
        check(w, kind, got, got >= 0 || is_errno(got, ENXIO));
        break;
    }
    case AsyncSetup: {
        long capacity = static_cast<long>(w.random.below(2000)), slots = static_cast<long>(w.random.below(2000));
        long got = user::async_setup(static_cast<size_t>(capacity), static_cast<size_t>(slots));
        check(w, kind, got, one_of(got, EEXIST, EINVAL, ENOMEM), capacity, slots);
        break;
    }
    default: break;
    }
}

// --- threads ----------------------------------------------------------------------------------------

constexpr size_t ThreadStackBytes = 16 * 1024;
void random_call(Worker& w);

struct ShortThread {
    Worker worker;
    int calls;
};

int short_thread(void* argument) {
    auto* self = static_cast<ShortThread*>(argument);
    for (int i = 0; i < self->calls; ++i) random_call(self->worker);
    return 0;
}

// A clone whose new thread (if the kernel accepts it) leaves at once, touching nothing.
long raw_clone(long flags, long stack, long parent_tid, long tls, long child_tid) {
    register long a0 asm("a0") = flags;
    register long a1 asm("a1") = stack;
    register long a2 asm("a2") = parent_tid;
    register long a3 asm("a3") = tls;
    register long a4 asm("a4") = child_tid;
    register long a7 asm("a7") = 220;
    asm volatile(
        "ecall\n"
        "bnez a0, 1f\n"
        "li a7, 93\n"
        "li a0, 0\n"
        "ecall\n"
        "1:\n"
        : "+r"(a0)
        : "r"(a1), "r"(a2), "r"(a3), "r"(a4), "r"(a7)
        : "memory");
    return a0;
}

void thread_call(Worker& w, Kind kind) {
    switch (kind) {
    case Thread: {
        if (w.nested > 0) break;  // short threads make no threads of their own
        long stack = user::mmap(0, ThreadStackBytes, user::PROT_READ | user::PROT_WRITE, user::MAP_PRIVATE | user::MAP_ANONYMOUS);
        if (stack < 0) {
            check(w, kind, stack, is_errno(stack, ENOMEM));
            break;
        }
        ShortThread* thread = reinterpret_cast<ShortThread*>(stack);  // the record at the stack's bottom
        thread->worker.index = w.index + 100;
        thread->worker.random.state = w.random.next();
        thread->worker.nested = 1;
        thread->calls = 1 + static_cast<int>(w.random.below(20));
        int tid_word = 0;
        long tid = user::spawn_thread(short_thread, thread, reinterpret_cast<void*>(stack + ThreadStackBytes), &tid_word);
        check(w, kind, tid, tid > 0 || one_of(tid, EAGAIN, ENOMEM));
        if (tid > 0) user::join_thread(&tid_word);
        long unmapped = user::munmap(static_cast<uintptr_t>(stack), ThreadStackBytes);
        check(w, Munmap, unmapped, unmapped == 0 || is_errno(unmapped, ENOMEM), stack, ThreadStackBytes);
        break;
    }
    case CloneBad: {
        const long Required = 0x10f00, Allowed = 0x1250f00 | 0x80000 | 0x100000;  // + SETTLS, PARENT_SETTID
        long flags = Allowed;
        switch (w.random.below(4)) {
        case 0: flags = 0; break;
        case 1: flags = Required & ~static_cast<long>(0x100 << w.random.below(5)); break;
        case 2: flags = Required | 17; break;  // an exit signal
        default: flags = Required | (w.random.one_in(2) ? 0x80000 | 0x100000 : 0x1000000 | 0x200000); break;
        }
        long stack = static_cast<long>(w.random.one_in(2) ? pointer(w) : reinterpret_cast<uintptr_t>(&valid_buffer[4096]));
        long tid_pointer = static_cast<long>(w.random.one_in(2) ? pointer(w) : reinterpret_cast<uintptr_t>(&valid_buffer[64]));
        long got = raw_clone(flags, stack, tid_pointer, 0, tid_pointer);
        check(w, kind, got, got > 0 || one_of(got, EINVAL, EFAULT, ENOMEM, EAGAIN), flags, stack,
              tid_pointer);
        break;
    }
    case Tkill: {
        long tid = load(worker_tids[w.random.below(MaxWorkers)]);
        long got;
        if (tid > 0 && !w.random.one_in(4)) {
            got = user::tkill(tid, w.random.one_in(2) ? 0 : 65);  // 0 checks; 65 is refused
            check(w, kind, got, got == 0 || one_of(got, ESRCH, EINVAL), tid);
        } else {
            tid = w.random.one_in(2) ? 1 << 30 : -5;
            got = user::tgkill(user::getpid() + 1000000, tid, 9);
            check(w, kind, got, one_of(got, ESRCH, EINVAL), tid);
        }
        break;
    }
    case RaiseInterrupt: {
        long tid = w.random.one_in(3) ? 0 : (w.random.one_in(2) ? load(worker_tids[w.random.below(MaxWorkers)]) : 1 << 29);
        long got = user::raise_user_interrupt(tid);
        check(w, kind, got, got == 0 || is_errno(got, ESRCH), tid);
        break;
    }
    default: break;
    }
}

// --- time, exec, limits -----------------------------------------------------------------------------

void other_call(Worker& w, Kind kind) {
    switch (kind) {
    case Nanosleep: {
        user::Timespec time{0, static_cast<long>(w.random.below(3) * 1000 * 1000)};
        uintptr_t where = reinterpret_cast<uintptr_t>(&time);
        switch (w.random.below(5)) {
        case 0: time.nanoseconds = 1000000000; break;  // -EINVAL
        case 1: time.seconds = -1; break;              // -EINVAL
        case 2: where = unreadable(w); break;         // -EFAULT
        default: break;
        }
        long got = user::nanosleep(reinterpret_cast<user::Timespec*>(where), reinterpret_cast<user::Timespec*>(pointer(w)));
        check(w, kind, got, got == 0 || one_of(got, EINVAL, EFAULT, EINTR), time.seconds, time.nanoseconds, where);
        break;
    }
    case ClockNanosleep: {
        long clock = static_cast<long>(w.random.below(9));
        int flags = w.random.one_in(3) ? 1 /* TIMER_ABSTIME */ : (w.random.one_in(6) ? 2 : 0);
        user::Timespec time{0, static_cast<long>(w.random.below(2) * 1000 * 1000)};
        long got = user::clock_nanosleep(clock, flags, &time, nullptr);
        check(w, kind, got, got == 0 || one_of(got, EINVAL, EFAULT, EINTR), clock, flags);
        break;
    }
    case Execve: {  // never runs anything: no such program, bad pointers, or more than one thread
        const char* argv[] = {"bin/no-such-program", nullptr};
        uintptr_t path = w.random.one_in(2) ? pointer(w) : reinterpret_cast<uintptr_t>("bin/no-such-program");
        uintptr_t vector = w.random.one_in(3) ? pointer(w) : reinterpret_cast<uintptr_t>(argv);
        long got = user::execve(reinterpret_cast<const char*>(path), reinterpret_cast<const char* const*>(vector),
                                reinterpret_cast<const char* const*>(w.random.one_in(3) ? pointer(w) : 0));
        // -EBUSY: asynchronous calls in flight (docs/async-syscalls.md).
        check(w, kind, got, one_of(got, EINVAL, EFAULT, ENOENT, E2BIG, EBUSY), path, vector);
        break;
    }
    case MemoryLimit: {
        long bytes = w.random.one_in(4) ? 0 : (256l << 20) + static_cast<long>(w.random.below(1 << 20)) * 4096;
        long got = user::set_memory_limit(static_cast<size_t>(bytes));
        check(w, kind, got, got == 0 || is_errno(got, EPERM), bytes);
        long usage = user::memory_usage();
        check(w, kind, usage, usage > 0);
        break;
    }
    case Misc: {
        long got = 0;
        switch (w.random.below(6)) {
        case 0: got = user::sched_yield(); check(w, kind, got, got == 0); break;
        case 1: got = user::should_yield(); check(w, kind, got, got == 0 || got == 1); break;
        case 2: got = user::getppid(); check(w, kind, got, got >= 0); break;
        case 3: got = user::gettid(); check(w, kind, got, got > 0); break;
        case 4: got = user::priority_slot(); check(w, kind, got, got >= 0 && got < 256); break;
        default: got = user::syscall(500 + static_cast<long>(w.random.below(500))); check(w, kind, got, is_errno(got, ENOSYS)); break;
        }
        break;
    }
    default: break;
    }
}

// --- the worker -------------------------------------------------------------------------------------

// Weights: the window and the pipes most, the rest now and then.
Kind pick(Worker& w) {
    // Short threads and the threads of child processes: the window, the copies and the descriptors.
    uint64_t r = w.random.below(w.nested ? 58 : 100);
    if (r < 26) {
        static const Kind Memory[] = {MmapFixed, MmapFixed, MmapNoReplace, MmapHint, MmapBad, Munmap, Munmap,
                                      Mprotect, Madvise, Brk};
        return Memory[w.random.below(sizeof(Memory) / sizeof(Memory[0]))];
    }
    if (r < 34) return static_cast<Kind>(ClockGettime + w.random.below(ListPrograms - ClockGettime + 1));
    if (r < 58) {
        static const Kind Files[] = {Pipe2, Read, Read, Write, Write, Write, Readv, Writev, Close, Dup, Dup3, Fcntl, Ioctl};
        return Files[w.random.below(sizeof(Files) / sizeof(Files[0]))];
    }
    if (r < 68) return static_cast<Kind>(Spawn + w.random.below(SetPriorityCap - Spawn + 1));
    if (r < 78) return static_cast<Kind>(FutexWait + w.random.below(3));
    if (r < 86) return static_cast<Kind>(AsyncSubmit + w.random.below(3));
    if (r < 92) return static_cast<Kind>(Thread + w.random.below(RaiseInterrupt - Thread + 1));
    return static_cast<Kind>(Nanosleep + w.random.below(Misc - Nanosleep + 1));
}

// The kind the next random_call will make (the generator's state is copied, not advanced).
Kind pick_peek(const Worker& w) {
    Worker copy = w;
    return pick(copy);
}

void random_call(Worker& w) {
    Kind kind = pick(w);
    ++w.calls;
    if (kind <= Brk) memory_call(w, kind);
    else if (kind <= ListPrograms) copy_call(w, kind);
    else if (kind <= Ioctl) descriptor_call(w, kind);
    else if (kind <= SetPriorityCap) child_call(w, kind);
    else if (kind <= FutexBad) futex_call(w, kind);
    else if (kind <= AsyncSetup) async_call(w, kind);
    else if (kind <= RaiseInterrupt) thread_call(w, kind);
    else other_call(w, kind);
}

struct WorkerStart {
    int index;
    long calls;
    int tid_word;
    long stack;
};

int worker_entry(void* argument) {
    auto* start = static_cast<WorkerStart*>(argument);
    Worker w{start->index, Random{the_seed * 0x100000001b3ull + static_cast<uint64_t>(start->index) * 0x9e3779b97f4a7c15ull}};
    __atomic_store_n(&worker_tids[start->index], user::gettid(), __ATOMIC_RELAXED);
    for (long i = 0; i < start->calls; ++i) {
        __atomic_store_n(&current_kind[start->index], static_cast<int>(pick_peek(w)), __ATOMIC_RELAXED);
        random_call(w);
        __atomic_store_n(&progress[start->index], w.calls, __ATOMIC_RELAXED);
    }
    __atomic_store_n(&worker_tids[start->index], 0, __ATOMIC_RELAXED);
    return 0;
}

// --- the watcher ------------------------------------------------------------------------------------

void sleep_ms(long milliseconds) {
    user::Timespec time{milliseconds / 1000, (milliseconds % 1000) * 1000 * 1000};
    (void)user::nanosleep(&time, nullptr);
}

void kill_children() {
    for (long& slot : child_pids) {
        long pid = __atomic_exchange_n(&slot, 0, __ATOMIC_RELAXED);
        if (pid > 0) (void)user::kill(pid, 9);
    }
}

// Everything that could keep a worker blocked for good: children holding pipe ends, descriptors
// holding pipes open, futex words nobody wakes.
void break_stall() {
    kill_children();
    for (int fd = 3; fd < static_cast<int>(user::MaxDescriptors); ++fd) (void)user::close(fd);
    for (int& word : futex_words) {
        __atomic_fetch_add(&word, 1, __ATOMIC_RELAXED);
        (void)user::futex_wake(&word, 0x7fffffff);
        (void)futex6(reinterpret_cast<uintptr_t>(&word), 1, 0x7fffffff, 0, 0);
    }
}

bool joined(const WorkerStart& start) { return __atomic_load_n(&start.tid_word, __ATOMIC_ACQUIRE) == 0; }

long watch(WorkerStart* starts, int count) {
    long stalls = 0;
    long last_total = -1;
    long quiet_ms = 0, stuck_breaks = 0;
    constexpr long Step = 20;
    for (;;) {
        bool all_done = true;
        long total = 0;
        for (int i = 0; i < count; ++i) {
            if (!joined(starts[i])) all_done = false;
            total += load(progress[i]);
        }
        if (all_done) return stalls;
        if (total != last_total) {
            last_total = total;
            quiet_ms = 0;
            stuck_breaks = 0;
        } else if ((quiet_ms += Step) >= StallMilliseconds) {
            ++stalls;
            // Ten breaks in a row without progress: something the watcher cannot undo. Say where.
            if (++stuck_breaks == 10)
                for (int i = 0; i < count; ++i)
                    if (!joined(starts[i]))
                        user::println("stress: seed {}: worker {} stuck in {} after {} calls", the_seed, i,
                                      KindNames[load(current_kind[i])], load(progress[i]));
            break_stall();
            quiet_ms = 0;
        }
        sleep_ms(Step);
    }
}

// --- afterwards: the process still works --------------------------------------------------------------

void after_check(const char* what, bool ok, long got) {
    if (ok) return;
    __atomic_fetch_add(&failures, 1, __ATOMIC_RELAXED);
    user::println("stress: FAILED seed {} afterwards: {} ({})", the_seed, what, got);
}

void check_afterwards() {
    after_check("munmap of the window", user::munmap(Window, WindowBytes) == 0, 0);
    long again = user::mmap(Window, WindowBytes, user::PROT_READ | user::PROT_WRITE,
                            user::MAP_PRIVATE | user::MAP_ANONYMOUS | user::MAP_FIXED_NOREPLACE);
    after_check("the window maps again in one piece", again == static_cast<long>(Window), again);
    if (again == static_cast<long>(Window)) {
        auto* words = reinterpret_cast<volatile long*>(Window);
        for (size_t i = 0; i < WindowBytes / sizeof(long); i += 509) {
            if (words[i] != 0) {
                after_check("fresh memory is zero", false, words[i]);
                break;
            }
            words[i] = 1;
        }
        (void)user::munmap(Window, WindowBytes);
    }
    int ends[2];
    long piped = user::pipe2(ends);
    after_check("pipe2", piped == 0, piped);
    if (piped == 0) {
        char out[64], in[64] = {};
        for (int i = 0; i < 64; ++i) out[i] = static_cast<char>('a' + i % 26);
        long wrote = user::write(ends[1], out, sizeof(out));
        long got = user::read(ends[0], in, sizeof(in));
        after_check("a fresh pipe carries bytes", wrote == 64 && got == 64 && __builtin_memcmp(in, out, 64) == 0, got);
        user::close(ends[0]);
        user::close(ends[1]);
    }
    const char* child[] = {"bin/stress", "child", "exit", "3", nullptr};
    long pid = user::spawn("bin/stress", child);
    int status = 0;
    long waited = pid > 0 ? user::wait4(pid, &status, 0) : pid;
    after_check("a child runs and exits 3", waited == pid && user::exited_normally(status) && user::exit_code(status) == 3, waited);
}

// --- set-up -----------------------------------------------------------------------------------------

bool prepare() {
    break_start = static_cast<uintptr_t>(user::brk(0));
    for (int& fd : shared_fds) fd = -1;
    long reserved = user::mmap(0, ValidBytes + GuardBytes, user::PROT_NONE, user::MAP_PRIVATE | user::MAP_ANONYMOUS);
    if (reserved < 0 || user::mprotect(static_cast<uintptr_t>(reserved), ValidBytes, user::PROT_READ | user::PROT_WRITE) != 0) {
        user::println("stress: FAILED seed {}: cannot map the valid buffer ({})", the_seed, reserved);
        return false;
    }
    valid_buffer = reinterpret_cast<char*>(reserved);
    return true;
}

// --- children -----------------------------------------------------------------------------------------

int child_threads(uint64_t seed) {
    // Two threads map, unmap and copy in the window of this process; the process exits while they run.
    the_seed = seed;
    if (!prepare()) return 5;
    for (int i = 0; i < 2; ++i) {
        long stack = user::mmap(0, ThreadStackBytes, user::PROT_READ | user::PROT_WRITE, user::MAP_PRIVATE | user::MAP_ANONYMOUS);
        if (stack < 0) return 0;
        auto* thread = reinterpret_cast<ShortThread*>(stack);
        thread->worker.index = 200 + i;
        thread->worker.random.state = seed + static_cast<uint64_t>(i);
        thread->worker.nested = 1;
        thread->calls = 1000000;
        static int tid_words[2];
        (void)user::spawn_thread(short_thread, thread, reinterpret_cast<void*>(stack + ThreadStackBytes), &tid_words[i]);
    }
    sleep_ms(static_cast<long>(seed % 30));
    return failures == 0 ? 0 : 5;  // exit_group with the threads in the middle of their calls
}

int child(const char* mode, uint64_t argument) {
    auto same = [](const char* a, const char* b) {
        while (*a && *a == *b) ++a, ++b;
        return *a == *b;
    };
    if (same(mode, "exit")) return static_cast<int>(argument % 4);
    if (same(mode, "sleep")) sleep_ms(static_cast<long>(argument % 50));
    else if (same(mode, "spin")) {
        uint64_t end = monotonic_ns() + (argument % 20) * 1000 * 1000;
        while (monotonic_ns() < end) {
        }
    } else if (same(mode, "fault")) {
        uintptr_t address = 16;
        asm volatile("" : "+r"(address));
        *reinterpret_cast<volatile long*>(address) = 1;  // ends with signal 11
    } else if (same(mode, "threads")) return child_threads(argument);
    else if (same(mode, "orphan")) {
        const char* grandchild[] = {"bin/stress", "child", "sleep", "20", nullptr};
        (void)user::spawn("bin/stress", grandchild);  // never waited for: the kernel reaps it
    }
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    if (argc < 2) return 0;  // an empty argv (spawn-bad may make one): nothing to do
    if (argv[1][0] == 'c' && argc > 2) return child(argv[2], argc > 3 ? static_cast<uint64_t>(user::parse_decimal(argv[3])) : 0);
    if (argv[1][0] < '0' || argv[1][0] > '9') {
        user::println("usage: stress SEED [CALLS [THREADS]]");
        return 2;
    }
    the_seed = static_cast<uint64_t>(user::parse_decimal(argv[1]));
    long calls = argc > 2 ? user::parse_decimal(argv[2]) : 2000;
    int threads = argc > 3 ? static_cast<int>(user::parse_decimal(argv[3])) : 4;
    if (threads < 1) threads = 1;
    if (threads > MaxWorkers) threads = MaxWorkers;
    user::println("stress: seed {}, {} threads, {} calls each", the_seed, threads, calls);
    if (!prepare()) return 1;

    WorkerStart starts[MaxWorkers];
    int started = 0;
    for (int i = 0; i < threads; ++i) {
        starts[i] = {i, calls, 0, 0};
        long stack = user::mmap(0, 64 * 1024, user::PROT_READ | user::PROT_WRITE, user::MAP_PRIVATE | user::MAP_ANONYMOUS);
        if (stack < 0) break;
        starts[i].stack = stack;
        if (user::spawn_thread(worker_entry, &starts[i], reinterpret_cast<void*>(stack + 64 * 1024), &starts[i].tid_word) <= 0) {
            user::munmap(static_cast<uintptr_t>(stack), 64 * 1024);
            break;
        }
        ++started;
    }
    if (started != threads) {
        user::println("stress: FAILED seed {}: started {} of {} threads", the_seed, started, threads);
        ++failures;
    }
    long stalls = watch(starts, started);
    for (int i = 0; i < started; ++i) {
        user::join_thread(&starts[i].tid_word);
        user::munmap(static_cast<uintptr_t>(starts[i].stack), 64 * 1024);
    }
    // The children: killed, then reaped (orphaned grandchildren are the kernel's).
    kill_children();
    for (int fd = 3; fd < static_cast<int>(user::MaxDescriptors); ++fd) (void)user::close(fd);
    int status = 0;
    for (long got; (got = user::wait4(-1, &status, 0)) > 0;)
        if (!sane_status(status)) after_check("a child's status", false, status);
    check_afterwards();

    long total = 0, errors = 0;
    char line[400];
    size_t used = 0;
    for (int kind = 0; kind < KindCount; ++kind) {
        total += calls_of[kind];
        errors += errors_of[kind];
        auto written = fmt::format_to_n(line + used, sizeof(line) - used, "{}{} {}", used ? ", " : "", KindNames[kind], calls_of[kind]);
        used += written.size;
        if (used > 300 || kind == KindCount - 1) {
            user::println("stress: calls: {}", fmt::string_view(line, used < sizeof(line) ? used : sizeof(line)));
            used = 0;
        }
    }
    user::println("stress: seed {}: {} calls ({} refused with an errno), {} stalls broken", the_seed, total, errors, stalls);
    // (The kernel's self-test says `stress: seed S ok` or `... FAILED (...)` once it has checked.)
    user::println("stress: seed {} done, {} failures", the_seed, failures);
    return failures == 0 ? 0 : 1;
}
