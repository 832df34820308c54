// A process's address space: its Sv39 page table (kernel half shared with the kernel's) and the
// user regions it owns.
//
// Every user page is a frame of its own, allocated zeroed when its region is mapped and freed when
// it is unmapped or the address space is destroyed (no demand paging: a page that faults is not
// there). User memory is read and written by the kernel in one of two ways, with the same answers:
//   * the address space is the one in this hart's satp (a thread of the process makes the call, or a
//     call of the process finishes on its way back): through the user addresses themselves with
//     sstatus.SUM set (kernel/arch/riscv/user_access.S), the MMU checking U and the permission;
//     a fault resumes at the copy's fixup (the fault-fixup table) instead of stopping the kernel;
//   * otherwise, and whenever the first way faulted: a walk of the page table that checks U and the
//     permission of every page, copying through the direct map.
// Either way a bad user pointer is an error (-EFAULT for the caller), never a kernel fault, and a
// failed copy writes nothing (docs/architecture.md, "User memory access").
//
// Invariants of the region table (regions_[0, region_count_)):
//   * regions are sorted by base, page-aligned, non-empty and never overlap;
//   * every page of a region with permissions != 0 is mapped (U plus exactly those permissions) to
//     a frame of its own; a region with permissions == 0 (PROT_NONE) is reserved: none of its pages
//     is mapped; no page outside every region is mapped;
//   * two adjacent regions with the same permissions are merged, so a growing heap stays one region;
//   * mapped_pages_ counts the mapped pages (the frames this table owns besides table pages).
// Locking: every public operation holds the address space's lock (a spin lock, taken with interrupts
// off, as all of a thread's kernel code runs) for all its work, so threads of one process calling
// mmap/munmap/brk and copying to or from user memory on several harts at once see each operation
// whole: a copy never writes into a frame an munmap has freed, and PageTable::clear_range never
// frees a table page another thread is filling (issue 14). Unmapped frames are freed only after a
// user TLB shootdown (flush_user_tlb_on_all_harts, which waits only for harts in user mode, so it is
// safe under this lock; a hart in the kernel does its flush under this lock before a copy through
// user addresses: flush_pending_user_tlb). Lock order: any WaitQueue's lock (a pipe copies under it) -> this lock ->
// the frame allocator's and the heap's. Nothing waits or sleeps under it. user_pages() is one
// atomic word, read without the lock.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "abi/result.hpp"
#include "abi/spin_lock.hpp"
#include "kernel/mm/page_table.hpp"

namespace kernel::proc {

// Layout of the user half of Sv39 as processes see it:
//   [UserMapMinimum, ...)        program segments (kernel/exec/elf.hpp: below UserMapLimit), then the
//                                program break (heap), which may grow up to MaxBreakSize;
//   [..., UserMapAreaTop)        where the kernel places mmap()s without an address, top-down, above
//                                the break's limit first;
//   [UserMapLimit, UserSpaceEnd) the top GiB: the stack (and, later, the vDSO).
constexpr uint64_t UserMapMinimum = 0x10000;                // lowest mappable address: null stays a fault
constexpr uint64_t UserMapAreaTop = 0x0000003f00000000ull;  // kernel-chosen mappings end at or below this
constexpr uint64_t UserMapLimit = 0x0000003fc0000000ull;    // == exec::UserLimit; mmap()s end at or below
constexpr uint64_t UserSpaceEnd = 0x0000004000000000ull;    // end of the Sv39 user half
constexpr uint64_t UserStackTop = 0x0000003ff0000000ull;
constexpr uint64_t UserStackSize = 64 * 1024;
constexpr uint64_t MaxBreakSize = uint64_t{1} << 30;        // the heap grows at most 1 GiB past its start

enum class Access : uint8_t { Read, Write };

class AddressSpace {
public:
    static constexpr size_t MaxRegions = 64;

    // A page table sharing the kernel half, with no user mapping.
    Result<void> create();
    // Maps zeroed frames at [va, va + size) (page-aligned, inside the user half) with R/W/X from
    // `flags` plus U; flags without R, W or X reserve the range (PROT_NONE) without mapping a page.
    // Errors: InvalidArgument (misaligned, empty, outside the user half), AlreadyExists (part of the
    // range belongs to a region), NoMemory (no frame, no table page, or the region table is full).
    // On failure nothing of this call stays mapped or allocated.
    Result<void> map_anonymous(uint64_t va, uint64_t size, uint64_t flags);
    // mmap's placement in one step under the lock: Anywhere takes `address` as a hint if it is
    // page-aligned, inside [UserMapMinimum, UserMapLimit) and free, else the highest free range
    // below UserMapAreaTop (above the break's limit if there is room there); Fixed replaces what
    // is there; FixedNoReplace fails with AlreadyExists if anything is. Returns the address. Errors:
    // those of map_anonymous and unmap, NoMemory when no free range is found.
    enum class Placement : uint8_t { Anywhere, Fixed, FixedNoReplace };
    Result<uint64_t> map(uint64_t address, uint64_t size, uint64_t flags, Placement placement);
    // Unmaps [va, va + size) (page-aligned, inside the user half) and frees its frames; regions
    // partly inside are trimmed or split, holes are skipped. NoMemory, changing nothing, if a region
    // must be split and the region table is full.
    Result<void> unmap(uint64_t va, uint64_t size);
    // True if no region meets [va, va + size).
    bool is_free(uint64_t va, uint64_t size) const;
    // mprotect: gives every page of [va, va + size) (page-aligned, every page inside some region)
    // the permissions `flags` (R/W/X; none: PROT_NONE). Pages that become accessible from PROT_NONE
    // get zeroed frames; pages that become PROT_NONE lose their frames and contents (Linux keeps
    // them: docs/syscalls.md). Errors: InvalidArgument, NoMemory (a page of the range belongs to no
    // region, no frame, or no room to split regions; pages already changed stay changed).
    Result<void> protect(uint64_t va, uint64_t size, uint64_t flags);
    // The highest page-aligned start of a free range of `size` bytes inside [low, high); NotFound
    // if there is none.
    Result<uint64_t> find_free_range(uint64_t size, uint64_t low, uint64_t high) const;

    // The program break (brk): it starts at `start` (the page-aligned end of the highest program
    // segment, set once at spawn) and may move within [start, break_limit()). The pages of
    // [start, page-rounded break) are mapped read-write.
    void start_program_break(uint64_t start);
    uint64_t program_break() const;
    uint64_t break_start() const;
    uint64_t break_limit() const;
    // Moves the break, mapping zeroed pages when it grows and unmapping when it shrinks.
    // InvalidArgument outside [start, limit], AlreadyExists if growing would run into another
    // mapping, NoMemory; the break is unchanged on failure.
    Result<void> set_program_break(uint64_t new_break);

    // Copies between kernel memory and user memory. InvalidArgument (the caller's -EFAULT) if any
    // byte is not mapped user memory with the needed permission; nothing is copied in that case
    // (the lock is held from the check to the last byte: another thread's munmap comes before or
    // after the whole copy). check_user_range: the same check, copying nothing.
    // copy_to_user_image ignores the W bit: the loader fills read-only program segments.
    Result<void> copy_from_user(void* destination, uint64_t source, size_t size) const;
    Result<void> copy_to_user(uint64_t destination, const void* source, size_t size) const;
    Result<void> copy_to_user_image(uint64_t destination, const void* source, size_t size) const;
    // copy_from_user / copy_to_user of `size` bytes that check, in the same locked step, the
    // `checked_size` bytes from the user address (at least `size`): a pipe checks the caller's whole
    // buffer with the copy of the first piece, instead of in a check_user_range of its own.
    Result<void> copy_from_user_checking(void* destination, uint64_t source, size_t size, size_t checked_size) const;
    Result<void> copy_to_user_checking(uint64_t destination, const void* source, size_t size, size_t checked_size) const;
    Result<void> check_user_range(uint64_t va, size_t size, Access access) const;
    // Frees every user frame and every table page. The address space is empty afterwards.
    void destroy();
    // Exchanges the whole contents (table, regions, break) with `other`: execve installs a new image
    // prepared in a separate address space this way. Neither may be in use by another thread.
    void swap(AddressSpace& other);

    uint64_t satp() const { return table_.satp(); }
    // Set once a second thread exists: unmapping then waits for every hart to flush its TLB.
    void set_shared_across_harts() { shared_across_harts_ = true; }
    const mm::PageTable& page_table() const { return table_; }
    size_t user_pages() const { return mapped_pages_.load(std::memory_order_relaxed); }
    size_t region_count() const;
    // For mappings of frames owned elsewhere (the vDSO's, kernel/vdso/vdso.cpp). They are not regions:
    // destroy() frees their table pages, never their frames.
    mm::PageTable& page_table() { return table_; }

private:
    struct Region {
        uint64_t base;
        uint64_t size;
        uint64_t permissions;  // mm::pte Read/Write/Execute; 0 = reserved, nothing mapped
        uint64_t end() const { return base + size; }
    };
    // The operations above, with the lock held by the caller.
    Result<void> map_anonymous_locked(uint64_t va, uint64_t size, uint64_t flags);
    Result<void> unmap_locked(uint64_t va, uint64_t size);
    bool is_free_locked(uint64_t va, uint64_t size) const;
    Result<uint64_t> find_free_range_locked(uint64_t size, uint64_t low, uint64_t high) const;
    uint64_t break_limit_locked() const;
    Result<void> check_user_range_locked(uint64_t va, size_t size, Access access) const;
    // The software check: walks the page table for every page of a range inside the user half.
    Result<void> walk_user_range_locked(uint64_t va, size_t size, Access access) const;
    // True if this address space is the one in satp on this hart (then it may be reached through user
    // addresses with SUM); does this hart's pending user TLB flush first. Lock held.
    bool loaded_here_locked() const;
    // Copies `size` bytes; with to_user and !check_write (the loader) checks nothing but the bounds,
    // else checks [user_address, user_address + checked_size) (checked_size >= size).
    Result<void> copy(uint64_t user_address, void* kernel_buffer, size_t size, size_t checked_size, bool to_user,
                      bool check_write) const;
    // checked_size 0: the caller checked nothing and the walk checks only U on the pages it copies.
    Result<void> copy_by_walk_locked(uint64_t user_address, void* kernel_buffer, size_t size, bool to_user,
                                     size_t checked_size) const;
    // Unmaps and frees the frames of the mapped pages in [va, end), flushing this hart's TLB.
    void release_pages(uint64_t va, uint64_t end);
    // Records [base, base + size) (free, checked by the caller), merging it with neighbours of the
    // same permissions. can_record() tells beforehand whether record() will find room.
    bool can_record(uint64_t base, uint64_t size, uint64_t permissions) const;
    void record(uint64_t base, uint64_t size, uint64_t permissions);
    void remove_region_at(size_t index);
    void insert_region_at(size_t index, const Region& region);
    // Splits the region containing `va` (not at its base) in two at `va`; false if the table is full.
    bool split_region_at(uint64_t va);
    // Merges neighbouring regions that touch and have the same permissions.
    void merge_regions();
    // Maps zeroed frames at [va, end) with `permissions`; on failure releases what it mapped.
    Result<void> back_pages(uint64_t va, uint64_t end, uint64_t permissions);

    mutable SpinLock lock_;  // guards everything below but mapped_pages_ (atomic)
    mm::PageTable table_;
    bool shared_across_harts_ = false;
    Region regions_[MaxRegions] = {};
    size_t region_count_ = 0;
    std::atomic<size_t> mapped_pages_{0};
    uint64_t break_start_ = 0;
    uint64_t break_ = 0;
};

} // namespace kernel::proc
