// PageTable: the Sv39 walk; see page_table.hpp for the entry layout and the invariants.
#include "kernel/mm/page_table.hpp"

namespace kernel::mm {

namespace {

constexpr unsigned BitsPerLevel = 9;

constexpr uint64_t level_bytes(unsigned level) { return uint64_t{1} << (PageShift + BitsPerLevel * level); }

constexpr size_t index_at(uint64_t va, unsigned level) {
    return (va >> (PageShift + BitsPerLevel * level)) & (PageTable::EntriesPerTable - 1);
}

constexpr bool is_valid(uint64_t entry) { return entry & pte::Valid; }
constexpr bool is_leaf(uint64_t entry) { return entry & (pte::Read | pte::Execute); }
constexpr PhysicalAddress address_in(uint64_t entry) { return (entry & pte::PpnMask) >> pte::PpnShift << PageShift; }
constexpr uint64_t entry_for(PhysicalAddress pa, uint64_t bits) { return (pa >> PageShift) << pte::PpnShift | bits; }

constexpr LeafSize leaf_size_at(unsigned level) { return static_cast<LeafSize>(level_bytes(level)); }

bool is_empty(const uint64_t* table) {
    for (size_t index = 0; index < PageTable::EntriesPerTable; ++index) {
        if (is_valid(table[index])) return false;
    }
    return true;
}

bool in_upper_half(uint64_t va) { return (va >> 38) & 1; }

} // namespace

Result<PageTable> PageTable::create(FrameAllocator& frames, PhysicalMap map) {
    PhysicalAddress root = TRY(frames.allocate_zeroed());
    return PageTable(frames, map, root);
}

Result<void> PageTable::check_virtual_range(uint64_t va, uint64_t size, uint64_t alignment) const {
    if (root_ == 0 || size == 0 || !is_aligned(va, alignment) || !is_aligned(size, alignment)) {
        return Error::InvalidArgument;
    }
    if (size - 1 > ~uint64_t{0} - va) return Error::InvalidArgument;
    uint64_t last = va + (size - 1);
    if (!is_canonical_sv39(va) || !is_canonical_sv39(last) || in_upper_half(va) != in_upper_half(last)) {
        return Error::InvalidArgument;
    }
    if (kernel_half_borrowed_ && in_upper_half(va)) return Error::InvalidArgument;
    return success();
}

Result<void> PageTable::map(uint64_t va, PhysicalAddress pa, uint64_t size, uint64_t flags, LeafSize leaf) {
    unsigned level = leaf == LeafSize::GigaPage ? 2 : leaf == LeafSize::MegaPage ? 1 : 0;
    if (static_cast<uint64_t>(leaf) != level_bytes(level)) return Error::InvalidArgument;
    return map_pieces(va, pa, size, flags, int(level));
}

Result<void> PageTable::map_range(uint64_t va, PhysicalAddress pa, uint64_t size, uint64_t flags) {
    return map_pieces(va, pa, size, flags, -1);
}

Result<void> PageTable::map_pieces(uint64_t va, PhysicalAddress pa, uint64_t size, uint64_t flags,
                                   int leaf_level) {
    uint64_t alignment = leaf_level < 0 ? PageSize : level_bytes(unsigned(leaf_level));
    Result<void> range = check_virtual_range(va, size, alignment);
    if (!range) return range;
    if (!is_aligned(pa, alignment) || pa >= PhysicalAddressLimit || size > PhysicalAddressLimit - pa) {
        return Error::InvalidArgument;
    }
    if ((flags & ~pte::PermissionMask) != 0 || (flags & (pte::Read | pte::Execute)) == 0 ||
        ((flags & pte::Write) && !(flags & pte::Read))) {
        return Error::InvalidArgument;
    }
    uint64_t leaf_bits = flags | pte::Valid | pte::Accessed | pte::Dirty;
    uint64_t mapped = 0;
    while (mapped < size) {
        unsigned level = leaf_level >= 0 ? unsigned(leaf_level) : RootLevel;
        while (leaf_level < 0 && level > 0 &&
               !(is_aligned(va + mapped, level_bytes(level)) && is_aligned(pa + mapped, level_bytes(level)) &&
                 size - mapped >= level_bytes(level))) {
            --level;
        }
        Result<void> placed = map_leaf(va + mapped, pa + mapped, level, leaf_bits);
        if (!placed) {
            // Undo this call: its own leaves, then the tables it created (the only empty ones).
            uint64_t* root = table_at(root_);
            if (mapped != 0) clear_range(root, RootLevel, va, va + (mapped - 1), true);
            clear_range(root, RootLevel, va, va + (size - 1), false);
            return placed;
        }
        mapped += level_bytes(level);
    }
    return success();
}

Result<void> PageTable::map_leaf(uint64_t va, PhysicalAddress pa, unsigned level, uint64_t leaf_bits) {
    uint64_t* table = table_at(root_);
    for (unsigned current = RootLevel; current > level; --current) {
        uint64_t& entry = table[index_at(va, current)];
        if (!is_valid(entry)) {
            Result<PhysicalAddress> child = frames_->allocate_zeroed();
            if (!child) return Error::NoMemory;
            count_table_pages(1);
            entry = entry_for(*child, pte::Valid);
        } else if (is_leaf(entry)) {
            return Error::AlreadyExists;
        }
        table = table_at(address_in(entry));
    }
    uint64_t& entry = table[index_at(va, level)];
    if (is_valid(entry)) return Error::AlreadyExists;
    entry = entry_for(pa, leaf_bits);
    return success();
}

void PageTable::clear_range(uint64_t* table, unsigned level, uint64_t first, uint64_t last, bool clear_leaves) {
    uint64_t entry_bytes = level_bytes(level);
    uint64_t cursor = first;
    for (;;) {
        uint64_t entry_last = align_down(cursor, entry_bytes) + (entry_bytes - 1);
        uint64_t piece_last = entry_last < last ? entry_last : last;
        size_t index = index_at(cursor, level);
        uint64_t& entry = table[index];
        if (is_valid(entry) && is_leaf(entry)) {
            if (clear_leaves) entry = 0;
        } else if (is_valid(entry) && level > 0) {
            uint64_t* child = table_at(address_in(entry));
            clear_range(child, level - 1, cursor, piece_last, clear_leaves);
            bool kept = (entry & pte::KeptTable) || (level == RootLevel && index >= FirstKernelEntry);
            if (!kept && is_empty(child)) {
                Result<void> released = frames_->free(address_in(entry), 1);
                (void)released;  // a table page of this tree is always an allocated frame
                count_table_pages(-1);
                entry = 0;
            }
        }
        if (piece_last == last) return;
        cursor = piece_last + 1;
    }
}

bool PageTable::covers_whole_leaves(const uint64_t* table, unsigned level, uint64_t first, uint64_t last) const {
    uint64_t entry_bytes = level_bytes(level);
    uint64_t cursor = first;
    for (;;) {
        uint64_t entry_first = align_down(cursor, entry_bytes);
        uint64_t entry_last = entry_first + (entry_bytes - 1);
        uint64_t piece_last = entry_last < last ? entry_last : last;
        uint64_t entry = table[index_at(cursor, level)];
        if (is_valid(entry) && is_leaf(entry)) {
            if (cursor != entry_first || piece_last != entry_last) return false;
        } else if (is_valid(entry) && level > 0) {
            if (!covers_whole_leaves(table_at(address_in(entry)), level - 1, cursor, piece_last)) return false;
        }
        if (piece_last == last) return true;
        cursor = piece_last + 1;
    }
}

Result<void> PageTable::unmap(uint64_t va, uint64_t size) {
    Result<void> range = check_virtual_range(va, size, PageSize);
    if (!range) return range;
    uint64_t last = va + (size - 1);
    if (!covers_whole_leaves(table_at(root_), RootLevel, va, last)) return Error::InvalidArgument;
    clear_range(table_at(root_), RootLevel, va, last, true);
    return success();
}

Result<Translation> PageTable::translate(uint64_t va) const {
    if (root_ == 0 || !is_canonical_sv39(va)) return Error::InvalidArgument;
    const uint64_t* table = table_at(root_);
    for (unsigned level = RootLevel;; --level) {
        uint64_t entry = table[index_at(va, level)];
        if (!is_valid(entry)) return Error::NotFound;
        if (is_leaf(entry)) {
            uint64_t bytes = level_bytes(level);
            PhysicalAddress base = address_in(entry);
            bool write_without_read = (entry & pte::Write) && !(entry & pte::Read);
            if (!is_aligned(base, bytes) || write_without_read) return Error::Malformed;
            return Translation{base + (va & (bytes - 1)), entry & 0xff, leaf_size_at(level)};
        }
        if (level == 0 || (entry & (pte::Write | pte::User | pte::Accessed | pte::Dirty))) return Error::Malformed;
        table = table_at(address_in(entry));
    }
}

Result<uint64_t*> PageTable::level0_table(uint64_t va, bool make, bool mark_kept) {
    uint64_t* table = table_at(root_);
    for (unsigned level = RootLevel; level > 0; --level) {
        uint64_t& entry = table[index_at(va, level)];
        if (!is_valid(entry)) {
            if (!make) return Error::NotFound;
            Result<PhysicalAddress> child = frames_->allocate_zeroed();
            if (!child) return Error::NoMemory;
            count_table_pages(1);
            entry = entry_for(*child, pte::Valid);
        } else if (is_leaf(entry)) {
            return Error::AlreadyExists;
        }
        if (mark_kept) entry |= pte::KeptTable;
        table = table_at(address_in(entry));
    }
    return table;
}

Result<void> PageTable::keep_tables(uint64_t va, uint64_t size) {
    Result<void> range = check_virtual_range(va, size, PageSize);
    if (!range) return range;
    uint64_t last = va + (size - 1);
    constexpr uint64_t TableSpan = level_bytes(1);  // what one level-0 table maps
    // First make what is missing, unmarked: if that fails, the empty unmarked tables in the range are
    // exactly the ones this call made, and clear_range frees them. Then mark them all.
    for (bool mark : {false, true}) {
        for (uint64_t cursor = va;; cursor = align_down(cursor, TableSpan) + TableSpan) {
            Result<uint64_t*> table = level0_table(cursor, !mark, mark);
            if (!table) {
                if (!mark) clear_range(table_at(root_), RootLevel, va, last, false);
                return table.error() == Error::AlreadyExists ? Error::InvalidArgument : table.error();
            }
            if (last - align_down(cursor, TableSpan) < TableSpan) break;
        }
    }
    return success();
}

Result<void> PageTable::copy_kernel_half(const PageTable& from) {
    if (root_ == 0 || from.root_ == 0) return Error::InvalidArgument;
    uint64_t* own = table_at(root_);
    const uint64_t* shared = from.table_at(from.root_);
    if (!kernel_half_borrowed_) {
        for (size_t index = FirstKernelEntry; index < EntriesPerTable; ++index) {
            if (is_valid(own[index])) return Error::InvalidArgument;
        }
    }
    for (size_t index = FirstKernelEntry; index < EntriesPerTable; ++index) own[index] = shared[index];
    kernel_half_borrowed_ = true;
    return success();
}

Result<void> PageTable::populate_kernel_half() {
    if (root_ == 0 || kernel_half_borrowed_) return Error::InvalidArgument;
    uint64_t* root = table_at(root_);
    bool created[EntriesPerTable - FirstKernelEntry] = {};
    for (size_t index = FirstKernelEntry; index < EntriesPerTable; ++index) {
        if (is_valid(root[index])) continue;
        Result<PhysicalAddress> table = frames_->allocate_zeroed();
        if (!table) {
            for (size_t undo = FirstKernelEntry; undo < index; ++undo) {
                if (!created[undo - FirstKernelEntry]) continue;
                Result<void> released = frames_->free(address_in(root[undo]), 1);
                (void)released;
                root[undo] = 0;
            }
            return Error::NoMemory;
        }
        root[index] = entry_for(*table, pte::Valid);
        created[index - FirstKernelEntry] = true;
        count_table_pages(1);
    }
    return success();
}

void PageTable::free_subtree(PhysicalAddress table, unsigned level) {
    uint64_t* entries = table_at(table);
    for (size_t index = 0; index < EntriesPerTable; ++index) {
        if (level == RootLevel && index >= FirstKernelEntry && kernel_half_borrowed_) break;
        uint64_t entry = entries[index];
        if (level > 0 && is_valid(entry) && !is_leaf(entry)) free_subtree(address_in(entry), level - 1);
    }
    Result<void> released = frames_->free(table, 1);
    (void)released;  // a table page of this tree is always an allocated frame
    count_table_pages(-1);
}

void PageTable::destroy() {
    if (root_ == 0) return;
    free_subtree(root_, RootLevel);
    root_ = 0;
    kernel_half_borrowed_ = false;
}

} // namespace kernel::mm
