// The benchmark mode (bench.hpp): the kernel's own rows, then bin/bench.
#include "kernel/bench/bench.hpp"

#include "abi/measurement.hpp"
#include "kernel/arch/riscv/csr.hpp"
#include "kernel/arch/riscv/hart.hpp"
#include "kernel/arch/riscv/trap.hpp"
#include "kernel/console/log.hpp"
#include "kernel/proc/process.hpp"
#include "kernel/sched/scheduler.hpp"
#include "kernel/vdso/binding.hpp"

namespace kernel {

namespace {

using measurement::Repetitions;

struct Settings {
    uint32_t repetitions;
    uint32_t fetches;  // per repetition
};
constexpr Settings Full{7, 20'000};
constexpr Settings Quick{5, 200};

void print_row(const char* name, const char* unit, const Repetitions& runs) {
    measurement::Summary s = runs.summary();
    println("BENCH {} {} {}.{} {}.{} {}.{}", name, unit, s.median / 10, s.median % 10, s.min / 10, s.min % 10,
            s.max / 10, s.max % 10);
}

void read_instret_once() { (void)riscv::read_instret(); }

// Instructions of an empty measurement: two rdinstret back to back (subtracted from each fetch).
uint64_t empty_measurement() {
    uint64_t before = riscv::read_instret();
    uint64_t after = riscv::read_instret();
    return after - before;
}

// kernel_fetch_<ready>: the instructions of one cokernel_executor_fetch, called by the kernel through
// its vDSO binding, on an executor of its own (not the switch executor, which other work uses) with
// `ready` coroutines spread over the 64 priority levels (ready % 64 per level, as the host benchmark
// fetch_N). Each fetched coroutine is put back at the tail of its level (yield + finish, not counted),
// so every fetch sees `ready` coroutines. Interrupts are off while measuring. The coroutines are
// never resumed: only their control blocks matter.
bool bench_kernel_fetch(uint32_t ready, const Settings& settings, const char* name) {
    const vdso_binding::ExecutorFunctions& functions = vdso_binding::executor_functions();
    auto executor = vdso_binding::create_executor(ready);
    if (!executor) {
        println("bench: {}: no memory for an executor of {} coroutines", name, ready);
        return false;
    }
    static char never_resumed;  // a resume address: the frame is never run
    bool ok = true;
    for (uint32_t i = 0; i < ready && ok; ++i)
        ok = functions.executor_spawn(executor->state, &never_resumed, nullptr, i % 64, nullptr, nullptr) == 0;
    Repetitions runs;
    bool interrupts_were_on = riscv::save_and_disable_interrupts();
    const uint64_t empty = empty_measurement();
    for (uint32_t repetition = 0; repetition < settings.repetitions && ok; ++repetition) {
        uint64_t total = 0;
        for (uint32_t operation = 0; operation < settings.fetches; ++operation) {
            uint64_t before = riscv::read_instret();
            cokernel_fetched fetched = functions.executor_fetch(executor->state, nullptr);
            uint64_t after = riscv::read_instret();
            if (fetched.block == nullptr) {
                ok = false;
                break;
            }
            total += after - before - empty;
            functions.coroutine_record_suspension(fetched.block, &never_resumed, COKERNEL_SUSPEND_YIELD, nullptr,
                                                  nullptr);
            (void)functions.executor_finish(executor->state, nullptr, fetched);
        }
        runs.add_per_operation(total, settings.fetches);
    }
    riscv::restore_interrupts(interrupts_were_on);
    if (ok) ok = functions.executor_check_invariants(executor->state) == 1;
    vdso_binding::destroy_executor(*executor);
    if (!ok) {
        println("bench: {}: FAILED (spawn, fetch or the executor's invariants)", name);
        return false;
    }
    print_row(name, "instructions", runs);
    return true;
}

// Runs threads on this hart exactly as a hart's scheduler loop does (proc::run_scheduler: a kernel
// step, then an interrupt window), until `process` has exited; then reaps it. (proc::wait would scan
// the process table under its lock at every step, which the measured switches would pay for.)
Result<int> run_until_exit(proc::Process& process) {
    bool interrupts_were_on = riscv::save_and_disable_interrupts();
    for (;;) {
        proc::ProcessState state;
        __atomic_load(&process.state, &state, __ATOMIC_ACQUIRE);  // the record stays until reaped
        if (state == proc::ProcessState::Exited) break;
        if (!proc::run_kernel_step()) riscv::wait_for_interrupt();
        riscv::enable_interrupts();
        riscv::disable_interrupts();
    }
    riscv::restore_interrupts(interrupts_were_on);
    return proc::reap(process.pid);
}

bool run_user_benchmarks(bool quick) {
    const char* arguments[] = {"bin/bench", quick ? "quick" : "full"};
    auto process = proc::spawn("bin/bench", arguments, 2);
    if (!process) {
        println("bench: cannot run bin/bench: {}", error_name(process.error()));
        return false;
    }
    auto status = run_until_exit(**process);
    if (!status || *status != 0) println("bench: bin/bench exited with status {}", status ? *status : -1);
    return status && *status == 0;
}

} // namespace

bool run_benchmarks(std::string_view mode) {
    if (!mode.empty() && mode != "full" && mode != "quick") {
        println("bench: unknown mode '{}' (full or quick) ... FAILED", mode);
        return false;
    }
    const bool quick = mode == "quick";
    const Settings& settings = quick ? Quick : Full;
    if (!riscv::probe(read_instret_once)) {
        println("bench: rdinstret is not readable in S mode (mcounteren) ... FAILED");
        return false;
    }
    println("bench: {} mode, {} hart(s) online; BENCH name unit median min max", quick ? "quick" : "full",
            online_hart_count());
    bool ok = proc::init_archive();
    ok = bench_kernel_fetch(16, settings, "kernel_fetch_16") && ok;
    ok = bench_kernel_fetch(65536, settings, "kernel_fetch_65536") && ok;
    ok = ok && run_user_benchmarks(quick);
    println("bench: finished, {}", ok ? "all ran" : "FAILED");
    return ok;
}

} // namespace kernel
