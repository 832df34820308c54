// Physical addresses and the direct map through which the kernel reaches them.
//
// The kernel maps all physical memory at one fixed offset (the direct map, 0xffffffc000000000 in the
// kernel's Sv39 layout), so turning a physical address into a pointer is one addition. Host tests use
// the same type with offset = (uintptr_t)fake_buffer - fake_physical_base, so the memory-management
// code runs unchanged over a host buffer that stands for RAM.
#pragma once

#include <cstddef>
#include <cstdint>

namespace kernel::mm {

using PhysicalAddress = uint64_t;

constexpr size_t PageSize = 4096;
constexpr size_t PageShift = 12;

constexpr uint64_t align_down(uint64_t value, uint64_t alignment) { return value & ~(alignment - 1); }
constexpr uint64_t align_up(uint64_t value, uint64_t alignment) {
    return (value + alignment - 1) & ~(alignment - 1);
}
constexpr bool is_aligned(uint64_t value, uint64_t alignment) { return (value & (alignment - 1)) == 0; }
constexpr bool is_power_of_two(uint64_t value) { return value != 0 && (value & (value - 1)) == 0; }

// The direct map: physical address pa is reachable at virtual address pa + offset.
// The Heap finds its headers by aligning virtual addresses, so it needs offset to be a multiple of
// 16 KiB (the kernel's offset is a multiple of 1 GiB; host tests use a 2 MiB-aligned buffer).
struct PhysicalMap {
    uintptr_t offset = 0;

    template <typename T = void>
    T* to_virtual(PhysicalAddress pa) const {
        return reinterpret_cast<T*>(static_cast<uintptr_t>(pa) + offset);
    }
    PhysicalAddress to_physical(const void* pointer) const {
        return static_cast<PhysicalAddress>(reinterpret_cast<uintptr_t>(pointer) - offset);
    }
};

// A span of physical memory [base, base + size).
struct PhysicalRange {
    PhysicalAddress base = 0;
    uint64_t size = 0;

    // The exclusive end, saturated at the top of the address space.
    constexpr PhysicalAddress end() const {
        return size > ~uint64_t{0} - base ? ~uint64_t{0} : base + size;
    }
};

} // namespace kernel::mm
