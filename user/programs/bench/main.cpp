// bin/bench's entry (bench.hpp): the settings of the two modes, the helper roles, the rows in order.
#include "user/lib/format.hpp"

#include <string_view>
#include "user/lib/print.hpp"
#include "user/programs/bench/bench.hpp"

namespace bench {

namespace {

// Full: each repetition runs many operations (a few million instructions), 7 repetitions.
constexpr Settings Full{false, 7, 20'000, 5'000, 20'000, 1'000, 32, 5};
// Quick (make test's guard): few operations, every row still produced.
constexpr Settings Quick{true, 5, 400, 100, 200, 50, 4, 1};

bool failed = false;

void print_tenths(char* buffer, size_t size, uint64_t tenths, bool whole) {
    if (whole) fmt::format_to_n(buffer, size - 1, "{}", tenths / 10).out[0] = '\0';
    else fmt::format_to_n(buffer, size - 1, "{}.{}", tenths / 10, tenths % 10).out[0] = '\0';
}

bool equals(const char* a, const char* b) { return std::string_view(a) == std::string_view(b); }

} // namespace

void print_row(const char* name, const char* unit, const Repetitions& runs) {
    const kernel::measurement::Summary summary = runs.summary();
    const bool whole = !equals(unit, "instructions");
    char median[32], min[32], max[32];
    print_tenths(median, sizeof(median), summary.median, whole);
    print_tenths(min, sizeof(min), summary.min, whole);
    print_tenths(max, sizeof(max), summary.max, whole);
    user::println("BENCH {} {} {} {} {}", name, unit, median, min, max);
}

void print_row(const char* prefix, uint32_t number, const char* unit, const Repetitions& runs) {
    char name[64];
    fmt::format_to_n(name, sizeof(name) - 1, "{}_{}", prefix, number).out[0] = '\0';
    print_row(name, unit, runs);
}

void report_failure(const char* row, const char* what, long value) {
    user::println("bench: {}: FAILED: {} ({})", row, what, value);
    failed = true;
}

} // namespace bench

user::Task<int> async_main(user::Runtime& runtime, int argc, char** argv) {
    using namespace bench;
    const char* mode = argc > 1 ? argv[1] : "full";
    const int fd = argc > 2 ? static_cast<int>(user::parse_decimal(argv[2])) : -1;
    if (equals(mode, "yield-partner")) co_return run_yield_partner(fd);
    if (equals(mode, "budget-coroutines")) co_return run_coroutine_budget(fd);
    if (equals(mode, "budget-threads")) co_return run_thread_budget(fd);
    if (!equals(mode, "full") && !equals(mode, "quick")) {
        user::eprintln("usage: bench full|quick");
        co_return 2;
    }
    const Settings& settings = equals(mode, "quick") ? Quick : Full;

    if (!(co_await bench_coroutines(runtime, settings)).value_or(false)) failed = true;
    if (!bench_threads_and_processes(settings, argv[0])) failed = true;
    if (!bench_pipe_rings(settings)) failed = true;
    if (!(co_await bench_async(runtime, settings)).value_or(false)) failed = true;
    if (!bench_memory(settings, argv[0])) failed = true;

    user::println("bench: done, {}", failed ? "FAILED" : "all ran");
    co_return failed ? 1 : 0;
}
