// Memory rows: bytes_per_coroutine, max_coroutines_64MiB, bytes_per_thread, max_threads_64MiB.
//
// Each repetition is a child process (bin/bench budget-coroutines|budget-threads FD) that limits
// itself to 64 MiB with set_memory_limit: the kernel then refuses any mmap, brk or clone that would
// take the process's usage past it (user pages, plus each thread's kernel stack and Thread record:
// docs/syscalls.md). Its program, stack and runtime are inside the 64 MiB. The child creates until
// creation fails and writes {count, bytes per item} to the pipe FD; the parent prints the rows.
#include "user/lib/format.hpp"
#include "user/lib/print.hpp"
#include "user/programs/bench/bench.hpp"

namespace bench {

namespace {

constexpr size_t Budget = size_t{64} << 20;
constexpr size_t PageSize = 4096;
constexpr size_t ThreadStackSize = PageSize; // the least a thread can have: one page

struct BudgetResult {
    uint64_t count;
    uint64_t bytes_per_item;
};

size_t round_up(size_t value, size_t unit) { return (value + unit - 1) / unit * unit; }

bool send(int fd, const BudgetResult& result) {
    return user::write(fd, &result, sizeof(result)) == static_cast<long>(sizeof(result));
}

// --- coroutines ----------------------------------------------------------------------------------

// The coroutine counted: no parameters or locals of its own (its frame is the runtime's part alone:
// resume and destroy pointers, the promise, the suspension index, the reference that pays for the
// frame). Spawned, never resumed: a Ready coroutine holds what a waiting one holds.
user::Task<> minimal(vdso::FrameAllocator&) { co_return; }

// The frame size of `minimal`, as the frame allocator is asked for it (its FrameHeader says).
size_t minimal_frame_size() {
    const user::VdsoFunctions& functions = user::vdso_functions();
    alignas(16) static std::byte memory[1024];
    alignas(16) static std::byte allocator_memory[256];
    if (functions.frame_allocator_size() > sizeof(allocator_memory) ||
        functions.frame_allocator_init(allocator_memory, memory, sizeof(memory), sizeof(memory)) != 0)
        return 0;
    auto handle = minimal(*reinterpret_cast<vdso::FrameAllocator*>(allocator_memory)).release();
    if (!handle) return 0;
    const size_t size = (static_cast<vdso::FrameHeader*>(handle.address()) - 1)->size;
    handle.destroy();
    return size;
}

// A second executor in this process, all of it in one mapping of what the budget has left: its
// state, a frame allocator, `capacity` control blocks and `capacity` frame blocks (one per
// coroutine; each block the frame plus its 16-byte header, rounded to 16). Coroutines are spawned
// through the vDSO until a frame or a block cannot be had.
BudgetResult fill_with_coroutines() {
    const user::VdsoFunctions& functions = user::vdso_functions();
    const size_t frame = minimal_frame_size();
    if (frame == 0) return {};
    const size_t block = round_up(frame + sizeof(vdso::FrameHeader), 16);
    const size_t control_block = functions.control_block_size();
    // What the budget has left, as the kernel counts it; a page less each time it refuses.
    const long usage = user::memory_usage();
    if (usage < 0 || static_cast<size_t>(usage) >= Budget) return {};
    size_t size = (Budget - static_cast<size_t>(usage)) / PageSize * PageSize;
    long memory = -1;
    for (; size > 0 && (memory = user::mmap(0, size, user::PROT_READ | user::PROT_WRITE,
                                            user::MAP_PRIVATE | user::MAP_ANONYMOUS)) < 0;)
        size -= PageSize;
    if (memory < 0) return {};
    const size_t state_bytes = round_up(functions.executor_state_size(), 64);
    const size_t allocator_bytes = round_up(functions.frame_allocator_size(), 64);
    const size_t capacity = (size - state_bytes - allocator_bytes) / (control_block + block);
    auto* state = reinterpret_cast<std::byte*>(memory);
    std::byte* allocator = state + state_bytes;
    std::byte* blocks = allocator + allocator_bytes;
    std::byte* pool = blocks + capacity * control_block;
    if (functions.executor_init(state, blocks, static_cast<uint32_t>(capacity)) != 0 ||
        functions.frame_allocator_init(allocator, pool, capacity * block, block) != 0)
        return {};
    uint64_t count = 0;
    for (;;) {
        auto handle = minimal(*reinterpret_cast<vdso::FrameAllocator*>(allocator)).release();
        if (!handle) break; // no frame
        if (functions.executor_spawn(state, handle.address(), &handle.promise(), user::DefaultPriority, nullptr,
                                     nullptr) != 0) {
            handle.destroy(); // no control block
            break;
        }
        ++count;
    }
    return {count, control_block + block};
}

// --- threads -------------------------------------------------------------------------------------

int park_word = 0;       // never changes: parked threads wait on it until the process ends
int shared_tid_word = 0; // every parked thread's tid word: they are never joined

int park(void*) {
    for (;;) user::futex_wait(&park_word, 0);
}

// Threads, each on a one-page stack of its own, until mmap or clone is refused. They stay parked on a
// futex; they end with the process.
BudgetResult fill_with_threads() {
    const long before = user::memory_usage();
    uint64_t count = 0;
    for (;;) {
        const long stack = user::mmap(0, ThreadStackSize, user::PROT_READ | user::PROT_WRITE,
                                      user::MAP_PRIVATE | user::MAP_ANONYMOUS);
        if (stack < 0) break;
        if (user::spawn_thread(park, nullptr, reinterpret_cast<void*>(stack + ThreadStackSize), &shared_tid_word) <= 0) {
            user::munmap(static_cast<uintptr_t>(stack), ThreadStackSize);
            break;
        }
        ++count;
    }
    const long after = user::memory_usage();
    if (count == 0 || before < 0 || after < before) return {};
    return {count, static_cast<uint64_t>(after - before) / count};
}

// --- the parent ----------------------------------------------------------------------------------

// One child run of `role`; false if it failed.
bool run_budget_child(const char* program, const char* role, BudgetResult& result) {
    int fds[2];
    if (user::pipe2(fds, 0) != 0) return false;
    char fd_text[24];
    const char* arguments[] = {program, role, user::decimal_text(static_cast<unsigned long>(fds[1]), fd_text), nullptr};
    const long child = user::spawn(program, arguments);
    user::close(fds[1]);
    size_t received = 0;
    auto* bytes = reinterpret_cast<char*>(&result);
    while (child > 0 && received < sizeof(result)) {
        const long got = user::read(fds[0], bytes + received, sizeof(result) - received);
        if (got <= 0) break; // the child ended without sending
        received += static_cast<size_t>(got);
    }
    user::close(fds[0]);
    int status = -1;
    if (child > 0) user::wait4(child, &status, 0);
    return child > 0 && received == sizeof(result) && status == 0 && result.count > 0;
}

bool bench_budget(const Settings& settings, const char* program, const char* role, const char* bytes_row,
                  const char* count_row) {
    Repetitions bytes, counts;
    for (uint32_t run = 0; run < settings.budget_runs; ++run) {
        BudgetResult result{};
        if (!run_budget_child(program, role, result)) {
            report_failure(count_row, "the budget child failed");
            return false;
        }
        bytes.add_whole(result.bytes_per_item);
        counts.add_whole(result.count);
    }
    print_row(bytes_row, "bytes", bytes);
    print_row(count_row, "count", counts);
    return true;
}

} // namespace

int run_coroutine_budget(int fd) {
    if (user::set_memory_limit(Budget) != 0) return 1;
    return send(fd, fill_with_coroutines()) ? 0 : 1;
}

int run_thread_budget(int fd) {
    if (user::set_memory_limit(Budget) != 0) return 1;
    const BudgetResult result = fill_with_threads();
    return send(fd, result) ? 0 : 1; // the parked threads end with the process
}

bool bench_memory(const Settings& settings, const char* program) {
    bool ok = bench_budget(settings, program, "budget-coroutines", "bytes_per_coroutine", "max_coroutines_64MiB");
    ok = bench_budget(settings, program, "budget-threads", "bytes_per_thread", "max_threads_64MiB") && ok;
    return ok;
}

} // namespace bench
