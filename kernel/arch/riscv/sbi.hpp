// The Supervisor Binary Interface: the calls the kernel makes into OpenSBI (M mode).
//
// SBI v0.2+ calling convention: extension id in a7, function id in a6, arguments in a0..a5;
// OpenSBI returns an error code in a0 and a value in a1.
#pragma once

#include <cstdint>

namespace kernel::sbi {

struct Result {
    long error;  // 0 = success, negative = SBI error code
    long value;
};

constexpr long ErrorNotSupported = -2;
constexpr long ErrorAlreadyAvailable = -6;

Result call(uint64_t extension, uint64_t function, uint64_t a0 = 0, uint64_t a1 = 0, uint64_t a2 = 0,
            uint64_t a3 = 0);

// Base extension.
long spec_version();
bool probe_extension(uint64_t extension);

// Legacy console (extension 0x01): the console before any driver, and the last resort in a panic.
void legacy_console_putchar(char c);

// Timer extension "TIME".
void set_timer(uint64_t absolute_time);

// IPI extension "sPI": raise a supervisor software interrupt on the harts in the mask.
Result send_ipi(uint64_t hart_mask, uint64_t hart_mask_base);

// Hart state management "HSM".
Result hart_start(uint64_t hart_id, uint64_t start_physical_address, uint64_t opaque);
enum class HartState : long { Started = 0, Stopped = 1, StartPending = 2, StopPending = 3 };
Result hart_status(uint64_t hart_id);

// System reset "SRST". Power off; on a platform without a power-off device (sifive_u) fall back to a
// cold reboot, which ends QEMU when it runs with -no-reboot.
enum class ResetReason : uint64_t { None = 0, SystemFailure = 1 };
[[noreturn]] void shutdown(ResetReason reason);

} // namespace kernel::sbi
