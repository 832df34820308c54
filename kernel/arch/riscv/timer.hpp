// The supervisor timer: a periodic tick on every hart.
//
// Uses Sstc's stimecmp where the hart has it and the firmware enabled it (a probe decides),
// the SBI timer call otherwise. Time is the `time` CSR, counting at the device tree's
// timebase-frequency.
#pragma once

#include <cstdint>

namespace kernel::riscv::timer {

constexpr uint64_t TicksPerSecond = 100;

void init(uint64_t timebase_frequency);
// Probes Sstc on the calling hart and arms its first tick.
void start_on_this_hart();
void handle_interrupt();
// Called on every tick of every hart with the current time, in interrupt context: a top half, which
// leaves the work that can wait to a bottom half (kernel/sched/bottom_half.hpp). Set at boot
// (proc::timer_tick); a self-test may put in its own hook, which calls proc::timer_tick too, and
// put proc::timer_tick back afterwards.
using TickHook = void (*)(uint64_t now);
void set_tick_hook(TickHook hook);

uint64_t frequency();
uint64_t now();                              // in timebase units
uint64_t nanoseconds_since_boot();
void busy_wait_microseconds(uint64_t microseconds);

} // namespace kernel::riscv::timer
