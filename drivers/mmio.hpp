// Memory-mapped register access. Devices are reached through the kernel's direct map
// (kernel/mm/memory.hpp): the device-tree base address plus the direct-map offset.
#pragma once

#include <cstdint>

namespace drivers {

template <typename T>
inline T mmio_read(uintptr_t address) {
    return *reinterpret_cast<volatile T*>(address);
}

template <typename T>
inline void mmio_write(uintptr_t address, T value) {
    *reinterpret_cast<volatile T*>(address) = value;
}

} // namespace drivers
