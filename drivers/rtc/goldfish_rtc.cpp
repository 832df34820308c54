#include "drivers/rtc/goldfish_rtc.hpp"

#include "drivers/mmio.hpp"

namespace drivers {

namespace {
constexpr uintptr_t TimeLow = 0x00, TimeHigh = 0x04;
} // namespace

uint64_t goldfish_rtc_nanoseconds(uintptr_t base) {
    uint64_t low = mmio_read<uint32_t>(base + TimeLow);
    uint64_t high = mmio_read<uint32_t>(base + TimeHigh);
    return (high << 32) | low;
}

} // namespace drivers
