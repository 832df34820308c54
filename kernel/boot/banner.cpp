#include "kernel/boot/banner.hpp"

#include "kernel/arch/riscv/hart.hpp"
#include "kernel/arch/riscv/interrupts.hpp"
#include "kernel/arch/riscv/sbi.hpp"
#include "kernel/arch/riscv/timer.hpp"
#include "kernel/console/log.hpp"
#include "kernel/mm/memory.hpp"
#include "kernel/uintr/user_interrupt.hpp"

namespace kernel {

namespace {

uint64_t total_memory(const fdt::BootInfo& platform) {
    uint64_t total = 0;
    for (size_t i = 0; i < platform.memory_count; ++i) total += platform.memory[i].size;
    return total;
}

const char* yes_no(bool value) { return value ? "yes" : "no"; }

// Extensions present on every hart the kernel runs on.
fdt::IsaExtensions common_extensions() {
    fdt::IsaExtensions common{};
    bool first = true;
    for (size_t i = 0; i < hart_count(); ++i) {
        const fdt::HartInfo* info = hart_by_index(i)->info;
        if (!info) continue;
        if (first) {
            common = info->isa;
            first = false;
            continue;
        }
        common.f &= info->isa.f;
        common.d &= info->isa.d;
        common.zbb &= info->isa.zbb;
        common.sstc &= info->isa.sstc;
        common.n &= info->isa.n;
    }
    return common;
}

} // namespace

void print_banner(const fdt::BootInfo& platform, const char* uart_driver) {
    fdt::IsaExtensions isa = common_extensions();
    println("");
    println("cokernel: a coroutine kernel for RISC-V");
    println("platform: {}", platform.model);
    println("harts:    {} online of {} in the device tree (boot hart {})", online_hart_count(), platform.hart_count,
            current_hart()->hart_id);
    println("memory:   {} MiB", total_memory(platform) >> 20);
    println("isa:      {} | F/D {} | Zbb {} | Sstc {} ({}) | N {}", current_hart()->info ? current_hart()->info->isa_string : "?",
            yes_no(isa.f && isa.d), yes_no(isa.zbb), yes_no(isa.sstc),
            current_hart()->has_sstc ? "stimecmp in use" : "SBI timer in use",
            isa.n ? "yes" : "no");
    println("uintr:    user-space interrupts {}", proc::user_interrupt_mode());
    println("console:  {}", uart_driver ? uart_driver : "SBI legacy console (no supported UART)");
    println("bootargs: \"{}\"", platform.bootargs);
}

void print_platform_info(const fdt::BootInfo& platform) {
    println("platform     {}", platform.model);
    println("sbi          spec version {}.{}", sbi::spec_version() >> 24, sbi::spec_version() & 0xffffff);
    println("timebase     {} Hz, uptime {} ms", platform.timebase_frequency,
            riscv::timer::nanoseconds_since_boot() / 1'000'000);
    for (size_t i = 0; i < platform.memory_count; ++i)
        println("memory       {:#x}..{:#x} ({} MiB)", platform.memory[i].base,
                platform.memory[i].base + platform.memory[i].size, platform.memory[i].size >> 20);
    println("frames       {} free of {} (4 KiB)", mm::frames().free_frames(), mm::frames().total_frames());
    for (size_t i = 0; i < platform.hart_count; ++i) {
        const fdt::HartInfo& info = platform.harts[i];
        Hart* hart = hart_by_id(info.hart_id);
        println("hart {:<2}      {} {} mmu={} {} ticks={}", info.hart_id, info.isa_string,
                hart && hart->online ? "online" : "not used", info.has_mmu ? "yes" : "no",
                hart && hart->has_sstc ? "sstc" : "sbi-timer", hart ? hart->timer_ticks.load() : 0);
    }
    if (platform.uart.kind != fdt::UartKind::None)
        println("uart         {:#x} irq {}", platform.uart.base, platform.uart.irq);
    if (platform.plic.present)
        println("plic         {:#x}, {} sources, {} external interrupts taken", platform.plic.base,
                platform.plic.ndev, riscv::external_interrupt_count());
    if (platform.clint.present) println("clint        {:#x}", platform.clint.base);
    for (size_t i = 0; i < platform.virtio_count; ++i)
        println("virtio-mmio  {:#x} irq {}", platform.virtio[i].base, platform.virtio[i].irq);
    if (platform.initrd.size) println("initrd       {:#x} ({} bytes)", platform.initrd.base, platform.initrd.size);
    println("bootargs     \"{}\"", platform.bootargs);
}

} // namespace kernel
