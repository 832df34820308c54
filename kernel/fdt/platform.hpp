// The platform description the kernel boots from, extracted from the flattened device tree.
//
// Nothing about the machine is hard-coded in the kernel: memory, harts and their ISA extensions, the
// timebase, UART, PLIC, CLINT, virtio-mmio slots, bootargs and initrd all come from here.
//
// Invariants of a BootInfo filled by a successful parse_boot_info():
//   * memory_count >= 1, hart_count >= 1, timebase_frequency > 0;
//   * every array holds exactly its *_count entries; a device tree with more entries than a capacity
//     is an error (Unsupported), never a silent truncation (only `model` may be truncated);
//   * memory[] and reserved[] are sorted by base, have size > 0 and do not wrap past 2^64;
//   * virtio[] is sorted by base; harts[] is in device tree order with distinct hart ids;
//   * strings are NUL-terminated; bootargs is "" when /chosen has none; initrd.size == 0 when none;
//   * an irq of 0 means "no interrupt routed through the PLIC".
// On failure the BootInfo is partly filled and must not be used; the Diagnostic says what is wrong.
#pragma once

#include <cstddef>
#include <cstdint>

#include "abi/result.hpp"
#include "kernel/fdt/fdt.hpp"

namespace kernel::fdt {

constexpr size_t MaxHarts = 32, MaxMemoryRanges = 16, MaxReserved = 32, MaxVirtio = 32, MaxBootargs = 1024;
// Capacity of HartInfo::isa_string including its NUL. (QEMU 8 and later emit riscv,isa strings longer
// than 96 characters, so this is larger than the 96 first planned.)
constexpr size_t MaxIsaString = 256;
constexpr size_t MaxModel = 64;

// Extensions parsed from riscv,isa, e.g. "rv64imafdch_zicsr_zifencei_zba_zbb_sstc". 'g' expands to
// imafd_zicsr_zifencei. Letters and names not listed here are accepted and ignored.
struct IsaExtensions {
    bool i = false, m = false, a = false, f = false, d = false, c = false, h = false, v = false;
    bool n = false;  // user-level interrupts (the N extension)
    bool zicsr = false, zifencei = false, zihintpause = false, zicbom = false, zicboz = false;
    bool zba = false, zbb = false, zbc = false, zbs = false;
    bool sstc = false, svpbmt = false, svnapot = false, svinval = false, sscofpmf = false;
    uint32_t xlen = 0;  // 32, 64 or 128
};

struct HartInfo {
    uint32_t hart_id = 0;         // the cpu node's "reg"
    bool enabled = false;         // "status" absent, "okay" or "ok"
    bool has_mmu = false;         // mmu-type is riscv,sv39/sv48/sv57 (sifive_u's E51 hart 0 has none)
    IsaExtensions isa;
    char isa_string[MaxIsaString] = {};  // riscv,isa copied (or built from riscv,isa-base/-extensions)
    uint32_t intc_phandle = 0;    // phandle of its "riscv,cpu-intc" child, 0 if none
};

enum class UartKind { None, Ns16550a, SifiveUart0 };

struct UartInfo {
    UartKind kind = UartKind::None;
    uint64_t base = 0, size = 0;
    uint32_t irq = 0;
    uint32_t reg_shift = 0;      // "reg-shift", default 0
    uint32_t reg_io_width = 1;   // "reg-io-width", default 1
    uint32_t clock_frequency = 0;
};

// The PLIC context of a hart's S-mode external interrupt (cause 9).
struct PlicContext {
    uint32_t context = 0;
    uint32_t hart_id = 0;
};

struct PlicInfo {
    bool present = false;
    uint64_t base = 0, size = 0;
    uint32_t ndev = 0;             // "riscv,ndev": number of interrupt sources
    uint32_t phandle = 0;          // lets the kernel match other nodes' interrupt-parent
    PlicContext s_contexts[MaxHarts] = {};
    size_t s_context_count = 0;
};

struct RtcInfo {
    bool present = false;  // an enabled "google,goldfish-rtc"
    uint64_t base = 0, size = 0;
};

struct ClintInfo {
    bool present = false;
    uint64_t base = 0, size = 0;
};

struct VirtioMmioSlot {
    uint64_t base = 0, size = 0;
    uint32_t irq = 0;
};

struct BootInfo {
    char model[MaxModel] = {};                       // "/" model, else first "/" compatible (may be truncated)
    Range memory[MaxMemoryRanges] = {};              // device_type = "memory" nodes
    size_t memory_count = 0;
    Range reserved[MaxReserved] = {};                // memreserve block + /reserved-memory children
    size_t reserved_count = 0;                       // (the blob itself is not included: the kernel adds it)
    uint64_t timebase_frequency = 0;                 // /cpus (or the first cpu) timebase-frequency
    HartInfo harts[MaxHarts] = {};
    size_t hart_count = 0;
    UartInfo uart;       // /chosen stdout-path (":options" stripped, aliases resolved) if supported, else the
                         // first enabled "ns16550a"/"ns16550"/"snps,dw-apb-uart"/"sifive,uart0"
    PlicInfo plic;       // "riscv,plic0" or "sifive,plic-1.0.0"
    ClintInfo clint;     // "riscv,clint0" or "sifive,clint0"
    RtcInfo rtc;         // "google,goldfish-rtc" (QEMU virt), the real-time clock
    VirtioMmioSlot virtio[MaxVirtio] = {};           // enabled "virtio,mmio" nodes
    size_t virtio_count = 0;
    char bootargs[MaxBootargs] = {};                 // /chosen bootargs, "" if none
    Range initrd;                                    // /chosen linux,initrd-start/-end, size 0 if none
    uint32_t boot_hart_hint = 0;                     // not touched by the parser; set by the kernel
};

// Fills `out` from the device tree at `blob`, of which `bytes_available` bytes may be read.
// Errors: whatever Tree::open reports (Malformed, Truncated, InvalidArgument), NotFound for a missing
// required item (memory, /cpus, timebase-frequency, harts), Unsupported for a capacity exceeded.
Result<void> parse_boot_info(const void* blob, size_t bytes_available, BootInfo& out, Diagnostic& diagnostic);

// Parses a riscv,isa string into `out`. Malformed unless it starts with rv32/rv64/rv128.
Result<void> parse_isa_string(const char* isa, IsaExtensions& out);

} // namespace kernel::fdt
