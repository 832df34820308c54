// The kernel stack area: slots from a bitmap, stacks mapped page by page in the kernel page table.
// See kernel_stacks.hpp for the layout and the page-table and TLB rules.
#include "kernel/mm/kernel_stacks.hpp"

#include "kernel/arch/riscv/csr.hpp"
#include "kernel/arch/riscv/irq_lock.hpp"
#include "kernel/console/log.hpp"
#include "kernel/mm/bitmap.hpp"
#include "kernel/mm/memory.hpp"

namespace kernel::mm {

static_assert(KernelStackAreaBase == DirectMapBase + DirectMapSize, "the area follows the direct map");
static_assert(KernelStackAreaBase % KernelStackAreaSize == 0, "one level-1 table maps the whole area");
static_assert(KernelStackSize == 4 * PageSize && KernelStackGuardSize == KernelStackSize);

namespace {

constexpr uint64_t StackFlags = pte::Read | pte::Write | pte::Global;
constexpr size_t MaxNamedStacks = 4;

struct NamedStack {
    uint32_t slot = 0;
    const char* name = nullptr;  // nullptr: entry unused
};

IrqSpinLock lock;
// lock must be held when using these:
uint64_t used_words[KernelStackSlots / BitsPerWord];  // bit set: slot in use
BitmapView used(used_words, KernelStackSlots);
size_t first_maybe_free_word = 0;  // every word below it is full
size_t in_use = 0;
size_t slot_limit = KernelStackSlots;
NamedStack names[MaxNamedStacks];

uint64_t slot_base(size_t slot) { return KernelStackAreaBase + slot * KernelStackSlotSize; }

// The lowest free slot below slot_limit, marked used; KernelStackSlots when there is none.
size_t take_slot() {
    for (size_t word = first_maybe_free_word; word < used.word_count(); ++word) {
        uint64_t bits = used.word(word);
        if (bits == ~uint64_t{0}) {
            if (word == first_maybe_free_word) ++first_maybe_free_word;
            continue;
        }
        size_t slot = word * BitsPerWord + lowest_set_bit(~bits);
        if (slot >= slot_limit) return KernelStackSlots;
        used.set(slot);
        ++in_use;
        return slot;
    }
    return KernelStackSlots;
}

void release_slot(size_t slot) {
    used.clear(slot);
    --in_use;
    if (slot / BitsPerWord < first_maybe_free_word) first_maybe_free_word = slot / BitsPerWord;
}

// Unmaps the first `pages` pages of a stack and frees their frames. lock held.
void unmap_pages(uint64_t bottom, size_t pages) {
    PageTable& table = kernel_page_table();
    PhysicalAddress frame[KernelStackPages];
    for (size_t page = 0; page < pages; ++page) {
        auto translation = table.translate(bottom + page * PageSize);
        if (!translation) panic("kernel stack {:#x}: page {} is not mapped", bottom, page);
        frame[page] = translation->physical;
    }
    if (pages == 0) return;
    if (auto unmapped = table.unmap(bottom, pages * PageSize); !unmapped)
        panic("kernel stack {:#x}: unmap failed ({})", bottom, error_name(unmapped.error()));
    for (size_t page = 0; page < pages; ++page) {
        riscv::flush_tlb_page(bottom + page * PageSize);
        (void)frames().free(frame[page]);
    }
}

} // namespace

Result<void> init_kernel_stacks() {
    return kernel_page_table().keep_tables(KernelStackAreaBase, PreparedKernelStackSlots * KernelStackSlotSize);
}

Result<KernelStack> allocate_kernel_stack() {
    ScopedLock guard(lock);
    size_t slot = take_slot();
    if (slot == KernelStackSlots) return Error::NoMemory;
    KernelStack stack{slot_base(slot) + KernelStackGuardSize, slot_base(slot) + KernelStackSlotSize,
                      static_cast<uint32_t>(slot)};
    PageTable& table = kernel_page_table();
    // Beyond the prepared slots the level-0 table may be missing: made now and kept (never freed).
    if (slot >= PreparedKernelStackSlots) {
        if (auto tables = table.keep_tables(stack.bottom, KernelStackSize); !tables) {
            release_slot(slot);
            return tables.error();
        }
    }
    for (size_t page = 0; page < KernelStackPages; ++page) {
        uint64_t va = stack.bottom + page * PageSize;
        auto frame = frames().allocate();
        Result<void> mapped = frame ? table.map(va, *frame, PageSize, StackFlags) : Result<void>(frame.error());
        if (!mapped) {
            if (frame) (void)frames().free(*frame);
            unmap_pages(stack.bottom, page);
            release_slot(slot);
            return mapped.error();
        }
    }
    // An entry that was invalid may be cached too: this hart writes the stack next.
    for (size_t page = 0; page < KernelStackPages; ++page) riscv::flush_tlb_page(stack.bottom + page * PageSize);
    return stack;
}

void free_kernel_stack(const KernelStack& stack) {
    if (stack.slot >= KernelStackSlots || stack.bottom != slot_base(stack.slot) + KernelStackGuardSize ||
        stack.top != stack.bottom + KernelStackSize)
        panic("free_kernel_stack: no such stack [{:#x}, {:#x}) in slot {}", stack.bottom, stack.top, stack.slot);
    ScopedLock guard(lock);
    if (!used.test(stack.slot)) panic("free_kernel_stack: slot {} is not in use", stack.slot);
    unmap_pages(stack.bottom, KernelStackPages);
    for (NamedStack& named : names)
        if (named.name && named.slot == stack.slot) named.name = nullptr;
    release_slot(stack.slot);
}

bool name_kernel_stack(const KernelStack& stack, const char* name) {
    ScopedLock guard(lock);
    for (NamedStack& named : names) {
        if (named.name) continue;
        named = {stack.slot, name};
        return true;
    }
    return false;
}

// Read without the lock: called by the overflow report, which must not wait for anything.
const char* kernel_stack_name(uint32_t slot) {
    for (const NamedStack& named : names)
        if (named.name && named.slot == slot) return named.name;
    return nullptr;
}

size_t kernel_stacks_in_use() {
    ScopedLock guard(lock);
    return in_use;
}

size_t limit_kernel_stack_slots(size_t limit) {
    ScopedLock guard(lock);
    size_t previous = slot_limit;
    slot_limit = limit < KernelStackSlots ? limit : KernelStackSlots;
    return previous;
}

} // namespace kernel::mm
