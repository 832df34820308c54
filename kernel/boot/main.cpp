// The boot sequence, from boot.S's jump into C++ to the monitor (or the self-tests).
#include "kernel/boot/boot.hpp"

#include <string_view>

#include "drivers/rtc/goldfish_rtc.hpp"
#include "kernel/arch/riscv/csr.hpp"
#include "kernel/arch/riscv/hart.hpp"
#include "kernel/arch/riscv/interrupts.hpp"
#include "kernel/arch/riscv/sbi.hpp"
#include "kernel/arch/riscv/timer.hpp"
#include "kernel/arch/riscv/trap.hpp"
#include "kernel/bench/bench.hpp"
#include "kernel/boot/banner.hpp"
#include "kernel/console/log.hpp"
#include "kernel/fdt/fdt.hpp"
#include "kernel/lib/bootargs.hpp"
#include "kernel/mm/memory.hpp"
#include "kernel/net/virtio_devices.hpp"
#include "kernel/monitor/monitor.hpp"
#include "kernel/net/stack.hpp"
#include "kernel/proc/memory_limit.hpp"
#include "kernel/proc/process.hpp"
#include "kernel/rt/runtime.hpp"
#include "kernel/sched/fp_state.hpp"
#include "kernel/sched/scheduler.hpp"
#include "kernel/selftest/selftest.hpp"
#include "kernel/syscall/dispatch.hpp"
#include "kernel/syscall/handlers.hpp"
#include "kernel/uintr/user_interrupt.hpp"
#include "kernel/vdso/vdso.hpp"

extern "C" char boot_stack_top[];

[[noreturn]] static void continue_boot();

namespace kernel {

namespace {

constexpr size_t BootStackSize = 16384;       // boot.S
constexpr size_t MaxDeviceTreeSize = 1 << 20;  // larger than any real tree; bounds the header check

fdt::BootInfo platform;
const char* console_name = nullptr;  // what console::init found, for the banner

// Parses the device tree the firmware passed. A broken tree stops the boot with the parser's
// diagnostic: nothing else could be trusted after it.
uint64_t parse_device_tree(mm::PhysicalAddress device_tree) {
    if (device_tree == 0 || device_tree % 8 != 0 || device_tree >= mm::DirectMapSize)
        panic("device tree: bad address {:#x} from the firmware", device_tree);
    const void* blob = mm::physical_map().to_virtual(device_tree);
    fdt::Diagnostic diagnostic;
    auto size = fdt::validate_header(blob, MaxDeviceTreeSize, diagnostic);
    if (!size) panic("device tree at {:#x}: {} (offset {:#x})", device_tree, diagnostic.message, diagnostic.offset);
    if (auto parsed = fdt::parse_boot_info(blob, *size, platform, diagnostic); !parsed)
        panic("device tree at {:#x}: {} (offset {:#x})", device_tree, diagnostic.message, diagnostic.offset);
    return *size;
}

// Whether every hart the kernel will run user threads on has F and D (threads move between harts,
// so the unit is offered to user programs only if all have it).
bool every_hart_has_fd() {
    bool any = false;
    for (size_t i = 0; i < platform.hart_count; ++i) {
        const fdt::HartInfo& hart = platform.harts[i];
        if (!hart.enabled || !hart.has_mmu) continue;
        if (!hart.isa.f || !hart.isa.d) return false;
        any = true;
    }
    return any;
}

// CLOCK_REALTIME's start: the goldfish RTC of the device tree, else the boot argument
// realtime=SECONDS (since the Unix epoch), else the epoch.
void init_realtime() {
    if (platform.rtc.present) {
        auto base = reinterpret_cast<uintptr_t>(mm::physical_map().to_virtual(platform.rtc.base));
        proc::set_realtime(drivers::goldfish_rtc_nanoseconds(base));
        return;
    }
    std::string_view seconds = BootArgs(platform.bootargs).value("realtime");
    uint64_t value = 0;
    for (char c : seconds) {
        if (c < '0' || c > '9' || value > ~uint64_t{0} / 10'000'000'000ull) return;  // ignored if not a number
        value = value * 10 + static_cast<uint64_t>(c - '0');
    }
    if (!seconds.empty()) proc::set_realtime(value * 1'000'000'000ull);
}

// User mode may read the cycle, time and instructions-retired counters (rdcycle, rdtime, rdinstret):
// clock reads without a system call, and the in-guest benchmarks (docs/performance.md). Per hart;
// the firmware's mcounteren must allow them as well (OpenSBI does).
void allow_user_counters() {
    riscv::write_scounteren(riscv::CounterCycle | riscv::CounterTime | riscv::CounterInstructionsRetired);
}

void start_interrupts_on_this_hart() {
    proc::init_user_interrupts_on_this_hart();
    riscv::timer::start_on_this_hart();
    riscv::enable_hart_interrupts();
}

} // namespace

const fdt::BootInfo& boot_info() { return platform; }

} // namespace kernel

using namespace kernel;

extern "C" [[noreturn]] void kernel_main(uint32_t hart_id, mm::PhysicalAddress device_tree) {
    uint64_t stack_top = reinterpret_cast<uint64_t>(boot_stack_top);
    init_boot_hart(hart_id, stack_top - BootStackSize, stack_top);
    riscv::install_trap_vector();
    run_static_constructors();

    uint64_t device_tree_size = parse_device_tree(device_tree);
    platform.boot_hart_hint = hart_id;
    complete_boot_hart_record();
    console_name = console::init(platform.uart);

    if (auto memory = mm::init(platform, device_tree, device_tree_size); !memory)
        panic("memory setup failed: {}", error_name(memory.error()));
    // From here on the boot hart runs on a stack with a guard page, like every other kernel stack.
    move_boot_hart_to_stack_area(continue_boot);
}

// The rest of the boot, on the boot hart's stack in the kernel stack area.
[[noreturn]] static void continue_boot() {
    vdso_binding::init();  // before any process: every address space maps it

    riscv::timer::init(platform.timebase_frequency);
    riscv::timer::set_tick_hook(proc::timer_tick);
    allow_user_counters();
    proc::init_console_input();
    proc::init_scheduler();
    proc::init_fp_state(every_hart_has_fd(), BootArgs(platform.bootargs).has("nofpu"));
    proc::set_log_missing_syscalls(BootArgs(platform.bootargs).has("log-enosys"));
    proc::init_user_interrupts();
    riscv::init_plic(platform.plic);
    if (console::irq() != 0)
        riscv::register_external_interrupt(console::irq(), current_hart()->plic_context, console::receive_interrupt);
    start_interrupts_on_this_hart();
    current_hart()->online.store(true, std::memory_order_release);
    start_secondary_harts();
    proc::start_switch_coroutines();
    // Driver bottom halves (kernel coroutines, kernel/sched/bottom_half.hpp). Without one, its
    // interrupt handler does the work itself, as it did before bottom halves existed.
    if (auto started = proc::start_console_input(); !started)
        println("console input: no bottom half ({}): readers are woken in the interrupt", error_name(started.error()));
    if (auto started = proc::start_sleepers_bottom_half(); !started)
        println("timer: no bottom half ({}): sleepers are woken in the interrupt", error_name(started.error()));
    init_realtime();
    print_banner(platform, console_name);
    // Network devices need the PLIC, interrupts and bottom halves (all above); one line each.
    net::init_virtio_devices(platform);
    // The network stack (lwIP), on the devices the drivers registered just above; `net=off` leaves
    // it out.
    net::init_network(platform.bootargs);
    proc::init_memory_limits(platform.bootargs);  // the default limit and the reserve, before any process
    if (!proc::init_archive()) println("no initial archive: user programs cannot run");

    BootArgs args(platform.bootargs);
    if (args.has("bench")) {
        bool passed = run_benchmarks(args.value("bench"));
        sbi::shutdown(passed ? sbi::ResetReason::None : sbi::ResetReason::SystemFailure);
    }
    if (args.has("selftest")) {
        bool passed = run_selftests(args.value("selftest"), platform.bootargs);
        sbi::shutdown(passed ? sbi::ResetReason::None : sbi::ResetReason::SystemFailure);
    }
    // User space: init (which starts the shell), unless the kernel monitor is asked for or there is
    // no init in the archive.
    if (!args.has("monitor")) {
        const char* init[] = {"bin/init"};
        proc::SpawnOptions options;
        options.init = true;
        auto started = proc::spawn("bin/init", init, 1, options);
        if (started) proc::run_scheduler();
        println("cannot start bin/init ({}): falling back to the kernel monitor", error_name(started.error()));
    }
    run_monitor();
}

// boot.S has switched the hart to the kernel page table already (its stack needs it).
extern "C" [[noreturn]] void secondary_main(uint32_t, Hart* hart) {
    riscv::install_trap_vector();
    allow_user_counters();
    start_interrupts_on_this_hart();
    hart->online.store(true, std::memory_order_release);
    proc::run_scheduler();
}
