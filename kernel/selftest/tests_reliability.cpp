// Self-test of reliability against hostile multithreaded processes (issue 14, docs/reliability.md):
// bin/hostile's cases race system calls from several threads on every hart; afterwards the kernel
// must still run programs, every process must have been reaped and the free frames and the kernel
// heap must be back to their figures.
#include "kernel/arch/riscv/timer.hpp"
#include "kernel/mm/memory.hpp"
#include "kernel/proc/memory_limit.hpp"
#include "kernel/proc/process.hpp"
#include "kernel/sched/scheduler.hpp"
#include "kernel/selftest/selftest.hpp"

namespace kernel {

namespace {

bool hostile_case(const char* name) {
    const char* arguments[] = {"bin/hostile", name};
    auto status = proc::run_program("bin/hostile", arguments, 2);
    if (!status) {
        println("    bin/hostile {}: {}", name, error_name(status.error()));
        return false;
    }
    if (*status != 0) println("    bin/hostile {}: exit status {}", name, *status);
    return *status == 0;
}


// bin/hostile map-reserve (maps 4 MiB, more than is free beyond the reserve) as a process that may or may not use the reserve; its status.
int map_in_reserve(bool may_use_reserve) {
    const char* arguments[] = {"bin/hostile", "map-reserve"};
    proc::SpawnOptions options;
    options.may_use_reserve = may_use_reserve;  // as init and what init spawns
    auto process = proc::spawn("bin/hostile", arguments, 2, options);
    if (!process) return -1;
    auto status = proc::wait((*process)->pid);
    return status ? *status : -1;
}

// While `hostile reserve`'s two hogs hold all the memory they could take: the reserve is left, the
// kernel and a process that may use the reserve still allocate, any other process cannot. Then the
// hogs (orphans by now) are killed.
bool reserve_held() {
    size_t free = mm::frames().free_frames(), reserve = proc::reserve_frames();
    println("    with the hogs holding memory: free frames {}, reserve {}", free, reserve);
    SELFTEST_CHECK(free + 16 >= reserve);    // only the kernel's own work took any of it
    // The hogs took everything else; what is free beyond the reserve came back when `hostile
    // reserve` itself ended (its program and stack: about 340 frames).
    SELFTEST_CHECK(free <= reserve + 512);
    void* block = mm::heap().allocate(256 * 1024);
    SELFTEST_CHECK(block != nullptr);        // the kernel's own allocation
    mm::heap().free(block);
    SELFTEST_CHECK(map_in_reserve(true) == 0);
    SELFTEST_CHECK(map_in_reserve(false) != 0);
    struct Hogs {
        uint32_t pids[8];
        size_t count = 0;
    } hogs;
    proc::for_each_process(
        [](const proc::Process& p, void* context) {
            auto& found = *static_cast<Hogs*>(context);
            if (p.state == proc::ProcessState::Alive && __builtin_memcmp(p.name, "hostile", 8) == 0 && found.count < 8)
                found.pids[found.count++] = p.pid;
        },
        &hogs);
    SELFTEST_CHECK(hogs.count >= 2);  // the two hogs (and any orphan of an earlier case still ending)
    for (size_t i = 0; i < hogs.count; ++i) SELFTEST_CHECK(proc::kill(hogs.pids[i]));
    return true;
}

} // namespace

size_t process_count() {
    size_t count = 0;
    proc::for_each_process([](const proc::Process&, void* context) { ++*static_cast<size_t*>(context); }, &count);
    return count;
}

// Schedules on this hart until only `figure` processes are left (orphans still running end and are
// reaped by the kernel) or `milliseconds` have passed; true when the figure is reached.
bool table_back_to_within(size_t figure, uint64_t milliseconds) {
    uint64_t deadline = riscv::timer::now() + riscv::timer::frequency() * milliseconds / 1000;
    while (process_count() > figure) {
        if (riscv::timer::now() >= deadline) {
            proc::for_each_process(
                [](const proc::Process& p, void*) {
                    println("    left in the process table: {} ({}), parent {}, {}", p.pid, p.name, p.parent_pid,
                            p.state == proc::ProcessState::Exited ? "exited" : "alive");
                },
                nullptr);
            return false;
        }
        if (!proc::run_kernel_step()) proc::wait_for_kernel_work();
    }
    return true;
}

bool selftest_reliability() {
    SELFTEST_CHECK(proc::init_archive());
    SELFTEST_CHECK(hostile_case("exit"));  // warm-up: heap slabs for process records stay cached
    size_t free_before = mm::frames().free_frames();
    size_t heap_before = mm::heap().stats().bytes_in_use;
    size_t processes_before = process_count();  // 0 unless an earlier self-test left some

    SELFTEST_CHECK(hostile_case("wait-race"));
    SELFTEST_CHECK(hostile_case("orphans"));
    SELFTEST_CHECK(hostile_case("mm-race"));
    SELFTEST_CHECK(hostile_case("kill-race"));
    SELFTEST_CHECK(hostile_case("kill-waits"));
    SELFTEST_CHECK(hostile_case("async-share"));
    SELFTEST_CHECK(hostile_case("memory"));
    SELFTEST_CHECK(hostile_case("reserve"));
    SELFTEST_CHECK(reserve_held());

    SELFTEST_CHECK(table_back_to_within(processes_before, 2000));
    SELFTEST_CHECK(hostile_case("exit"));  // spawn still works
    size_t free_after = mm::frames().free_frames();
    size_t heap_after = mm::heap().stats().bytes_in_use;
    println("    free frames before {} after {}, heap bytes in use before {} after {}", free_before, free_after,
            heap_before, heap_after);
    SELFTEST_CHECK(free_after == free_before);
    SELFTEST_CHECK(heap_after == heap_before);
    return true;
}

} // namespace kernel
