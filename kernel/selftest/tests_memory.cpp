// Self-tests of the memory managers on the real machine: every frame of RAM, the heap, the live
// kernel page table.
#include "kernel/arch/riscv/csr.hpp"
#include "kernel/mm/memory.hpp"
#include "kernel/selftest/selftest.hpp"

extern "C" char __text_start[], __rodata_start[], __data_start[], _start[];

namespace kernel {

using namespace mm;

bool selftest_frames() {
    FrameAllocator& frames = mm::frames();
    size_t free_before = frames.free_frames();
    SELFTEST_CHECK(free_before > 0);
    SELFTEST_CHECK(free_before <= frames.total_frames());

    // Take every free frame, one at a time, then check exhaustion is an error and give all back.
    // The frames are chained through their own first word, so the test needs no other memory.
    PhysicalAddress chain = 0;
    size_t taken = 0;
    for (;;) {
        auto frame = frames.allocate();
        if (!frame) {
            SELFTEST_CHECK(frame.error() == Error::NoMemory);
            break;
        }
        *physical_map().to_virtual<PhysicalAddress>(*frame) = chain;
        chain = *frame;
        ++taken;
    }
    println("    took all {} free frames ({} MiB), then out of memory as expected", taken, taken * PageSize >> 20);
    SELFTEST_CHECK(taken == free_before);
    SELFTEST_CHECK(frames.free_frames() == 0);
    SELFTEST_CHECK(!frames.allocate_contiguous(1));
    while (chain) {
        PhysicalAddress next = *physical_map().to_virtual<PhysicalAddress>(chain);
        SELFTEST_CHECK(frames.free(chain));
        chain = next;
    }
    SELFTEST_CHECK(frames.free_frames() == free_before);

    auto block = frames.allocate_contiguous(16, 16);
    SELFTEST_CHECK(block);
    SELFTEST_CHECK(*block % (16 * PageSize) == 0);
    SELFTEST_CHECK(frames.free(*block, 16));
    SELFTEST_CHECK(!frames.free(*block));  // a double free is detected, not absorbed
    SELFTEST_CHECK(frames.free_frames() == free_before);
    return true;
}

bool selftest_heap() {
    Heap& heap = mm::heap();
    constexpr size_t Sizes[] = {1, 8, 16, 24, 100, 512, 2048, 4000, 10000, 100000};
    void* blocks[sizeof(Sizes) / sizeof(Sizes[0])];
    for (size_t i = 0; i < sizeof(Sizes) / sizeof(Sizes[0]); ++i) {
        blocks[i] = heap.allocate(Sizes[i]);
        SELFTEST_CHECK(blocks[i] != nullptr);
        SELFTEST_CHECK(reinterpret_cast<uintptr_t>(blocks[i]) % 16 == 0);
        __builtin_memset(blocks[i], static_cast<int>(i + 1), Sizes[i]);
    }
    for (size_t i = 0; i < sizeof(Sizes) / sizeof(Sizes[0]); ++i) {
        auto* bytes = static_cast<unsigned char*>(blocks[i]);
        SELFTEST_CHECK(bytes[0] == i + 1 && bytes[Sizes[i] - 1] == i + 1);
        heap.free(blocks[i]);
    }
    void* aligned = heap.allocate(64, 4096);
    SELFTEST_CHECK(aligned != nullptr && reinterpret_cast<uintptr_t>(aligned) % 4096 == 0);
    heap.free(aligned);
    SELFTEST_CHECK(heap.allocate(size_t{1} << 40) == nullptr);
    return true;
}

bool selftest_paging() {
    PageTable& table = kernel_page_table();
    SELFTEST_CHECK(riscv::read_satp() == table.satp());

    auto text = table.translate(reinterpret_cast<uint64_t>(_start));
    SELFTEST_CHECK(text);
    SELFTEST_CHECK(text->physical == KernelPhysicalBase);
    SELFTEST_CHECK((text->flags & pte::Execute) && !(text->flags & pte::Write));
    auto rodata = table.translate(reinterpret_cast<uint64_t>(__rodata_start));
    SELFTEST_CHECK(rodata && !(rodata->flags & pte::Write) && !(rodata->flags & pte::Execute));
    auto data = table.translate(reinterpret_cast<uint64_t>(__data_start));
    SELFTEST_CHECK(data && (data->flags & pte::Write) && !(data->flags & pte::Execute));
    auto direct = table.translate(DirectMapBase + KernelPhysicalBase);
    SELFTEST_CHECK(direct && direct->physical == KernelPhysicalBase && !(direct->flags & pte::Execute));
    SELFTEST_CHECK(!table.translate(0x1000));  // the user half is empty in the kernel's table

    // Map a fresh frame at an unused kernel address, write through it, read through the direct map.
    constexpr uint64_t TestAddress = 0xffffffd000000000ull;
    auto frame = frames().allocate_zeroed();
    SELFTEST_CHECK(frame);
    SELFTEST_CHECK(table.map(TestAddress, *frame, PageSize, pte::Read | pte::Write | pte::Global));
    SELFTEST_CHECK(!table.map(TestAddress, *frame, PageSize, pte::Read));  // already mapped
    *reinterpret_cast<volatile uint64_t*>(TestAddress + 8) = 0xc0ffee;
    SELFTEST_CHECK(physical_map().to_virtual<uint64_t>(*frame)[1] == 0xc0ffee);
    SELFTEST_CHECK(table.unmap(TestAddress, PageSize));
    riscv::flush_tlb_page(TestAddress);
    SELFTEST_CHECK(!table.translate(TestAddress));
    SELFTEST_CHECK(frames().free(*frame));
    return true;
}

} // namespace kernel
