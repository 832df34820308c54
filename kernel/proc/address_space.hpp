// A process's address space: its Sv39 page table (kernel half shared with the kernel's) and the
// user regions it owns.
//
// Every user page is a frame of its own, allocated zeroed when its region is mapped and freed when
// the address space is destroyed. User memory is read and written by the kernel through the direct
// map after a page-table lookup that checks the U bit and the permission, so a bad user pointer is
// an error (-EFAULT for the caller), never a kernel fault.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernel/lib/result.hpp"
#include "kernel/mm/page_table.hpp"

namespace kernel::proc {

// User half of Sv39 as processes see it (kernel/exec/elf.hpp keeps program segments below
// UserImageLimit; the top GiB holds the stack and, later, the vDSO).
constexpr uint64_t UserStackTop = 0x0000003ff0000000ull;
constexpr uint64_t UserStackSize = 64 * 1024;

enum class Access : uint8_t { Read, Write };

class AddressSpace {
public:
    static constexpr size_t MaxRegions = 24;

    // A page table sharing the kernel half, with no user mapping.
    Result<void> create();
    // Maps zeroed frames at [va, va + size) (page-aligned) with R/W/X from `flags` plus U.
    // On failure nothing of this call stays mapped or allocated.
    Result<void> map_anonymous(uint64_t va, uint64_t size, uint64_t flags);
    // Copies between kernel memory and user memory. InvalidArgument (the caller's -EFAULT) if any
    // byte is not mapped user memory with the needed permission; nothing is copied in that case.
    // copy_to_user_image ignores the W bit: the loader fills read-only program segments.
    Result<void> copy_from_user(void* destination, uint64_t source, size_t size) const;
    Result<void> copy_to_user(uint64_t destination, const void* source, size_t size) const;
    Result<void> copy_to_user_image(uint64_t destination, const void* source, size_t size) const;
    Result<void> check_user_range(uint64_t va, size_t size, Access access) const;
    // Frees every user frame and every table page. The address space is empty afterwards.
    void destroy();

    uint64_t satp() const { return table_.satp(); }
    const mm::PageTable& page_table() const { return table_; }
    // For mappings of frames owned elsewhere (the vDSO's, kernel/vdso/vdso.cpp). They are not regions:
    // destroy() frees their table pages, never their frames.
    mm::PageTable& page_table() { return table_; }
    size_t user_pages() const;

private:
    struct Region {
        uint64_t base;
        uint64_t size;
    };
    Result<void> copy(uint64_t user_address, void* kernel_buffer, size_t size, bool to_user, bool check_write) const;
    void release_region(const Region& region);

    mm::PageTable table_;
    Region regions_[MaxRegions] = {};
    size_t region_count_ = 0;
};

} // namespace kernel::proc
