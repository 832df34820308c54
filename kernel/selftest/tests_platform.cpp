// Self-tests of the platform layer: device tree, harts, timer, IPIs, traps, console receive.
#include "kernel/arch/riscv/csr.hpp"
#include "kernel/arch/riscv/hart.hpp"
#include "kernel/arch/riscv/timer.hpp"
#include "kernel/arch/riscv/trap.hpp"
#include "kernel/boot/boot.hpp"
#include "kernel/console/console.hpp"
#include "kernel/selftest/selftest.hpp"

namespace kernel {

namespace {

// Waits until predicate() holds or `seconds` of timebase time pass; returns predicate().
template <typename Predicate>
bool wait_until(Predicate predicate, uint64_t seconds) {
    uint64_t deadline = riscv::timer::now() + seconds * riscv::timer::frequency();
    while (!predicate() && riscv::timer::now() < deadline) riscv::wait_for_interrupt();
    return predicate();
}

size_t usable_harts_in_device_tree() {
    size_t usable = 0;
    for (size_t i = 0; i < boot_info().hart_count; ++i)
        usable += boot_info().harts[i].enabled && boot_info().harts[i].has_mmu;
    return usable;
}

void execute_ebreak() { asm volatile("ebreak"); }
// csrrw zero, cycle, zero: a write to a read-only CSR, illegal in every mode (32-bit encoding).
void execute_illegal() { asm volatile(".4byte 0xc0001073"); }
// c.unimp: the all-zero 16-bit encoding, defined illegal; the handler must skip 2 bytes, not 4.
void execute_compressed_illegal() { asm volatile(".2byte 0x0000\n .2byte 0x0001"); }
void execute_nothing() {}

} // namespace

bool selftest_device_tree() {
    const fdt::BootInfo& info = boot_info();
    SELFTEST_CHECK(info.memory_count >= 1);
    SELFTEST_CHECK(info.memory[0].size >= (16u << 20));
    SELFTEST_CHECK(info.timebase_frequency > 0);
    SELFTEST_CHECK(info.hart_count >= 1);
    SELFTEST_CHECK(current_hart()->info != nullptr);
    SELFTEST_CHECK(current_hart()->info->has_mmu);
    SELFTEST_CHECK(current_hart()->info->isa.xlen == 64);
    SELFTEST_CHECK(info.uart.kind != fdt::UartKind::None);
    SELFTEST_CHECK(info.plic.present);
    SELFTEST_CHECK(current_hart()->plic_context != NoPlicContext);
    println("    {} memory range(s), {} hart(s), timebase {} Hz, uart {:#x}", info.memory_count, info.hart_count,
            info.timebase_frequency, info.uart.base);
    return true;
}

bool selftest_smp() {
    size_t expected = usable_harts_in_device_tree();
    println("    {} of {} usable harts online", online_hart_count(), expected);
    SELFTEST_CHECK(hart_count() == expected);
    SELFTEST_CHECK(online_hart_count() == expected);
    for (size_t i = 0; i < hart_count(); ++i) {
        Hart* hart = hart_by_index(i);
        SELFTEST_CHECK(hart->index == i);
        SELFTEST_CHECK(hart_by_id(hart->hart_id) == hart);
    }
    return true;
}

bool selftest_timer() {
    uint64_t before[fdt::MaxHarts];
    for (size_t i = 0; i < hart_count(); ++i) before[i] = hart_by_index(i)->timer_ticks.load();
    // Every online hart takes at least 3 more ticks within 5 s (the tick is 10 ms).
    bool all_ticked = wait_until(
        [&] {
            for (size_t i = 0; i < hart_count(); ++i)
                if (hart_by_index(i)->timer_ticks.load() < before[i] + 3) return false;
            return true;
        },
        5);
    for (size_t i = 0; i < hart_count(); ++i)
        println("    hart {}: {} ticks ({})", hart_by_index(i)->hart_id, hart_by_index(i)->timer_ticks.load(),
                hart_by_index(i)->has_sstc ? "sstc" : "sbi timer");
    SELFTEST_CHECK(all_ticked);
    uint64_t t0 = riscv::timer::nanoseconds_since_boot();
    riscv::timer::busy_wait_microseconds(1000);
    SELFTEST_CHECK(riscv::timer::nanoseconds_since_boot() - t0 >= 1'000'000);
    return true;
}

bool selftest_ipi() {
    Hart* self = current_hart();
    for (size_t i = 0; i < hart_count(); ++i) {
        Hart* target = hart_by_index(i);
        uint64_t before = target->pings_received.load();
        send_ipi(*target, IpiReason::Ping);
        bool received = wait_until([&] { return target->pings_received.load() > before; }, 5);
        println("    hart {} -> hart {}: {}", self->hart_id, target->hart_id, received ? "received" : "LOST");
        SELFTEST_CHECK(received);
    }
    return true;
}

bool selftest_traps() {
    // An expected exception is caught, skipped over, and reported to the prober; execution goes on.
    SELFTEST_CHECK(riscv::probe(execute_nothing));
    SELFTEST_CHECK(!riscv::probe(execute_ebreak));
    SELFTEST_CHECK(!riscv::probe(execute_illegal));
    SELFTEST_CHECK(!riscv::probe(execute_compressed_illegal));
    SELFTEST_CHECK(!current_hart()->probing);
    SELFTEST_CHECK(riscv::cause_name(13) == std::string_view("load page fault"));
    SELFTEST_CHECK(riscv::cause_name(riscv::CauseInterruptBit | 5) == std::string_view("supervisor timer interrupt"));
    return true;
}

bool selftest_console_receive() {
    println("    type 'ping' and return");
    char expected[] = "ping";
    size_t matched = 0;
    bool ok = wait_until(
        [&] {
            for (int c; matched < 4 && (c = console::try_read()) >= 0;) matched = (c == expected[matched]) ? matched + 1 : 0;
            return matched == 4;
        },
        20);
    SELFTEST_CHECK(ok);
    return true;
}

bool selftest_fatal_fault() {
    // A load from an address nothing maps: the trap handler must report it and stop the machine.
    println("    loading from unmapped address 0x10; the kernel must report a load page fault");
    uintptr_t address = 0x10;
    asm volatile("" : "+r"(address));  // hide the constant so the compiler emits the load as written
    volatile uint64_t* unmapped = reinterpret_cast<volatile uint64_t*>(address);
    uint64_t value = *unmapped;
    println("    read {:#x}: the fault was not taken", value);
    return false;
}

} // namespace kernel
