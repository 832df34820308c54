// memtest: brk, mmap and munmap with Linux semantics (docs/syscalls.md, "Memory"): memory comes
// zeroed, keeps what is written, goes away when unmapped; bad arguments and exhaustion get errors.
// Prints "memtest: ok" and exits 0 when every check holds.
#include "user/lib/print.hpp"

namespace {

using namespace user;

constexpr uintptr_t Page = 4096;
constexpr int ReadWrite = PROT_READ | PROT_WRITE;
constexpr int Anonymous = MAP_PRIVATE | MAP_ANONYMOUS;
int failures = 0;

void expect(const char* what, long got, long wanted) {
    if (got == wanted) return;
    say("memtest: FAILED ", what, ": got ", got, ", wanted ", wanted, "\n");
    ++failures;
}
void expect_true(const char* what, bool holds) {
    if (holds) return;
    say("memtest: FAILED ", what, "\n");
    ++failures;
}
bool is_error(long result) { return result < 0 && result > -4096; }

// The pattern byte at `address`: depends on the address and a seed, so overlapping or swapped
// pages show. Accesses are volatile: every store and load happens (and no memset is emitted).
unsigned char pattern(uintptr_t address, unsigned seed) {
    return static_cast<unsigned char>((address >> 12) * 31 + (address & 0xfff) * 7 + seed);
}
void fill(uintptr_t address, size_t size, unsigned seed) {
    auto* bytes = reinterpret_cast<volatile unsigned char*>(address);
    for (size_t i = 0; i < size; ++i) bytes[i] = pattern(address + i, seed);
}
bool holds(uintptr_t address, size_t size, unsigned seed) {
    auto* bytes = reinterpret_cast<volatile unsigned char*>(address);
    for (size_t i = 0; i < size; ++i)
        if (bytes[i] != pattern(address + i, seed)) return false;
    return true;
}
bool is_zero(uintptr_t address, size_t size) {
    auto* bytes = reinterpret_cast<volatile unsigned char*>(address);
    for (size_t i = 0; i < size; ++i)
        if (bytes[i] != 0) return false;
    return true;
}

void test_brk() {
    long start = brk(0);
    expect_true("brk(0) is page-aligned, above the image", start >= 0x10000 && start % Page == 0);
    uintptr_t grown = start + 3 * Page + 100;
    expect("brk grow", brk(grown), grown);
    expect_true("grown heap is zeroed", is_zero(start, 3 * Page + 100));
    fill(start, 3 * Page + 100, 1);
    expect_true("heap keeps what is written", holds(start, 3 * Page + 100, 1));
    expect("brk(0) after growing", brk(0), grown);
    expect("brk shrink", brk(start + Page), start + Page);
    expect("brk grow again", brk(start + 3 * Page), start + 3 * Page);
    expect_true("page below the break kept", holds(start, Page, 1));
    expect_true("pages given back come back zeroed", is_zero(start + Page, 2 * Page));
    long current = start + 3 * Page;
    expect("brk 2 GiB up refused", brk(start + (2ul << 30)), current);
    expect("brk below its start refused", brk(start - Page), current);
    // A mapping just above the break stops it from growing into it.
    uintptr_t blocker = start + 8 * Page;
    expect("mmap above the break", mmap(blocker, Page, ReadWrite, Anonymous | MAP_FIXED), blocker);
    expect("brk into a mapping refused", brk(start + 10 * Page), current);
    expect("brk up to the mapping", brk(blocker), blocker);
    expect("munmap the blocker", munmap(blocker, Page), 0);
    expect("brk back to its start", brk(start), start);
}

void test_sizes() {
    const size_t sizes[] = {1, Page, 3 * Page, 100 * 1024 + 1, 1 << 20};
    constexpr size_t Count = sizeof(sizes) / sizeof(sizes[0]);
    long addresses[Count];
    for (size_t i = 0; i < Count; ++i) {
        addresses[i] = mmap(0, sizes[i], ReadWrite, Anonymous);
        expect_true("mmap of a size succeeds, page-aligned", !is_error(addresses[i]) && addresses[i] % Page == 0);
        if (is_error(addresses[i])) return;
        expect_true("new mapping is zeroed", is_zero(addresses[i], sizes[i]));
        fill(addresses[i], sizes[i], static_cast<unsigned>(i));
    }
    for (size_t i = 0; i < Count; ++i)  // all filled before any is checked: overlaps would show
        expect_true("mapping keeps its pattern", holds(addresses[i], sizes[i], static_cast<unsigned>(i)));
    for (size_t i = 0; i < Count; ++i) expect("munmap", munmap(addresses[i], sizes[i]), 0);

    long read_only = mmap(0, 2 * Page, PROT_READ, Anonymous);
    expect_true("read-only mapping reads zeroes", !is_error(read_only) && is_zero(read_only, 2 * Page));
    expect("munmap read-only", munmap(read_only, 2 * Page), 0);
    long reserved = mmap(0, 1ul << 30, PROT_NONE, Anonymous);  // costs no frame
    expect_true("PROT_NONE reservation of 1 GiB", !is_error(reserved));
    expect("munmap the reservation", munmap(reserved, 1ul << 30), 0);
}

void test_hint_and_fixed() {
    constexpr uintptr_t Hint = 0x2000000000;
    expect("hint honoured", mmap(Hint, 2 * Page, ReadWrite, Anonymous), Hint);
    fill(Hint, 2 * Page, 3);
    long elsewhere = mmap(Hint, Page, ReadWrite, Anonymous);
    expect_true("occupied hint: placed elsewhere", !is_error(elsewhere) && elsewhere != static_cast<long>(Hint));
    expect("munmap elsewhere", munmap(elsewhere, Page), 0);
    expect("MAP_FIXED_NOREPLACE on a mapping", mmap(Hint, Page, ReadWrite, Anonymous | MAP_FIXED_NOREPLACE), -EEXIST);
    expect("MAP_FIXED replaces", mmap(Hint + Page, Page, ReadWrite, Anonymous | MAP_FIXED), Hint + Page);
    expect_true("replaced page is zeroed", is_zero(Hint + Page, Page));
    expect_true("page beside it kept", holds(Hint, Page, 3));
    expect("munmap hinted", munmap(Hint, 2 * Page), 0);
}

void test_munmap() {
    long base = mmap(0, 5 * Page, ReadWrite, Anonymous);
    expect_true("mmap 5 pages", !is_error(base));
    if (is_error(base)) return;
    fill(base, 5 * Page, 4);
    expect("munmap the middle page", munmap(base + 2 * Page, Page), 0);
    expect_true("pages below the hole kept", holds(base, 2 * Page, 4));
    expect_true("pages above the hole kept", holds(base + 3 * Page, 2 * Page, 4));
    fill(base + 3 * Page, 2 * Page, 5);
    expect_true("pages above the hole writable", holds(base + 3 * Page, 2 * Page, 5));
    expect("munmap the hole again", munmap(base + 2 * Page, Page), 0);
    expect("munmap across the hole, length rounded up", munmap(base, 5 * Page - 100), 0);
    expect("munmap of a range never mapped", munmap(0x1000000000, 16 * Page), 0);
    expect("the range can be mapped again", mmap(base, 5 * Page, ReadWrite, Anonymous | MAP_FIXED_NOREPLACE), base);
    expect_true("and comes back zeroed", is_zero(base, 5 * Page));
    expect("munmap it", munmap(base, 5 * Page), 0);
}

void test_bad_arguments() {
    expect("munmap unaligned", munmap(0x2000000001, Page), -EINVAL);
    expect("munmap length 0", munmap(0x2000000000, 0), -EINVAL);
    expect("munmap kernel half", munmap(0xffffffc000000000ul, Page), -EINVAL);
    expect("mmap length 0", mmap(0, 0, ReadWrite, Anonymous), -EINVAL);
    expect("mmap length overflowing", mmap(0, ~0ul, ReadWrite, Anonymous), -EINVAL);
    expect("mmap W+X", mmap(0, Page, ReadWrite | PROT_EXEC, Anonymous), -EINVAL);
    expect("mmap unknown PROT bit", mmap(0, Page, PROT_READ | 0x10, Anonymous), -EINVAL);
    expect("mmap file-backed", mmap(0, Page, PROT_READ, MAP_PRIVATE, 0), -ENODEV);
    expect("mmap shared", mmap(0, Page, ReadWrite, MAP_SHARED | MAP_ANONYMOUS), -EINVAL);
    expect("mmap anonymous with an fd", mmap(0, Page, ReadWrite, Anonymous, 3), -EINVAL);
    expect("mmap anonymous with an offset", mmap(0, Page, ReadWrite, Anonymous, -1, Page), -EINVAL);
    expect("MAP_FIXED unaligned", mmap(0x2000000800, Page, ReadWrite, Anonymous | MAP_FIXED), -EINVAL);
    expect("MAP_FIXED at null", mmap(0, Page, ReadWrite, Anonymous | MAP_FIXED), -EPERM);
    expect("MAP_FIXED over the stack", mmap(0x3fe0000000, Page, ReadWrite, Anonymous | MAP_FIXED), -ENOMEM);
    long code = mmap(0, Page, PROT_READ | PROT_EXEC, Anonymous);
    expect_true("mmap R+X", !is_error(code));
    expect("munmap R+X", munmap(code, Page), 0);
}

void test_exhaustion() {
    expect("mmap 1 TiB", mmap(0, 1ul << 40, ReadWrite, Anonymous), -ENOMEM);
    expect("mmap 64 GiB (more than RAM)", mmap(0, 64ul << 30, ReadWrite, Anonymous), -ENOMEM);
    // Fill the region table with one-page mappings that cannot merge (alternating permissions).
    long split_me = mmap(0, 3 * Page, ReadWrite, Anonymous);
    expect_true("mmap 3 pages", !is_error(split_me));
    if (is_error(split_me)) return;
    fill(split_me, 3 * Page, 6);
    long pages[100];
    size_t count = 0;
    long last = 0;
    while (count < 100) {
        last = mmap(0, Page, count % 2 ? ReadWrite : PROT_READ, Anonymous);
        if (is_error(last)) break;
        pages[count++] = last;
    }
    expect("full region table", last, -ENOMEM);
    expect_true("region table holds dozens of regions", count >= 32 && count < 100);
    expect("split with a full table", munmap(split_me + Page, Page), -ENOMEM);
    expect_true("failed split changed nothing", holds(split_me, 3 * Page, 6));
    expect("trim with a full table", munmap(split_me, Page), 0);
    expect_true("trimmed mapping kept the rest", holds(split_me + Page, 2 * Page, 6));
    for (size_t i = 0; i < count; ++i) expect("munmap a page", munmap(pages[i], Page), 0);
    expect("munmap the rest", munmap(split_me + Page, 2 * Page), 0);
}

// set_memory_limit / memory_usage (docs/syscalls.md, "Memory limit"): mmap, brk and clone are refused
// past the limit, which can only be lowered. Last: the limit stays for the rest of the process.
void test_memory_limit() {
    const long usage = memory_usage();
    expect_true("memory_usage counts the stack and the thread", usage >= static_cast<long>(64 * 1024 + 16 * 1024));
    expect("set_memory_limit(0)", set_memory_limit(0), -EPERM);
    expect("set_memory_limit(usage + 3 pages)", set_memory_limit(usage + 3 * Page), 0);
    expect("raise the limit", set_memory_limit(usage + 100 * Page), -EPERM);
    const long two = mmap(0, 2 * Page, ReadWrite, Anonymous);
    expect_true("mmap of 2 pages within the limit", !is_error(two));
    // The two pages, and a page-table page if the mapping needed a new one (tables count too).
    const long grown = memory_usage() - usage;
    expect_true("memory_usage after it", grown == 2 * static_cast<long>(Page) || grown == 3 * static_cast<long>(Page));
    expect("mmap of 2 more pages past the limit", mmap(0, 2 * Page, ReadWrite, Anonymous), -ENOMEM);
    expect("PROT_NONE costs nothing", is_error(mmap(0, 16 * Page, PROT_NONE, Anonymous)), false);
    const long end = brk(0);
    expect("brk past the limit leaves the break", brk(end + 2 * Page), end);
    expect("munmap", munmap(two, 2 * Page), 0);
    const long three = mmap(0, 3 * Page, ReadWrite, Anonymous);
    expect_true("mmap up to the limit exactly", !is_error(three));
    // clone(CLONE_VM | FS | FILES | SIGHAND | THREAD) on a valid stack: a thread's kernel stack and
    // record do not fit any more.
    expect("clone past the limit", syscall(220, 0x10f00, three + 3 * Page), -ENOMEM);
}

} // namespace

int main() {
    test_brk();
    test_sizes();
    test_hint_and_fixed();
    test_munmap();
    test_bad_arguments();
    test_exhaustion();
    test_memory_limit();
    print(failures == 0 ? "memtest: ok\n" : "memtest: FAILED\n");
    return failures == 0 ? 0 : 1;
}
