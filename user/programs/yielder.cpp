// yielder: coroutines of a low priority keep the executor busy, yielding to each other, until the
// poll loop gives its hart away because another process of higher priority is ready (paper §3.3.2:
// after each coroutine the poll loop reads the kernel's global priority table). The more urgent
// process is its own child, bin/spin, raised to priority 2 by a worker: it becomes urgent while this
// thread runs, so the poll loop, not the timer, must notice. The self-test keeps every other hart
// busy with more urgent spinners, so that the child is ready, not running on a hart of its own. Exits 0 once the hart was given away, 1 if not within
// 5 seconds. Run by the kernel's `priorities` self-test, which ends the spinning child.
#include "user/lib/format.hpp"
#include "user/lib/runtime.hpp"

using user::Runtime;
using user::Task;

namespace {

constexpr int Workers = 4;
constexpr uint32_t WorkerPriority = 30;

long now_ms() {
    user::Timespec t{};
    user::clock_gettime(1, &t);
    return t.seconds * 1000 + t.nanoseconds / 1'000'000;
}

// The first worker makes the child urgent and yields at once: the poll loop's check after this
// coroutine is the first chance to notice. (Raised earlier, the child could take the hart at a timer
// tick before any check, spin until the self-test ends it, and leave nothing to notice.)
Task<> busy(Runtime& runtime, long deadline, long child) {
    if (child > 0 && user::set_priority(child, 2) != 2) co_return;
    while (runtime.hart_yields.load() == 0 && now_ms() < deadline) co_await user::yield_now();
}

} // namespace

Task<int> async_main(Runtime& runtime, int, char**) {
    const long deadline = now_ms() + 5000;
    const char* spin[] = {"bin/spin", nullptr};
    const long child = user::spawn("bin/spin", spin);
    // Until the first worker runs, the child is the least urgent process there is.
    if (child < 0 || user::set_priority(child, 62) != 62) co_return 3;
    user::JoinHandle<void> workers[Workers];
    for (int i = 0; i < Workers; ++i) {
        auto handle = user::spawn(runtime, busy(runtime, deadline, i == 0 ? child : 0), WorkerPriority);
        if (!handle) co_return 2;
        workers[i] = static_cast<user::JoinHandle<void>&&>(*handle);
    }
    for (auto& worker : workers) (void)co_await worker;
    const uint64_t yields = runtime.hart_yields.load();
    user::println("yielder: gave the hart away {} time(s) to a process of higher priority", yields);
    co_return yields > 0 ? 0 : 1;
}
