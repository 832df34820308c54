// BootInfo extraction: exact values from the QEMU dumps, and synthetic boards for the cases QEMU does
// not produce (OpenSBI's reserved memory, aliases, capacities, missing required nodes).
#include <catch2/catch.hpp>

#include "tests/kernel/fdt/fdt_test_support.hpp"

using namespace kernel::fdt;
using namespace fdt_test;

TEST_CASE("QEMU virt, 4 harts, 256 MiB") {
    ParseOutcome outcome = parse(load_dtb("virt-smp4.dtb"));
    INFO(outcome.message());
    REQUIRE(outcome.result);
    const BootInfo& info = *outcome.info;
    CHECK(std::string(info.model) == "riscv-virtio,qemu");
    REQUIRE(info.memory_count == 1);
    CHECK(info.memory[0].base == 0x80000000);
    CHECK(info.memory[0].size == 0x10000000);
    CHECK(info.reserved_count == 0);
    CHECK(info.timebase_frequency == 10000000);

    REQUIRE(info.hart_count == 4);
    const uint32_t intc_phandles[] = {8, 6, 4, 2};
    for (uint32_t hart = 0; hart < 4; ++hart) {
        const HartInfo& info_hart = info.harts[hart];
        CHECK(info_hart.hart_id == hart);
        CHECK(info_hart.enabled);
        CHECK(info_hart.has_mmu);
        CHECK(std::string(info_hart.isa_string) == "rv64imafdch_zicsr_zifencei_zihintpause_zba_zbb_zbc_zbs_sstc");
        CHECK(info_hart.isa.xlen == 64);
        CHECK((info_hart.isa.i && info_hart.isa.m && info_hart.isa.a && info_hart.isa.f && info_hart.isa.d));
        CHECK((info_hart.isa.c && info_hart.isa.h));
        CHECK(info_hart.isa.zbb);
        CHECK(info_hart.isa.sstc);
        CHECK(info_hart.isa.zicsr);
        CHECK(info_hart.isa.zifencei);
        CHECK_FALSE(info_hart.isa.n);
        CHECK_FALSE(info_hart.isa.svpbmt);
        CHECK(info_hart.intc_phandle == intc_phandles[hart]);
    }

    CHECK(info.uart.kind == UartKind::Ns16550a);
    CHECK(info.uart.base == 0x10000000);
    CHECK(info.uart.size == 0x100);
    CHECK(info.uart.irq == 10);
    CHECK(info.uart.reg_shift == 0);
    CHECK(info.uart.reg_io_width == 1);
    CHECK(info.uart.clock_frequency == 3686400);

    REQUIRE(info.plic.present);
    CHECK(info.plic.base == 0xc000000);
    CHECK(info.plic.size == 0x600000);
    CHECK(info.plic.ndev == 0x60);
    REQUIRE(info.plic.s_context_count == 4);
    for (uint32_t hart = 0; hart < 4; ++hart) {
        CHECK(info.plic.s_contexts[hart].hart_id == hart);
        CHECK(info.plic.s_contexts[hart].context == 2 * hart + 1);
    }
    REQUIRE(info.clint.present);
    CHECK(info.clint.base == 0x2000000);
    CHECK(info.clint.size == 0x10000);
    REQUIRE(info.rtc.present);  // the goldfish RTC: CLOCK_REALTIME
    CHECK(info.rtc.base == 0x101000);
    CHECK(info.rtc.size == 0x1000);

    REQUIRE(info.virtio_count == 8);
    for (uint32_t slot = 0; slot < 8; ++slot) {
        CHECK(info.virtio[slot].base == 0x10001000 + 0x1000 * slot);
        CHECK(info.virtio[slot].size == 0x1000);
        CHECK(info.virtio[slot].irq == slot + 1);
    }
    CHECK(std::string(info.bootargs).empty());
    CHECK(info.initrd.size == 0);
}

TEST_CASE("QEMU virt, 1 hart, 128 MiB") {
    ParseOutcome outcome = parse(load_dtb("virt-smp1.dtb"));
    INFO(outcome.message());
    REQUIRE(outcome.result);
    const BootInfo& info = *outcome.info;
    REQUIRE(info.memory_count == 1);
    CHECK(info.memory[0].size == 0x8000000);
    REQUIRE(info.hart_count == 1);
    CHECK(info.harts[0].intc_phandle == 2);
    REQUIRE(info.plic.s_context_count == 1);
    CHECK(info.plic.s_contexts[0].context == 1);
    CHECK(info.virtio_count == 8);
}

TEST_CASE("QEMU sifive_u, 2 harts: an E51 monitor hart and a U54") {
    ParseOutcome outcome = parse(load_dtb("sifive_u-smp2.dtb"));
    INFO(outcome.message());
    REQUIRE(outcome.result);
    const BootInfo& info = *outcome.info;
    CHECK(std::string(info.model) == "SiFive HiFive Unleashed A00");
    REQUIRE(info.memory_count == 1);
    CHECK(info.memory[0].base == 0x80000000);
    CHECK(info.memory[0].size == 0x10000000);
    CHECK(info.timebase_frequency == 1000000);

    REQUIRE(info.hart_count == 2);
    const HartInfo& e51 = info.harts[0];
    CHECK(e51.hart_id == 0);
    CHECK_FALSE(e51.has_mmu);
    CHECK_FALSE(e51.isa.f);
    CHECK_FALSE(e51.isa.d);
    CHECK((e51.isa.i && e51.isa.m && e51.isa.a && e51.isa.c));
    CHECK(e51.intc_phandle == 4);
    const HartInfo& u54 = info.harts[1];
    CHECK(u54.hart_id == 1);
    CHECK(u54.has_mmu);
    CHECK(std::string(u54.isa_string) == "rv64imafdc_zicsr_zifencei");
    CHECK((u54.isa.i && u54.isa.m && u54.isa.a && u54.isa.f && u54.isa.d && u54.isa.c));
    CHECK_FALSE(u54.isa.zbb);
    CHECK_FALSE(u54.isa.sstc);
    CHECK_FALSE(u54.isa.h);

    CHECK(info.uart.kind == UartKind::SifiveUart0);
    CHECK(info.uart.base == 0x10010000);
    CHECK(info.uart.size == 0x1000);
    CHECK(info.uart.irq == 4);

    REQUIRE(info.plic.present);
    CHECK(info.plic.base == 0xc000000);
    CHECK(info.plic.size == 0x4000000);
    CHECK(info.plic.ndev == 0x35);
    CHECK(info.plic.phandle == 6);
    REQUIRE(info.plic.s_context_count == 1);
    CHECK(info.plic.s_contexts[0].context == 2);
    CHECK(info.plic.s_contexts[0].hart_id == 1);
    REQUIRE(info.clint.present);
    CHECK(info.clint.base == 0x2000000);
    CHECK_FALSE(info.rtc.present);  // sifive_u has no goldfish RTC
    CHECK(info.virtio_count == 0);
}

TEST_CASE("QEMU virt with -append and -initrd") {
    ParseOutcome outcome = parse(load_dtb("virt-smp2-bootargs-initrd.dtb"));
    INFO(outcome.message());
    REQUIRE(outcome.result);
    const BootInfo& info = *outcome.info;
    CHECK(std::string(info.bootargs) == "console=ttyS0 root=/dev/vda rw");
    CHECK(info.initrd.base == 0x88200000);
    CHECK(info.initrd.size == 0x2000);
    CHECK(info.memory[0].size == 0x20000000);
    CHECK(info.hart_count == 2);
}

TEST_CASE("QEMU virt as OpenSBI hands it over: reserved M-mode memory, unconnected M contexts") {
    ParseOutcome outcome = parse(load_dtb("virt-smp2-after-opensbi.dtb"));
    INFO(outcome.message());
    REQUIRE(outcome.result);
    const BootInfo& info = *outcome.info;
    REQUIRE(info.reserved_count == 1);
    CHECK(info.reserved[0].base == 0x80000000);
    CHECK(info.reserved[0].size == 0x80000);
    CHECK(std::string(info.bootargs) == "console=ttyS0");
    REQUIRE(info.hart_count == 2);
    REQUIRE(info.plic.s_context_count == 2);  // <intc 0xffffffff> entries are M contexts OpenSBI disconnected
    CHECK(info.plic.s_contexts[0].context == 1);
    CHECK(info.plic.s_contexts[0].hart_id == 0);
    CHECK(info.plic.s_contexts[1].context == 3);
    CHECK(info.plic.s_contexts[1].hart_id == 1);
    CHECK(info.uart.base == 0x10000000);
    CHECK(info.virtio_count == 8);
}

TEST_CASE("QEMU sifive_u as OpenSBI hands it over: the E51 hart is disabled") {
    ParseOutcome outcome = parse(load_dtb("sifive_u-smp2-after-opensbi.dtb"));
    INFO(outcome.message());
    REQUIRE(outcome.result);
    const BootInfo& info = *outcome.info;
    REQUIRE(info.hart_count == 2);
    CHECK_FALSE(info.harts[0].enabled);
    CHECK(info.harts[1].enabled);
    REQUIRE(info.reserved_count >= 1);
    CHECK(info.reserved[0].base == 0x80000000);
    REQUIRE(info.plic.s_context_count == 1);
    CHECK(info.plic.s_contexts[0].context == 2);
    CHECK(info.plic.s_contexts[0].hart_id == 1);
    CHECK(info.uart.kind == UartKind::SifiveUart0);
}

TEST_CASE("parse_boot_info keeps boot_hart_hint and resets everything else") {
    Bytes blob = load_dtb("virt-smp1.dtb");
    ExactBuffer buffer(blob);
    auto info = std::make_unique<BootInfo>();
    info->boot_hart_hint = 3;
    info->virtio_count = 99;
    Diagnostic diagnostic;
    REQUIRE(parse_boot_info(buffer.bytes.get(), buffer.length, *info, diagnostic));
    CHECK(info->boot_hart_hint == 3);
    CHECK(info->virtio_count == 8);
    CHECK(diagnostic.message == nullptr);
}

TEST_CASE("ISA strings") {
    IsaExtensions isa;
    REQUIRE(parse_isa_string("rv64gc", isa));
    CHECK((isa.i && isa.m && isa.a && isa.f && isa.d && isa.c && isa.zicsr && isa.zifencei));
    CHECK(isa.xlen == 64);
    REQUIRE(parse_isa_string("RV32IMACN", isa));
    CHECK(isa.xlen == 32);
    CHECK(isa.n);
    CHECK_FALSE(isa.f);
    REQUIRE(parse_isa_string("rv64imafdcsu", isa));  // old QEMU: 's' and 'u' listed as letters
    CHECK((isa.d && isa.c));
    CHECK_FALSE(isa.sstc);
    REQUIRE(parse_isa_string("rv64i2p1m2p0a2p1c_zicsr2p0_zifencei2p0_zbb1p0_svpbmt", isa));
    CHECK((isa.i && isa.m && isa.a && isa.c && isa.zicsr && isa.zifencei && isa.zbb && isa.svpbmt));
    CHECK_FALSE(isa.zba);
    REQUIRE(parse_isa_string("rv64imaczicsr_zbbx_zbs", isa));  // multi-letter right after the letters
    CHECK(isa.zicsr);
    CHECK_FALSE(isa.zbb);  // "zbbx" is another extension
    CHECK(isa.zbs);
    REQUIRE(parse_isa_string("rv64imac_sstc_xfoo_zba", isa));
    CHECK((isa.sstc && isa.zba));
    REQUIRE(parse_isa_string("rv64imacn_svnapot_sscofpmf", isa));
    CHECK((isa.n && isa.svnapot && isa.sscofpmf));
    CHECK_FALSE(parse_isa_string("x86_64", isa));
    CHECK_FALSE(parse_isa_string("rv", isa));
    CHECK_FALSE(parse_isa_string("rv65imac", isa));
    CHECK_FALSE(parse_isa_string("rv99999999999999imac", isa));
    REQUIRE(parse_isa_string("rv64", isa));
    CHECK_FALSE(isa.i);
}

// ---- synthetic boards ----

namespace {

// A board as OpenSBI hands it over: memreserve entries, /reserved-memory with its own cell sizes,
// stdout-path through an alias with options, two UARTs, a soc bus with ranges, inherited interrupt-parent.
Bytes opensbi_like_board() {
    FdtBuilder builder;
    builder.reserve(0x87e00000, 0x200000);
    begin_root(builder);
    builder.strings("compatible", {"vendor,board", "vendor,soc"});
    builder.begin("chosen").string("stdout-path", "serial1:115200n8").string("bootargs", "quiet").end();
    builder.begin("aliases").string("serial0", "/soc/serial@10000000").string("serial1", "/soc/serial@10001000").end();
    builder.begin("reserved-memory").cells("#address-cells", {1}).cells("#size-cells", {1}).empty("ranges")
        .begin("mmode_resv1@80000000").cells("reg", {0x80000000, 0x40000}).empty("no-map").end()
        .begin("mmode_resv0@80040000").cells("reg", {0x80040000, 0x20000}).empty("no-map").end()
        .begin("dynamic").cells("size", {0x1000}).end()
        .begin("disabled@81000000").cells("reg", {0x81000000, 0x1000}).string("status", "disabled").end()
        .end();
    add_memory(builder, 0x100000000, 0x40000000);
    add_memory(builder, 0x80000000, 0x80000000);
    add_cpus(builder, 2, 1000000);
    builder.begin("soc").cells("#address-cells", {1}).cells("#size-cells", {1})
        .cells("ranges", {0x0, 0x0, 0x0, 0x20000000}).cells("interrupt-parent", {9})
        .begin("plic@c000000").strings("compatible", {"riscv,plic0"}).cells("reg", {0xc000000, 0x4000000})
        .cells("phandle", {9}).cells("riscv,ndev", {31})
        .cells("interrupts-extended", {100, 11, 100, 9, 101, 0xffffffff, 101, 9}).end()
        .begin("clint@2000000").strings("compatible", {"riscv,clint0"}).cells("reg", {0x2000000, 0x10000}).end()
        .begin("serial@10000000").string("compatible", "ns16550a").cells("reg", {0x10000000, 0x100})
        .cells("interrupts", {10}).end()
        .begin("serial@10001000").strings("compatible", {"snps,dw-apb-uart"}).cells("reg", {0x10001000, 0x100})
        .cells("interrupts", {11, 12}).cells("reg-shift", {2}).cells("reg-io-width", {4})
        .cells("clock-frequency", {0, 50000000}).end()
        .begin("bus@18000000").cells("#address-cells", {1}).cells("#size-cells", {1})
        .cells("ranges", {0x0, 0x18000000, 0x100000})
        .begin("virtio_mmio@2000").string("compatible", "virtio,mmio").cells("reg", {0x2000, 0x200})
        .cells("interrupts", {3}).end()
        .begin("virtio_mmio@1000").string("compatible", "virtio,mmio").cells("reg", {0x1000, 0x200})
        .cells("interrupts", {2}).cells("interrupt-parent", {55}).end()
        .begin("virtio_mmio@3000").string("compatible", "virtio,mmio").cells("reg", {0x3000, 0x200})
        .string("status", "disabled").end()
        .end()
        .end();
    builder.end();
    return builder.finish();
}

} // namespace

TEST_CASE("an OpenSBI-like board: reserved memory, aliases, ranges, inherited interrupt-parent") {
    ParseOutcome outcome = parse(opensbi_like_board());
    INFO(outcome.message());
    REQUIRE(outcome.result);
    const BootInfo& info = *outcome.info;
    CHECK(std::string(info.model) == "test board");
    REQUIRE(info.memory_count == 2);  // sorted by base
    CHECK(info.memory[0].base == 0x80000000);
    CHECK(info.memory[1].base == 0x100000000);
    REQUIRE(info.reserved_count == 3);
    CHECK(info.reserved[0].base == 0x80000000);
    CHECK(info.reserved[0].size == 0x40000);
    CHECK(info.reserved[1].base == 0x80040000);
    CHECK(info.reserved[2].base == 0x87e00000);
    CHECK(info.reserved[2].size == 0x200000);
    CHECK(info.timebase_frequency == 1000000);
    REQUIRE(info.hart_count == 2);
    CHECK(info.harts[1].intc_phandle == 101);

    // stdout-path "serial1:115200n8" -> alias -> the second UART, although the first comes earlier.
    CHECK(info.uart.kind == UartKind::Ns16550a);
    CHECK(info.uart.base == 0x10001000);
    CHECK(info.uart.irq == 11);
    CHECK(info.uart.reg_shift == 2);
    CHECK(info.uart.reg_io_width == 4);
    CHECK(info.uart.clock_frequency == 50000000);

    REQUIRE(info.plic.present);
    CHECK(info.plic.ndev == 31);
    REQUIRE(info.plic.s_context_count == 2);
    CHECK(info.plic.s_contexts[0].context == 1);
    CHECK(info.plic.s_contexts[0].hart_id == 0);
    CHECK(info.plic.s_contexts[1].context == 3);
    CHECK(info.plic.s_contexts[1].hart_id == 1);
    CHECK(info.clint.present);

    // Two enabled virtio slots behind a bus at 0x18000000, sorted by base; the second one's interrupt
    // goes to another controller, so it has no PLIC irq.
    REQUIRE(info.virtio_count == 2);
    CHECK(info.virtio[0].base == 0x18001000);
    CHECK(info.virtio[0].irq == 0);
    CHECK(info.virtio[1].base == 0x18002000);
    CHECK(info.virtio[1].irq == 3);
    CHECK(std::string(info.bootargs) == "quiet");
}

namespace {

struct BoardOptions {
    uint32_t harts = 1;
    uint32_t timebase = 10000000;
    bool memory = true;
    bool cpus = true;
    uint32_t virtio = 0;
    std::string bootargs;
    bool bootargs_present = false;
};

Bytes board(const BoardOptions& options) {
    FdtBuilder builder;
    begin_root(builder);
    if (options.bootargs_present) builder.begin("chosen").string("bootargs", options.bootargs).end();
    if (options.memory) add_memory(builder, 0x80000000, 0x8000000);
    if (options.cpus) add_cpus(builder, options.harts, options.timebase);
    builder.begin("soc").cells("#address-cells", {2}).cells("#size-cells", {2}).empty("ranges");
    for (uint32_t slot = 0; slot < options.virtio; ++slot)
        builder.begin("virtio_mmio@" + std::to_string(slot)).string("compatible", "virtio,mmio")
            .cells("reg", {0, 0x10001000 + 0x1000 * slot, 0, 0x1000}).end();
    builder.end().end();
    return builder.finish();
}

} // namespace

TEST_CASE("a console-less board without PLIC or CLINT still parses") {
    ParseOutcome outcome = parse(board({}));
    INFO(outcome.message());
    REQUIRE(outcome.result);
    CHECK(outcome.info->uart.kind == UartKind::None);
    CHECK_FALSE(outcome.info->plic.present);
    CHECK_FALSE(outcome.info->clint.present);
    CHECK(outcome.info->hart_count == 1);
    CHECK(outcome.info->harts[0].isa.zicsr);
}

TEST_CASE("missing required items are reported by name") {
    BoardOptions no_memory;
    no_memory.memory = false;
    ParseOutcome outcome = parse(board(no_memory));
    CHECK(outcome.result.error() == kernel::Error::NotFound);
    CHECK(outcome.message() == "no memory node");

    BoardOptions no_cpus;
    no_cpus.cpus = false;
    outcome = parse(board(no_cpus));
    CHECK(outcome.result.error() == kernel::Error::NotFound);
    CHECK(outcome.message() == "no /cpus node");

    BoardOptions no_harts;
    no_harts.harts = 0;
    outcome = parse(board(no_harts));
    CHECK(outcome.message() == "no cpu nodes under /cpus");

    BoardOptions no_timebase;
    no_timebase.timebase = 0;
    outcome = parse(board(no_timebase));
    CHECK(outcome.result.error() == kernel::Error::NotFound);
    CHECK(outcome.message() == "/cpus has no timebase-frequency");
}

TEST_CASE("capacities: the most that fits is accepted, one more is an error") {
    BoardOptions harts;
    harts.harts = MaxHarts;
    CHECK(parse(board(harts)).result);
    harts.harts = MaxHarts + 1;
    ParseOutcome outcome = parse(board(harts));
    CHECK(outcome.result.error() == kernel::Error::Unsupported);
    CHECK(outcome.message() == "more harts than MaxHarts");

    BoardOptions virtio;
    virtio.virtio = MaxVirtio;
    outcome = parse(board(virtio));
    REQUIRE(outcome.result);
    CHECK(outcome.info->virtio_count == MaxVirtio);
    virtio.virtio = MaxVirtio + 1;
    outcome = parse(board(virtio));
    CHECK(outcome.result.error() == kernel::Error::Unsupported);
    CHECK(outcome.message() == "more virtio-mmio slots than MaxVirtio");

    BoardOptions bootargs;
    bootargs.bootargs_present = true;
    bootargs.bootargs = std::string(MaxBootargs - 1, 'x');
    outcome = parse(board(bootargs));
    REQUIRE(outcome.result);
    CHECK(std::string(outcome.info->bootargs).size() == MaxBootargs - 1);
    bootargs.bootargs = std::string(MaxBootargs, 'x');
    outcome = parse(board(bootargs));
    CHECK(outcome.result.error() == kernel::Error::Unsupported);
    CHECK(outcome.message() == "bootargs longer than MaxBootargs");

    FdtBuilder builder;  // 17 memory ranges
    begin_root(builder);
    for (uint64_t range = 0; range <= MaxMemoryRanges; ++range) add_memory(builder, 0x80000000 + range * 0x100000, 0x1000);
    add_cpus(builder, 1);
    builder.end();
    outcome = parse(builder.finish());
    CHECK(outcome.result.error() == kernel::Error::Unsupported);
    CHECK(outcome.message() == "more memory ranges than MaxMemoryRanges");
}

TEST_CASE("hart details: disabled harts, isa-base/isa-extensions, duplicates, long ISA strings") {
    FdtBuilder builder;
    begin_root(builder);
    add_memory(builder, 0x80000000, 0x8000000);
    builder.begin("cpus").cells("#address-cells", {1}).cells("#size-cells", {0}).cells("timebase-frequency", {1000});
    builder.begin("cpu@0").string("device_type", "cpu").cells("reg", {0}).string("status", "disabled")
        .string("riscv,isa", "rv64imac").end();
    builder.begin("cpu@5").string("device_type", "cpu").cells("reg", {5}).string("mmu-type", "riscv,sv57")
        .string("riscv,isa-base", "rv64i")
        .strings("riscv,isa-extensions", {"i", "m", "a", "c", "n", "zicsr", "zbb", "sstc"}).end();
    builder.end().end();
    ParseOutcome outcome = parse(builder.finish());
    INFO(outcome.message());
    REQUIRE(outcome.result);
    const BootInfo& info = *outcome.info;
    REQUIRE(info.hart_count == 2);
    CHECK_FALSE(info.harts[0].enabled);
    CHECK_FALSE(info.harts[0].has_mmu);
    CHECK(info.harts[1].enabled);
    CHECK(info.harts[1].has_mmu);
    CHECK(info.harts[1].hart_id == 5);
    CHECK(std::string(info.harts[1].isa_string) == "rv64imacn_zicsr_zbb_sstc");
    CHECK((info.harts[1].isa.n && info.harts[1].isa.zbb && info.harts[1].isa.sstc && info.harts[1].isa.c));
    CHECK(info.harts[1].intc_phandle == 0);

    FdtBuilder duplicate;
    begin_root(duplicate);
    add_memory(duplicate, 0x80000000, 0x8000000);
    duplicate.begin("cpus").cells("#address-cells", {1}).cells("#size-cells", {0}).cells("timebase-frequency", {1});
    add_hart(duplicate, 1, "rv64imac", 10);
    add_hart(duplicate, 1, "rv64imac", 11);
    duplicate.end().end();
    outcome = parse(duplicate.finish());
    CHECK(outcome.message() == "two cpu nodes with the same hart id");

    FdtBuilder long_isa;
    begin_root(long_isa);
    add_memory(long_isa, 0x80000000, 0x8000000);
    long_isa.begin("cpus").cells("#address-cells", {1}).cells("#size-cells", {0}).cells("timebase-frequency", {1});
    add_hart(long_isa, 0, "rv64imac" + std::string(MaxIsaString, 'z'), 10);
    long_isa.end().end();
    outcome = parse(long_isa.finish());
    CHECK(outcome.result.error() == kernel::Error::Unsupported);
    CHECK(outcome.message() == "riscv,isa longer than the HartInfo capacity");
}

TEST_CASE("/chosen initrd in 64-bit cells, and inconsistent initrd properties") {
    auto with_chosen = [](auto fill) {
        FdtBuilder builder;
        begin_root(builder);
        builder.begin("chosen");
        fill(builder);
        builder.end();
        add_memory(builder, 0x80000000, 0x8000000);
        add_cpus(builder, 1);
        builder.end();
        return parse(builder.finish());
    };
    ParseOutcome outcome = with_chosen([](FdtBuilder& chosen) {
        chosen.cells("linux,initrd-start", {0x1, 0x0}).cells("linux,initrd-end", {0x1, 0x5000});
    });
    REQUIRE(outcome.result);
    CHECK(outcome.info->initrd.base == 0x100000000);
    CHECK(outcome.info->initrd.size == 0x5000);
    outcome = with_chosen([](FdtBuilder& chosen) { chosen.cells("linux,initrd-start", {0x1000}); });
    CHECK(outcome.message() == "only one of linux,initrd-start/-end");
    outcome = with_chosen([](FdtBuilder& chosen) {
        chosen.cells("linux,initrd-start", {0x2000}).cells("linux,initrd-end", {0x1000});
    });
    CHECK(outcome.message() == "linux,initrd-end before linux,initrd-start");
    outcome = with_chosen([](FdtBuilder& chosen) { chosen.property("bootargs", {'a', 'b'}); });
    CHECK(outcome.message() == "bootargs is not a string");
    outcome = with_chosen([](FdtBuilder& chosen) { chosen.string("stdout-path", "/nowhere:115200"); });
    CHECK(outcome.result);  // an unresolvable stdout-path falls back to the first UART (here: none)
}
