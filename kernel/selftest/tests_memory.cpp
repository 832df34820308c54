// Self-tests of the memory managers on the real machine: every frame of RAM, the heap, the live
// kernel page table.
#include "kernel/arch/riscv/csr.hpp"
#include "kernel/arch/riscv/hart.hpp"
#include "kernel/lib/bootargs.hpp"
#include "kernel/mm/debug_memory.hpp"
#include "kernel/mm/kernel_stacks.hpp"
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
    // A double free is detected, not absorbed (the memory debug build panics instead: self-test poison).
    if constexpr (!DebugMemory) SELFTEST_CHECK(!frames.free(*block));
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

// The memory debug build's checks, one violation on purpose (boot argument poison=CASE): each must
// end the kernel with its panic (the QEMU tests virt-debug-memory-* read the message). Named only.
bool selftest_poison() {
    std::string_view which = BootArgs(selftest_boot_arguments()).value("poison");
    if constexpr (!DebugMemory) {
        println("    not a memory debug build (configure with -DCOKERNEL_DEBUG_MEMORY=ON)");
        return false;
    }
    Heap& heap = mm::heap();
    if (which == "heap-use-after-free") {
        auto* block = static_cast<volatile uint8_t*>(heap.allocate(96));  // class 128
        SELFTEST_CHECK(block != nullptr);
        heap.free(const_cast<uint8_t*>(block));
        block[40] = 1;  // after the free
        void* again = heap.allocate(96);  // the same block, last freed first: the check panics
        println("    the written block was handed out again at {}", again);
        return false;
    }
    if (which == "heap-double-free") {
        void* block = heap.allocate(40);
        SELFTEST_CHECK(block != nullptr);
        heap.free(block);
        heap.free(block);
        return false;
    }
    if (which == "heap-bad-free") {
        auto* block = static_cast<char*>(heap.allocate(200));
        SELFTEST_CHECK(block != nullptr);
        heap.free(block + 16);  // inside a block
        return false;
    }
    if (which == "heap-header") {
        auto* block = static_cast<uint64_t*>(heap.allocate(64));
        SELFTEST_CHECK(block != nullptr);
        // The slab's header is at the start of its 16 KiB chunk: overwrite its counts.
        auto* header = reinterpret_cast<uint32_t*>(align_down(reinterpret_cast<uintptr_t>(block) - 1, Heap::ChunkBytes));
        header[8] = 0xffff;  // size_class (after magic, next, previous, free_blocks)
        heap.free(block);
        return false;
    }
    if (which == "frame-use-after-free") {
        auto frame = frames().allocate();
        SELFTEST_CHECK(frame);
        SELFTEST_CHECK(frames().free(*frame));
        physical_map().to_virtual<uint64_t>(*frame)[100] = 7;  // after the free
        auto again = frames().allocate();  // the lowest free frame: the same one
        println("    the written frame was handed out again at {:#x}", again ? *again : 0);
        return false;
    }
    if (which == "frame-double-free") {
        auto frame = frames().allocate();
        SELFTEST_CHECK(frame);
        SELFTEST_CHECK(frames().free(*frame));
        (void)frames().free(*frame);
        return false;
    }
    println("    poison=heap-use-after-free|heap-double-free|heap-bad-free|heap-header|frame-use-after-free|frame-double-free, not '{}'", which);
    return false;
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
    constexpr uint64_t TestAddress = 0xffffffe000000000ull;  // nothing else lives under root entry 384
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

namespace kernel {

namespace {

// Every page of the stack is mapped RW + Global to an allocated frame; its guard half is not mapped.
bool check_stack_mapping(const KernelStack& stack) {
    PageTable& table = kernel_page_table();
    SELFTEST_CHECK(stack.top - stack.bottom == KernelStackSize);
    SELFTEST_CHECK(stack.bottom == KernelStackAreaBase + stack.slot * KernelStackSlotSize + KernelStackGuardSize);
    for (uint64_t guard = stack.bottom - KernelStackGuardSize; guard < stack.bottom; guard += PageSize) {
        SELFTEST_CHECK(table.translate(guard).error() == Error::NotFound);
        SELFTEST_CHECK(in_kernel_stack_guard(guard) && in_kernel_stack_guard(guard + PageSize - 1));
    }
    for (uint64_t page = stack.bottom; page < stack.top; page += PageSize) {
        auto translation = table.translate(page);
        SELFTEST_CHECK(translation);
        SELFTEST_CHECK(frames().is_allocated(translation->physical));
        SELFTEST_CHECK((translation->flags & (pte::Read | pte::Write | pte::Global | pte::Execute | pte::User)) ==
                       (pte::Read | pte::Write | pte::Global));
        SELFTEST_CHECK(!in_kernel_stack_guard(page));
        // Written through the stack address, read through the direct map.
        *reinterpret_cast<volatile uint64_t*>(page + 8) = page;
        SELFTEST_CHECK(physical_map().to_virtual<uint64_t>(translation->physical)[1] == page);
    }
    return true;
}

// Takes frames until only `left` are free; returns the chain (linked through the frames themselves).
PhysicalAddress take_frames_leaving(size_t left) {
    PhysicalAddress chain = 0;
    while (frames().free_frames() > left) {
        auto frame = frames().allocate();
        if (!frame) break;
        *physical_map().to_virtual<PhysicalAddress>(*frame) = chain;
        chain = *frame;
    }
    return chain;
}

void give_frames_back(PhysicalAddress chain) {
    while (chain) {
        PhysicalAddress next = *physical_map().to_virtual<PhysicalAddress>(chain);
        (void)frames().free(chain);
        chain = next;
    }
}

} // namespace

bool selftest_kernel_stacks() {
    size_t free_before = frames().free_frames();
    size_t in_use_before = kernel_stacks_in_use();

    auto first = allocate_kernel_stack();
    SELFTEST_CHECK(first);
    SELFTEST_CHECK(check_stack_mapping(*first));
    SELFTEST_CHECK(frames().free_frames() == free_before - KernelStackPages);  // no page-table page needed
    auto second = allocate_kernel_stack();
    SELFTEST_CHECK(second && second->slot != first->slot);
    SELFTEST_CHECK(check_stack_mapping(*second));
    SELFTEST_CHECK(kernel_stacks_in_use() == in_use_before + 2);
    println("    stacks in slots {} and {}: [{:#x}, {:#x}), [{:#x}, {:#x})", first->slot, second->slot, first->bottom,
            first->top, second->bottom, second->top);

    // Freeing unmaps and returns the frames; the lowest free slot is taken again first.
    KernelStack freed = *first;
    free_kernel_stack(*first);
    SELFTEST_CHECK(kernel_page_table().translate(freed.bottom).error() == Error::NotFound);
    SELFTEST_CHECK(frames().free_frames() == free_before - KernelStackPages);
    auto again = allocate_kernel_stack();
    SELFTEST_CHECK(again && again->slot == freed.slot && again->bottom == freed.bottom);
    SELFTEST_CHECK(check_stack_mapping(*again));
    free_kernel_stack(*again);
    free_kernel_stack(*second);
    SELFTEST_CHECK(frames().free_frames() == free_before);
    SELFTEST_CHECK(kernel_stacks_in_use() == in_use_before);

    // No slot left: an error, nothing taken.
    size_t previous_limit = limit_kernel_stack_slots(kernel_stacks_in_use());
    auto no_slot = allocate_kernel_stack();
    limit_kernel_stack_slots(previous_limit);
    SELFTEST_CHECK(!no_slot && no_slot.error() == Error::NoMemory);
    SELFTEST_CHECK(frames().free_frames() == free_before);

    // Out of frames half-way (two pages mapped, the third has no frame): everything rolled back.
    PhysicalAddress taken = take_frames_leaving(2);
    bool two_left = frames().free_frames() == 2;
    auto short_of_frames = allocate_kernel_stack();
    bool rolled_back = frames().free_frames() == 2 && kernel_stacks_in_use() == in_use_before &&
                       kernel_page_table().translate(freed.bottom).error() == Error::NotFound;
    PhysicalAddress rest = take_frames_leaving(0);
    auto no_frames = allocate_kernel_stack();
    give_frames_back(rest);
    give_frames_back(taken);
    SELFTEST_CHECK(two_left);
    SELFTEST_CHECK(!short_of_frames && short_of_frames.error() == Error::NoMemory);
    SELFTEST_CHECK(rolled_back);
    SELFTEST_CHECK(!no_frames && no_frames.error() == Error::NoMemory);
    SELFTEST_CHECK(frames().free_frames() == free_before);
    SELFTEST_CHECK(kernel_stacks_in_use() == in_use_before);

    // Every hart runs on a stack of the area.
    for (size_t i = 0; i < hart_count(); ++i) {
        Hart* hart = hart_by_index(i);
        SELFTEST_CHECK(in_kernel_stack_area(hart->kernel_stack_bottom) && !in_kernel_stack_guard(hart->kernel_stack_bottom));
        SELFTEST_CHECK(hart->kernel_stack_top - hart->kernel_stack_bottom == KernelStackSize);
        SELFTEST_CHECK(hart->emergency_stack_top != 0 && !in_kernel_stack_area(hart->emergency_stack_top - 1));
    }
    uint64_t sp;
    asm volatile("mv %0, sp" : "=r"(sp));
    SELFTEST_CHECK(sp > current_hart()->kernel_stack_bottom && sp <= current_hart()->kernel_stack_top);
    return true;
}

namespace {

// Calls itself until the stack runs into its guard page. The volatile array is used after the call,
// so the call is neither a tail call nor inlined away, and each level takes stack.
[[gnu::noinline]] uint64_t recurse_without_end(uint64_t depth) {
    volatile uint64_t locals[8];
    locals[0] = depth;
    if (depth == ~uint64_t{0}) return 0;  // never: keeps the compiler from seeing an endless recursion
    uint64_t below = recurse_without_end(depth + 1);
    return below + locals[0];
}

[[noreturn]] void overflow_this_stack() {
    uint64_t sum = recurse_without_end(0);
    panic("the recursion ended ({}): the stack overflow was not caught", sum);
}

} // namespace

extern "C" [[noreturn]] void call_on_stack(uint64_t top, void (*continuation)());

bool selftest_guard_fault() {
    // A load from the guard below this hart's stack, with sp still well inside the stack: the trap
    // vector's check passes and the report of the unexpected page fault must name the overflow.
    uint64_t guard = current_hart()->kernel_stack_bottom - 8;
    println("    loading from {:#x} in the guard of this hart's stack; the kernel must report a kernel stack overflow",
            guard);
    asm volatile("" : "+r"(guard));
    uint64_t value = *reinterpret_cast<volatile uint64_t*>(guard);
    println("    read {:#x}: the fault was not taken", value);
    return false;
}

bool selftest_stack_overflow() {
    // A stack from the area, as a thread's would be; named so that the report can say whose it is.
    auto stack = allocate_kernel_stack();
    SELFTEST_CHECK(stack);
    SELFTEST_CHECK(name_kernel_stack(*stack, "stack-overflow self-test"));
    println("    recursing without end on slot {} [{:#x}, {:#x}); the kernel must report a kernel stack overflow",
            stack->slot, stack->bottom, stack->top);
    call_on_stack(stack->top, overflow_this_stack);
}

} // namespace kernel
