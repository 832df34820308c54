// The goldfish real-time clock (compatible "google,goldfish-rtc", QEMU virt): a 64-bit count of
// nanoseconds since the Unix epoch in two 32-bit registers. Reading TIME_LOW latches TIME_HIGH, so
// the low half is read first.
#pragma once

#include <cstdint>

namespace drivers {

// `base`: the registers through the kernel's direct map.
uint64_t goldfish_rtc_nanoseconds(uintptr_t base);

} // namespace drivers
