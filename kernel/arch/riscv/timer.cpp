#include "kernel/arch/riscv/timer.hpp"

#include <atomic>

#include "kernel/arch/riscv/csr.hpp"
#include "kernel/arch/riscv/hart.hpp"
#include "kernel/arch/riscv/sbi.hpp"
#include "kernel/arch/riscv/trap.hpp"

namespace kernel::riscv::timer {

namespace {
uint64_t timebase = 0;   // set once at boot
uint64_t tick_interval = 0;
uint64_t boot_time = 0;
std::atomic<TickHook> tick_hook{nullptr};  // every hart reads it at every tick

void arm(Hart& hart, uint64_t when) {
    if (hart.has_sstc) write_stimecmp(when);
    else sbi::set_timer(when);
}

void touch_stimecmp() { write_stimecmp(~0ull); }
} // namespace

void init(uint64_t timebase_frequency) {
    timebase = timebase_frequency;
    tick_interval = timebase_frequency / TicksPerSecond;
    if (tick_interval == 0) tick_interval = 1;
    boot_time = read_time();
}

void start_on_this_hart() {
    Hart* hart = current_hart();
    // The ISA string says whether the hart has Sstc; only a probe says whether the firmware lets
    // S mode use it (menvcfg.STCE).
    hart->has_sstc = hart->info && hart->info->isa.sstc && probe(touch_stimecmp);
    arm(*hart, read_time() + tick_interval);
}

void handle_interrupt() {
    Hart* hart = current_hart();
    hart->timer_ticks.fetch_add(1, std::memory_order_relaxed);
    uint64_t now = read_time();
    arm(*hart, now + tick_interval);
    if (TickHook hook = tick_hook.load(std::memory_order_acquire)) hook(now);
}

void set_tick_hook(TickHook hook) { tick_hook.store(hook, std::memory_order_release); }

uint64_t frequency() { return timebase; }
uint64_t now() { return read_time(); }

uint64_t nanoseconds_since_boot() {
    uint64_t elapsed = read_time() - boot_time;
    return elapsed / timebase * 1'000'000'000ull + elapsed % timebase * 1'000'000'000ull / timebase;
}

void busy_wait_microseconds(uint64_t microseconds) {
    uint64_t end = read_time() + microseconds * timebase / 1'000'000ull;
    while (read_time() < end) {
    }
}

} // namespace kernel::riscv::timer
