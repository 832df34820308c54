#include "kernel/mm/memory.hpp"

#include "kernel/arch/riscv/csr.hpp"
#include "kernel/mm/kernel_stacks.hpp"

extern "C" char __text_start[], __text_end[], __rodata_start[], __rodata_end[];
extern "C" char __data_start[], __data_end[], __kernel_end[];

// boot.S: a secondary hart loads it into satp before it touches its stack (in the kernel stack area,
// which the boot page table does not map). Written once by the boot hart, before any other starts.
extern "C" uint64_t kernel_page_table_satp;
uint64_t kernel_page_table_satp = 0;

namespace kernel::mm {

namespace {

FrameAllocator frame_allocator;
Heap kernel_heap;
PageTable kernel_table;

constexpr uint64_t Gigabyte = 1ull << 30;

Result<void> map_kernel_section(PageTable& table, const char* start, const char* end, uint64_t flags) {
    uint64_t va = reinterpret_cast<uint64_t>(start);
    uint64_t size = reinterpret_cast<uint64_t>(end) - va;
    if (size == 0) return success();
    return table.map_range(va, kernel_image_physical(start), size, flags | pte::Global);
}

Result<void> build_kernel_page_table() {
    auto table = TRY(PageTable::create(frame_allocator, physical_map()));
    kernel_table = table;
    if (auto r = map_kernel_section(kernel_table, __text_start, __text_end, pte::Read | pte::Execute); !r) return r;
    if (auto r = map_kernel_section(kernel_table, __rodata_start, __rodata_end, pte::Read); !r) return r;
    if (auto r = map_kernel_section(kernel_table, __data_start, __data_end, pte::Read | pte::Write); !r) return r;
    for (uint64_t offset = 0; offset < DirectMapSize; offset += Gigabyte) {
        auto r = kernel_table.map(DirectMapBase + offset, offset, Gigabyte, pte::Read | pte::Write | pte::Global,
                                  LeafSize::GigaPage);
        if (!r) return r;
    }
    return success();
}

} // namespace

Result<void> init(const fdt::BootInfo& boot_info, PhysicalAddress device_tree, uint64_t device_tree_size) {
    PhysicalRange ram[fdt::MaxMemoryRanges];
    size_t ram_count = 0;
    for (size_t i = 0; i < boot_info.memory_count; ++i) {
        const auto& range = boot_info.memory[i];
        if (range.base >= DirectMapSize) continue;  // beyond the direct map: not used
        uint64_t size = range.size;
        if (range.base + size > DirectMapSize) size = DirectMapSize - range.base;
        ram[ram_count++] = {range.base, size};
    }

    PhysicalRange reserved[fdt::MaxReserved + 3];
    size_t reserved_count = 0;
    for (size_t i = 0; i < boot_info.reserved_count; ++i)
        reserved[reserved_count++] = {boot_info.reserved[i].base, boot_info.reserved[i].size};
    reserved[reserved_count++] = {KernelPhysicalBase, kernel_image_physical(__kernel_end) - KernelPhysicalBase};
    reserved[reserved_count++] = {device_tree, device_tree_size};
    if (boot_info.initrd.size) reserved[reserved_count++] = {boot_info.initrd.base, boot_info.initrd.size};

    if (auto r = frame_allocator.init(ram, ram_count, reserved, reserved_count, physical_map()); !r) return r;
    if (auto r = build_kernel_page_table(); !r) return r;
    kernel_page_table_satp = kernel_table.satp();
    activate_kernel_page_table();
    if (auto r = kernel_heap.init(frame_allocator, physical_map()); !r) return r;
    return init_kernel_stacks();  // before any address space copies the kernel half
}

void activate_kernel_page_table() { riscv::write_satp_and_flush(kernel_table.satp()); }


FrameAllocator& frames() { return frame_allocator; }
Heap& heap() { return kernel_heap; }
PageTable& kernel_page_table() { return kernel_table; }

} // namespace kernel::mm
