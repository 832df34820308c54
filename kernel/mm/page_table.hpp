// PageTable: one Sv39 address space — a three-level tree of 512-entry tables.
//
// Sv39 virtual address (bits 63..39 must all equal bit 38, else the address is non-canonical):
//   | 63..39 sign | 38..30 VPN[2] | 29..21 VPN[1] | 20..12 VPN[0] | 11..0 page offset |
// Page-table entry:
//   | 63..54 reserved, 0 | 53..10 PPN | 9..8 RSW | 7 D | 6 A | 5 G | 4 U | 3 X | 2 W | 1 R | 0 V |
// V=1 with R=W=X=0 points to the next-level table at PPN << 12. V=1 with R or X set is a leaf: at
// level 2 it maps 1 GiB, at level 1 2 MiB, at level 0 4 KiB, and its PPN is aligned to that size.
// W without R is reserved. Root entries 256..511 map the upper (kernel) half, shared by every
// address space.
//
// Invariants kept by this class:
//   * Every table page was allocated zeroed from frames_ and belongs to this tree, except the
//     kernel-half entries copied by copy_kernel_half() (kernel_half_borrowed_), which belong to the
//     table they were copied from: this tree never changes or frees them.
//   * No table below the root is empty, except level-1 tables under root entries 256..511 (they stay
//     once created so that address spaces sharing the kernel half keep seeing later kernel mappings)
//     and kept tables: those made or marked by keep_tables(), whose parent entry has pte::KeptTable.
//     Neither kind is ever freed before destroy(). Hence a failed map() that is rolled back leaves the
//     tree (and the frame count) as it found it.
//   * Leaves get A and D set at map time (no Svadu assumed).
// Changing a mapping does not flush any TLB: the caller issues sfence.vma. Not internally locked: the
// owner of the address space serialises changes to it.
#pragma once

#include "abi/result.hpp"
#include "kernel/mm/frame_allocator.hpp"
#include "kernel/mm/physical.hpp"

#include <cstddef>
#include <cstdint>

namespace kernel::mm {

namespace pte {
constexpr uint64_t Valid = 1u << 0;
constexpr uint64_t Read = 1u << 1;
constexpr uint64_t Write = 1u << 2;
constexpr uint64_t Execute = 1u << 3;
constexpr uint64_t User = 1u << 4;
constexpr uint64_t Global = 1u << 5;
constexpr uint64_t Accessed = 1u << 6;
constexpr uint64_t Dirty = 1u << 7;
// In an entry that points to a table (one of the two RSW bits, which the hardware ignores): the
// table stays when it becomes empty (keep_tables()).
constexpr uint64_t KeptTable = 1u << 8;
// The flags a caller may pass to map().
constexpr uint64_t PermissionMask = Read | Write | Execute | User | Global;
constexpr unsigned PpnShift = 10;
constexpr uint64_t PpnMask = ((uint64_t{1} << 44) - 1) << PpnShift;
} // namespace pte

enum class LeafSize : uint64_t {
    Page = uint64_t{1} << 12,      // 4 KiB, level 0
    MegaPage = uint64_t{1} << 21,  // 2 MiB, level 1
    GigaPage = uint64_t{1} << 30,  // 1 GiB, level 2
};

// A virtual address Sv39 can express: bits 63..39 equal bit 38.
constexpr bool is_canonical_sv39(uint64_t va) {
    return static_cast<uint64_t>(static_cast<int64_t>(va << 25) >> 25) == va;
}

// Physical addresses Sv39 can reach: 56 bits.
constexpr uint64_t PhysicalAddressLimit = uint64_t{1} << 56;

struct Translation {
    PhysicalAddress physical;  // the translated address (leaf base + offset)
    uint64_t flags;            // bits 7..0 of the leaf: V R W X U G A D
    LeafSize leaf;
};

class PageTable {
public:
    static constexpr size_t EntriesPerTable = 512;
    static constexpr size_t FirstKernelEntry = 256;
    static constexpr unsigned RootLevel = 2;
    static constexpr uint64_t SatpModeSv39 = uint64_t{8} << 60;

    PageTable() = default;  // empty: root() == 0 until create()

    // A tree with a zeroed root table. NoMemory if no frame is free.
    static Result<PageTable> create(FrameAllocator& frames, PhysicalMap map);

    PhysicalAddress root() const { return root_; }
    // The satp value selecting this tree: MODE = 8 (Sv39), ASID 0, PPN of the root.
    uint64_t satp() const { return SatpModeSv39 | (root_ >> PageShift); }

    // Maps [va, va + size) to [pa, pa + size) with leaves of one size. va, pa and size must be aligned to
    // it; flags are R W X U G (R or X required, W needs R). AlreadyExists if any part is already mapped,
    // NoMemory if a table page cannot be allocated; on any failure nothing of this call stays mapped.
    Result<void> map(uint64_t va, PhysicalAddress pa, uint64_t size, uint64_t flags,
                     LeafSize leaf = LeafSize::Page);
    // Like map(), with page-aligned arguments, choosing at each step the largest leaf that the
    // alignment of va and pa and the remaining size allow.
    Result<void> map_range(uint64_t va, PhysicalAddress pa, uint64_t size, uint64_t flags);
    // Removes every leaf in [va, va + size) (page-aligned; holes are skipped) and frees tables left
    // empty. InvalidArgument, changing nothing, if the range cuts through a 2 MiB or 1 GiB leaf.
    Result<void> unmap(uint64_t va, uint64_t size);
    // NotFound if va is not mapped, InvalidArgument if it is not canonical, Malformed for a bad entry.
    Result<Translation> translate(uint64_t va) const;

    // Makes every table down to level 0 that [va, va + size) (page-aligned) needs and marks them kept:
    // later 4 KiB mappings there allocate nothing, and unmap() never frees them. InvalidArgument if a
    // leaf larger than 4 KiB lies in the range; on NoMemory the tables this call made are freed again.
    Result<void> keep_tables(uint64_t va, uint64_t size);

    // Shares root entries 256..511 of `from` (the kernel's tree). This tree must have no kernel-half
    // entry of its own (InvalidArgument otherwise); afterwards it never changes or frees them.
    Result<void> copy_kernel_half(const PageTable& from);
    // Gives every empty kernel-half root entry a level-1 table (256 frames at most), so that trees
    // that copied the kernel half see every later kernel mapping. On NoMemory nothing is kept.
    Result<void> populate_kernel_half();

    // Frees every table page this tree owns, root included; the mapped frames are not touched.
    void destroy();
    // The table pages this tree owns now, root included (not the kernel half it borrowed): what a
    // process's memory usage counts for its tables. Read without the tree's lock (relaxed).
    size_t table_pages() const { return __atomic_load_n(&table_pages_, __ATOMIC_RELAXED); }

private:
    PageTable(FrameAllocator& frames, PhysicalMap map, PhysicalAddress root)
        : frames_(&frames), map_(map), root_(root), table_pages_(1) {}
    void count_table_pages(long change) { __atomic_fetch_add(&table_pages_, static_cast<size_t>(change), __ATOMIC_RELAXED); }

    uint64_t* table_at(PhysicalAddress table) const { return map_.to_virtual<uint64_t>(table); }
    // InvalidArgument unless [va, va + size) is non-empty, aligned, canonical, in one half, and ours to change.
    Result<void> check_virtual_range(uint64_t va, uint64_t size, uint64_t alignment) const;
    // Maps pieces; leaf_level < 0 picks the largest leaf per piece. Rolls back on failure.
    Result<void> map_pieces(uint64_t va, PhysicalAddress pa, uint64_t size, uint64_t flags, int leaf_level);
    Result<void> map_leaf(uint64_t va, PhysicalAddress pa, unsigned level, uint64_t leaf_bits);
    // The level-0 table holding va's leaf, making missing tables on the way (unmarked) if `make`.
    // NotFound (make false) or NoMemory if a table is missing, AlreadyExists if a larger leaf is there.
    Result<uint64_t*> level0_table(uint64_t va, bool make, bool mark_kept);
    // Clears leaves in [first, last] if clear_leaves, and frees tables below `table` that end up empty.
    void clear_range(uint64_t* table, unsigned level, uint64_t first, uint64_t last, bool clear_leaves);
    // False if a leaf in [first, last] is only partly covered.
    bool covers_whole_leaves(const uint64_t* table, unsigned level, uint64_t first, uint64_t last) const;
    void free_subtree(PhysicalAddress table, unsigned level);

    FrameAllocator* frames_ = nullptr;
    PhysicalMap map_{};
    PhysicalAddress root_ = 0;
    bool kernel_half_borrowed_ = false;
    size_t table_pages_ = 0;
};

} // namespace kernel::mm
