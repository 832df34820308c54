// The kernel's address space and its memory managers, built at boot from the device tree.
//
// Virtual layout (Sv39, kernel half = root entries 256..511, shared by every address space):
//   0xffffffc000000000 + pa   direct map of the first 64 GiB of physical space (RAM and MMIO),
//                             read-write, never executable
//   0xffffffd000000000        the kernel stack area, 1 GiB of 32 KiB slots: 16 KiB guard (never
//                             mapped) below 16 KiB of stack (kernel_stacks.hpp)
//   0xffffffff80200000        the kernel image: text R-X, rodata R, data and bss RW
#pragma once

#include <cstdint>

#include "abi/result.hpp"
#include "kernel/fdt/platform.hpp"
#include "kernel/mm/frame_allocator.hpp"
#include "kernel/mm/heap.hpp"
#include "kernel/mm/page_table.hpp"
#include "kernel/mm/physical.hpp"

namespace kernel::mm {

constexpr uintptr_t DirectMapBase = 0xffffffc000000000ull;
constexpr uint64_t DirectMapSize = 64ull << 30;
constexpr uintptr_t KernelVirtualBase = 0xffffffff80200000ull;
constexpr PhysicalAddress KernelPhysicalBase = 0x80200000ull;

constexpr PhysicalMap physical_map() { return PhysicalMap{DirectMapBase}; }

// Physical address of a kernel-image object (text, data, bss).
inline PhysicalAddress kernel_image_physical(const void* pointer) {
    return reinterpret_cast<uintptr_t>(pointer) - KernelVirtualBase + KernelPhysicalBase;
}

// Sets up the frame allocator over the RAM the device tree describes (minus firmware, kernel image,
// device tree and initrd), builds the kernel page table and switches the calling hart to it,
// initialises the heap and makes the kernel stack area's page tables.
Result<void> init(const fdt::BootInfo& boot_info, PhysicalAddress device_tree, uint64_t device_tree_size);

// Switches the calling hart to the kernel page table (with a full TLB flush).
void activate_kernel_page_table();

FrameAllocator& frames();
Heap& heap();
PageTable& kernel_page_table();

} // namespace kernel::mm
