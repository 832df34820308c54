// copytest: the kernel's copies to and from user memory (docs/architecture.md, "User memory access";
// issue 12). Run by the kernel self-test `usercopy`, which checks afterwards that free frames and the
// kernel heap are back to their figures and that the kernel's fault fixup was used.
//
//   copytest            every case below, then "copytest: ok"
//
// Cases: copies of every alignment and length up to several pages come back byte for byte; a copy
// into a read-only page, the vDSO, the priority table or across from a writable into an unmapped or
// read-only page gives -EFAULT and writes nothing (the bytes stay in the pipe); a read from a
// PROT_NONE or unmapped page gives -EFAULT; and a race on every hart: one thread maps and unmaps
// a window while others make large pipe reads into it (single reads, and readv calls of 64 reads
// spread over all its pages: one long system call of many copies) and copy from it, with a check
// that no stale write reaches a frame after its munmap (fresh mappings must stay zero).
#include "user/lib/print.hpp"

namespace {

int failures = 0;
void expect(const char* what, long got, long wanted) {
    if (got == wanted) return;
    user::say("copytest: FAILED ", what, ": got ", got, ", wanted ", wanted, "\n");
    ++failures;
}

constexpr size_t PageBytes = 4096;
constexpr size_t PipeBytes = 4096;  // kernel/file/pipe.hpp: PipeCapacity
constexpr uintptr_t VdsoAddress = 0x3ff8000000;           // kernel/vdso/vdso.hpp: UserVdsoBase
constexpr uintptr_t PriorityTableAddress = 0x3ff7000000;  // kernel/sched/scheduler.hpp

uint8_t pattern(size_t i, unsigned seed) { return static_cast<uint8_t>(i * 131 + seed * 29 + 7) | 1; }

long map(size_t bytes, int protection) {
    return user::mmap(0, bytes, protection, user::MAP_PRIVATE | user::MAP_ANONYMOUS);
}

// --- every alignment and length: the copy loop's doublewords, head and tail bytes ---------------

uint8_t source_buffer[3 * PageBytes + 64];
uint8_t sink_buffer[3 * PageBytes + 64];

void alignments() {
    int ends[2];
    expect("pipe2", user::pipe2(ends), 0);
    const size_t lengths[] = {1, 7, 8, 9, 15, 16, 63, 100, 1000, 4095, 4096};
    unsigned seed = 0;
    for (size_t length : lengths)
        for (size_t from = 0; from < 8; ++from)
            for (size_t to = 0; to < 8; ++to) {
                ++seed;
                for (size_t i = 0; i < length; ++i) source_buffer[from + i] = pattern(i, seed);
                for (size_t i = 0; i < length + 16; ++i) sink_buffer[i] = 0;
                expect("write of the pattern", user::write(ends[1], source_buffer + from, length), length);
                expect("read of the pattern", user::read(ends[0], sink_buffer + 8 + to, length), length);
                for (size_t i = 0; i < length + 16; ++i) {
                    uint8_t wanted = i >= 8 + to && i < 8 + to + length ? pattern(i - 8 - to, seed) : 0;
                    if (sink_buffer[i] != wanted) {
                        expect("byte read back", sink_buffer[i], wanted);
                        return;
                    }
                }
            }
    // Longer than a page: one clock_gettime-sized copy per page boundary, and a 12 KiB write and read
    // through a pipe in pieces.
    for (size_t i = 0; i < sizeof(source_buffer); ++i) source_buffer[i] = pattern(i, 99);
    long total = 0;
    for (size_t offset = 0; offset < 3 * PageBytes; offset += PipeBytes) {
        expect("write of a page", user::write(ends[1], source_buffer + 3 + offset, PipeBytes), PipeBytes);
        expect("read of a page", user::read(ends[0], sink_buffer + 5 + offset, PipeBytes), PipeBytes);
        total += PipeBytes;
    }
    for (long i = 0; i < total; ++i)
        if (sink_buffer[5 + i] != pattern(3 + i, 99)) {
            expect("multi-page byte read back", sink_buffer[5 + i], pattern(3 + i, 99));
            break;
        }
    user::close(ends[0]);
    user::close(ends[1]);
}

// --- copies that must fail and write nothing -------------------------------------------------------

bool unchanged(const uint8_t* bytes, size_t count, uint8_t value) {
    for (size_t i = 0; i < count; ++i)
        if (bytes[i] != value) return false;
    return true;
}

// A read of `length` bytes into `where` from a pipe holding them fails with -EFAULT, and they stay.
void read_faults(const char* what, int* ends, uintptr_t where, size_t length) {
    static uint8_t bytes[PipeBytes];
    for (size_t i = 0; i < length; ++i) bytes[i] = pattern(i, 5);
    expect("write before a bad read", user::write(ends[1], bytes, length), length);
    expect(what, user::read(ends[0], reinterpret_cast<void*>(where), length), -user::EFAULT);
    static uint8_t back[PipeBytes];
    expect("the bytes stay in the pipe", user::read(ends[0], back, length), length);
    for (size_t i = 0; i < length; ++i)
        if (back[i] != bytes[i]) {
            expect("the bytes that stayed", back[i], bytes[i]);
            break;
        }
}

// A pipe checks the caller's whole buffer, not only what it transfers, and before it waits, reports
// end of file or fails with -EPIPE. `bad`: 10 writable bytes followed by an unmapped page.
void pipe_checks_whole_buffer(int* ends, uint8_t* bad) {
    expect("write of ten bytes", user::write(ends[1], "0123456789", 10), 10);
    expect("read of 100 with 10 there, across into an unmapped page", user::read(ends[0], bad, 100), -user::EFAULT);
    expect("the ten bytes stay", user::read(ends[0], sink_buffer, 100), 10);
    expect("read into a bad buffer from an empty pipe: no wait", user::read(ends[0], bad, 100), -user::EFAULT);
    for (size_t i = 0; i < PipeBytes; ++i) source_buffer[i] = pattern(i, 11);
    expect("fill the pipe", user::write(ends[1], source_buffer, PipeBytes), PipeBytes);
    expect("write from a bad buffer into a full pipe: no wait", user::write(ends[1], bad, 20), -user::EFAULT);
    expect("empty the pipe", user::read(ends[0], sink_buffer, PipeBytes), PipeBytes);
    int other[2];
    expect("pipe2 for end of file", user::pipe2(other), 0);
    expect("close its write end", user::close(other[1]), 0);
    expect("read into a bad buffer at end of file", user::read(other[0], bad, 100), -user::EFAULT);
    expect("read at end of file", user::read(other[0], sink_buffer, 100), 0);
    expect("close its read end", user::close(other[0]), 0);
    expect("pipe2 for -EPIPE", user::pipe2(other), 0);
    expect("close its read end first", user::close(other[0]), 0);
    expect("write from a bad buffer with no reader", user::write(other[1], bad, 20), -user::EFAULT);
    expect("write with no reader", user::write(other[1], "x", 1), -user::EPIPE);
    expect("close its write end last", user::close(other[1]), 0);
}

void refused_copies() {
    int ends[2];
    expect("pipe2", user::pipe2(ends), 0);
    user::Timespec* none = nullptr;

    // A read-only page.
    long page = map(PageBytes, user::PROT_READ | user::PROT_WRITE);
    expect("mmap", page > 0, 1);
    auto* bytes = reinterpret_cast<uint8_t*>(page);
    for (size_t i = 0; i < PageBytes; ++i) bytes[i] = 0x5a;
    expect("mprotect read-only", user::mprotect(page, PageBytes, user::PROT_READ), 0);
    read_faults("read into a read-only page", ends, page + 100, 200);
    expect("clock_gettime into a read-only page", user::clock_gettime(1, reinterpret_cast<user::Timespec*>(page + 64)),
           -user::EFAULT);
    expect("the read-only page unchanged", unchanged(bytes, PageBytes, 0x5a), 1);
    expect("munmap", user::munmap(page, PageBytes), 0);

    // A writable page followed by a read-only one, and by an unmapped one: nothing of the first
    // page is written (clock_gettime's 16 bytes straddle the boundary; so does the pipe read).
    long pair = map(2 * PageBytes, user::PROT_READ | user::PROT_WRITE);
    expect("mmap of two pages", pair > 0, 1);
    bytes = reinterpret_cast<uint8_t*>(pair);
    for (size_t i = 0; i < 2 * PageBytes; ++i) bytes[i] = 0x33;
    expect("mprotect of the second page", user::mprotect(pair + PageBytes, PageBytes, user::PROT_READ), 0);
    expect("clock_gettime across into a read-only page",
           user::clock_gettime(1, reinterpret_cast<user::Timespec*>(pair + PageBytes - 8)), -user::EFAULT);
    read_faults("read across into a read-only page", ends, pair + PageBytes - 50, 100);
    expect("both pages unchanged", unchanged(bytes, 2 * PageBytes, 0x33), 1);
    expect("munmap of the second page", user::munmap(pair + PageBytes, PageBytes), 0);
    expect("clock_gettime across into an unmapped page",
           user::clock_gettime(1, reinterpret_cast<user::Timespec*>(pair + PageBytes - 8)), -user::EFAULT);
    read_faults("read across into an unmapped page", ends, pair + PageBytes - 1000, 3000);
    expect("the first page unchanged", unchanged(bytes, PageBytes, 0x33), 1);
    // A write from the same range reads from an unmapped page: refused before anything is taken.
    expect("write from across into an unmapped page", user::write(ends[1], bytes + PageBytes - 10, 20), -user::EFAULT);
    expect("write of one byte", user::write(ends[1], "x", 1), 1);
    expect("the pipe took nothing before it", user::read(ends[0], sink_buffer, 20), 1);
    expect("the one byte", sink_buffer[0], 'x');
    pipe_checks_whole_buffer(ends, bytes + PageBytes - 10);
    expect("the first page unchanged after the pipe's checks", unchanged(bytes, PageBytes, 0x33), 1);
    expect("munmap", user::munmap(pair, PageBytes), 0);

    // The vDSO (read and execute) and the priority table (read only): readable, never writable.
    uint8_t vdso_before[64], table_before[64];
    for (size_t i = 0; i < 64; ++i) {
        vdso_before[i] = reinterpret_cast<const volatile uint8_t*>(VdsoAddress)[i];
        table_before[i] = reinterpret_cast<const volatile uint8_t*>(PriorityTableAddress)[i];
    }
    read_faults("read into the vDSO", ends, VdsoAddress, 64);
    read_faults("read into the priority table", ends, PriorityTableAddress, 64);
    expect("clock_gettime into the vDSO", user::clock_gettime(1, reinterpret_cast<user::Timespec*>(VdsoAddress)),
           -user::EFAULT);
    expect("clock_gettime into the priority table",
           user::clock_gettime(1, reinterpret_cast<user::Timespec*>(PriorityTableAddress)), -user::EFAULT);
    for (size_t i = 0; i < 64; ++i) {
        if (reinterpret_cast<const volatile uint8_t*>(VdsoAddress)[i] != vdso_before[i]) {
            expect("the vDSO unchanged", i, -1);
            break;
        }
    }
    bool table_same = true;  // the table changes only when a process's published priority does
    for (size_t i = 0; i < 64; ++i)
        table_same = table_same && reinterpret_cast<const volatile uint8_t*>(PriorityTableAddress)[i] == table_before[i];
    if (!table_same) user::print("copytest: (the priority table changed meanwhile: another process's priority)\n");
    expect("write from the vDSO", user::write(ends[1], reinterpret_cast<const void*>(VdsoAddress), 16), 16);
    expect("read back what came from the vDSO", user::read(ends[0], sink_buffer, 16), 16);
    for (size_t i = 0; i < 16; ++i)
        if (sink_buffer[i] != vdso_before[i]) {
            expect("what came from the vDSO", sink_buffer[i], vdso_before[i]);
            break;
        }

    // A PROT_NONE page (reserved, not mapped) can be neither read nor written. (PROT_EXEC implies
    // PROT_READ here, as on Linux: a program cannot make an execute-only page.)
    long reserved = map(PageBytes, user::PROT_NONE);
    expect("mmap PROT_NONE", reserved > 0, 1);
    expect("write from a PROT_NONE page", user::write(ends[1], reinterpret_cast<const void*>(reserved), 8),
           -user::EFAULT);
    read_faults("read into a PROT_NONE page", ends, reserved + 8, 8);
    expect("munmap", user::munmap(reserved, PageBytes), 0);
    // Unmapped, the kernel's half, past the user half, wrapping; and a null pointer.
    expect("write from page 0x1000", user::write(ends[1], reinterpret_cast<const void*>(0x1000), 8), -user::EFAULT);
    expect("write from the kernel's half", user::write(ends[1], reinterpret_cast<const void*>(0xffffffff80200000ul), 8),
           -user::EFAULT);
    expect("write from past the user half", user::write(ends[1], reinterpret_cast<const void*>(0x4000000000ul), 8),
           -user::EFAULT);
    expect("read into the end of the user half", user::read(ends[0], reinterpret_cast<void*>(0x3ffffffff8ul), 16),
           -user::EFAULT);
    expect("clock_gettime into null", user::clock_gettime(1, none), -user::EFAULT);
    user::close(ends[0]);
    user::close(ends[1]);
}

// --- the race: munmap on one hart while other harts copy into and out of the range -------------

constexpr uintptr_t RaceWindow = 0x2100000000;
constexpr size_t RaceWindowPages = 16;  // 64 KiB: a read spans up to two of its pages
constexpr uintptr_t FreshWindow = 0x2200000000;
constexpr int Copiers = 3;
constexpr int MapperRounds = 1500;

struct Helper {
    int tid_word = 0;
    long stack = 0;
    bool start(int (*entry)(void*), void* argument) {
        constexpr size_t StackSize = 16 * 1024;
        stack = map(StackSize, user::PROT_READ | user::PROT_WRITE);
        if (stack < 0) return false;
        return user::spawn_thread(entry, argument, reinterpret_cast<void*>(stack + StackSize), &tid_word) > 0;
    }
    void join() {
        user::join_thread(&tid_word);
        user::munmap(stack, 16 * 1024);
    }
};

int mapper_done = 0;
long copies_done = 0, copies_refused = 0, stale_bytes = 0;

// Maps the window, lets the copiers at it, unmaps it, and maps a fresh window elsewhere, probably
// on the frames just freed: that one must read zero throughout (a stale write through an old TLB
// entry after the munmap would show there).
int mapper(void*) {
    for (int round = 0; round < MapperRounds && failures == 0; ++round) {
        long got = user::mmap(RaceWindow, RaceWindowPages * PageBytes, user::PROT_READ | user::PROT_WRITE,
                              user::MAP_PRIVATE | user::MAP_ANONYMOUS | user::MAP_FIXED);
        expect("mmap of the race window", got, static_cast<long>(RaceWindow));
        for (int spin = 0; spin < 20000 * (round % 4); ++spin) asm volatile("" ::: "memory");  // the copiers at it
        expect("munmap of the race window", user::munmap(RaceWindow, RaceWindowPages * PageBytes), 0);
        got = user::mmap(FreshWindow, RaceWindowPages * PageBytes, user::PROT_READ | user::PROT_WRITE,
                         user::MAP_PRIVATE | user::MAP_ANONYMOUS | user::MAP_FIXED);
        expect("mmap of the fresh window", got, static_cast<long>(FreshWindow));
        auto* words = reinterpret_cast<volatile uint64_t*>(FreshWindow);
        for (size_t pass = 0; pass < 2; ++pass)
            for (size_t i = 0; i < RaceWindowPages * PageBytes / 8; ++i)
                if (words[i] != 0) ++stale_bytes;
        expect("munmap of the fresh window", user::munmap(FreshWindow, RaceWindowPages * PageBytes), 0);
    }
    __atomic_store_n(&mapper_done, 1, __ATOMIC_RELEASE);
    return 0;
}

int copier(void* argument) {
    long index = reinterpret_cast<long>(argument);
    int ends[2];
    if (user::pipe2(ends) != 0) {
        expect("copier's pipe2", -1, 0);
        return 1;
    }
    static uint8_t private_bytes[Copiers][PipeBytes];
    uint8_t* mine = private_bytes[index];
    for (size_t i = 0; i < PipeBytes; ++i) mine[i] = pattern(i, static_cast<unsigned>(index)) | 0x80;  // never 0
    uint64_t random = 0x9e3779b97f4a7c15ull * static_cast<uint64_t>(index + 1);
    while (!__atomic_load_n(&mapper_done, __ATOMIC_ACQUIRE) && failures == 0) {
        random ^= random << 13, random ^= random >> 7, random ^= random << 17;
        size_t length = 1024 + random % (PipeBytes - 1023);
        uintptr_t where = RaceWindow + (random >> 20) % (RaceWindowPages * PageBytes - length);
        expect("copier's write", user::write(ends[1], mine, length), length);
        if (random & 1) {
            // One long system call of many copies into every page of the window (readv: one pipe read
            // per element): an munmap in the middle must stop it (later elements -EFAULT), and no
            // element may reach a page through a TLB entry left from an earlier one.
            struct { uint64_t base, length; } vector[PipeBytes / 64];
            for (size_t i = 0; i < PipeBytes / 64; ++i)
                vector[i] = {RaceWindow + (i % RaceWindowPages) * PageBytes + (i / RaceWindowPages) * 64, 64};
            expect("copier's second write", user::write(ends[1], mine, PipeBytes - length), PipeBytes - length);
            long got = user::readv(ends[0], vector, PipeBytes / 64);
            if (got < static_cast<long>(PipeBytes)) __atomic_fetch_add(&copies_refused, 1, __ATOMIC_RELAXED);
            else __atomic_fetch_add(&copies_done, 1, __ATOMIC_RELAXED);
            long left = static_cast<long>(PipeBytes) - (got > 0 ? got : 0);
            while (left > 0) {
                long drained = user::read(ends[0], mine, left);
                if (drained <= 0) {
                    expect("drain after readv", drained, 1);
                    break;
                }
                left -= drained;
            }
            for (size_t i = 0; i < PipeBytes; ++i) mine[i] = pattern(i, static_cast<unsigned>(index)) | 0x80;
            continue;
        }
        long got = user::read(ends[0], reinterpret_cast<void*>(where), length);  // into the window
        if (got == -user::EFAULT) {
            __atomic_fetch_add(&copies_refused, 1, __ATOMIC_RELAXED);
            got = user::read(ends[0], mine, length);  // all or nothing: the bytes are still there
        } else {
            __atomic_fetch_add(&copies_done, 1, __ATOMIC_RELAXED);
        }
        expect("copier's read", got, length);
        // And out of the window: a copy from it, or -EFAULT taking nothing.
        long wrote = user::write(ends[1], reinterpret_cast<const void*>(where), length);
        if (wrote > 0) {
            static uint8_t drain[Copiers][PipeBytes];
            expect("drain of the copy from the window", user::read(ends[0], drain[index], wrote), wrote);
        } else {
            expect("write from the window", wrote, -user::EFAULT);
        }
        for (size_t i = 0; i < PipeBytes; ++i) mine[i] = pattern(i, static_cast<unsigned>(index)) | 0x80;
    }
    user::close(ends[0]);
    user::close(ends[1]);
    return 0;
}

void race() {
    Helper threads[Copiers + 1];
    int started = 0;
    if (threads[0].start(mapper, nullptr)) ++started;
    for (long i = 0; i < Copiers && started == i + 1; ++i)
        if (threads[i + 1].start(copier, reinterpret_cast<void*>(i))) ++started;
    expect("race threads started", started, Copiers + 1);
    if (started != Copiers + 1) __atomic_store_n(&mapper_done, 1, __ATOMIC_RELEASE);
    for (int i = 0; i < started; ++i) threads[i].join();
    expect("stale bytes in fresh mappings", stale_bytes, 0);
    user::say("copytest: race: ", copies_done, " reads into the window copied, ", copies_refused, " refused\n");
}

} // namespace

int main() {
    alignments();
    refused_copies();
    if (failures == 0) race();
    user::print(failures == 0 ? "copytest: ok\n" : "copytest: FAILED\n");
    return failures == 0 ? 0 : 1;
}
