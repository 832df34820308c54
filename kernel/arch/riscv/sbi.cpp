#include "kernel/arch/riscv/sbi.hpp"

namespace kernel::sbi {

namespace {
constexpr uint64_t ExtensionBase = 0x10;
constexpr uint64_t ExtensionLegacyPutchar = 0x01;
constexpr uint64_t ExtensionTimer = 0x54494d45;  // "TIME"
constexpr uint64_t ExtensionIpi = 0x735049;      // "sPI"
constexpr uint64_t ExtensionHsm = 0x48534d;      // "HSM"
constexpr uint64_t ExtensionReset = 0x53525354;  // "SRST"
} // namespace

Result call(uint64_t extension, uint64_t function, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3) {
    register uint64_t r_a0 asm("a0") = a0;
    register uint64_t r_a1 asm("a1") = a1;
    register uint64_t r_a2 asm("a2") = a2;
    register uint64_t r_a3 asm("a3") = a3;
    register uint64_t r_a6 asm("a6") = function;
    register uint64_t r_a7 asm("a7") = extension;
    asm volatile("ecall"
                 : "+r"(r_a0), "+r"(r_a1)
                 : "r"(r_a2), "r"(r_a3), "r"(r_a6), "r"(r_a7)
                 : "memory");
    return {static_cast<long>(r_a0), static_cast<long>(r_a1)};
}

long spec_version() { return call(ExtensionBase, 0).value; }

bool probe_extension(uint64_t extension) { return call(ExtensionBase, 3, extension).value != 0; }

void legacy_console_putchar(char c) { call(ExtensionLegacyPutchar, 0, static_cast<unsigned char>(c)); }

void set_timer(uint64_t absolute_time) { call(ExtensionTimer, 0, absolute_time); }

Result send_ipi(uint64_t hart_mask, uint64_t hart_mask_base) {
    return call(ExtensionIpi, 0, hart_mask, hart_mask_base);
}

Result hart_start(uint64_t hart_id, uint64_t start_physical_address, uint64_t opaque) {
    return call(ExtensionHsm, 0, hart_id, start_physical_address, opaque);
}

Result hart_status(uint64_t hart_id) { return call(ExtensionHsm, 2, hart_id); }

void shutdown(ResetReason reason) {
    constexpr uint64_t TypeShutdown = 0, TypeColdReboot = 1;
    call(ExtensionReset, 0, TypeShutdown, static_cast<uint64_t>(reason));
    // Still here: no power-off device. A cold reboot ends QEMU run with -no-reboot.
    call(ExtensionReset, 0, TypeColdReboot, static_cast<uint64_t>(reason));
    for (;;) asm volatile("wfi");
}

} // namespace kernel::sbi
