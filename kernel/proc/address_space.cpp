#include "kernel/proc/address_space.hpp"

#include <utility>

#include "kernel/arch/riscv/csr.hpp"
#include "kernel/arch/riscv/hart.hpp"
#include "kernel/arch/riscv/user_access.hpp"
#include "kernel/exec/elf.hpp"
#include "kernel/mm/memory.hpp"

namespace kernel::proc {

using mm::PageSize;

static_assert(UserMapLimit == exec::UserLimit, "mmap()s and program segments share one upper bound");
static_assert(UserMapMinimum == exec::UserBase, "mmap()s and program segments share one lower bound");
static_assert(UserMapAreaTop < UserMapLimit && UserStackTop - UserStackSize >= UserMapLimit);

namespace {
constexpr uint64_t PermissionBits = mm::pte::Read | mm::pte::Write | mm::pte::Execute;
uint64_t page_up(uint64_t value) { return (value + PageSize - 1) & ~(PageSize - 1); }
} // namespace

Result<void> AddressSpace::create() {
    auto table = mm::PageTable::create(mm::frames(), mm::physical_map());
    if (!table) return table.error();
    table_ = *table;
    if (auto shared = table_.copy_kernel_half(mm::kernel_page_table()); !shared) {
        table_.destroy();
        return shared.error();
    }
    region_count_ = 0;
    mapped_pages_.store(0, std::memory_order_relaxed);
    break_start_ = break_ = 0;
    return success();
}

void AddressSpace::swap(AddressSpace& other) {
    ScopedLock guard(lock_);
    ScopedLock other_guard(other.lock_);  // `other` is a fresh one no thread uses: no order to keep
    std::swap(table_, other.table_);
    std::swap(regions_, other.regions_);
    std::swap(region_count_, other.region_count_);
    std::swap(break_start_, other.break_start_);
    std::swap(break_, other.break_);
    size_t pages = mapped_pages_.load(std::memory_order_relaxed);
    mapped_pages_.store(other.mapped_pages_.load(std::memory_order_relaxed), std::memory_order_relaxed);
    other.mapped_pages_.store(pages, std::memory_order_relaxed);
}

void AddressSpace::release_pages(uint64_t va, uint64_t end) {
    // Frames are freed in batches, each only after no hart can still reach it through a stale TLB
    // entry: this hart flushes; while threads of the process may run on other harts, so do they
    // (with one thread, other harts flush when they next load this satp: the scheduler does).
    constexpr size_t Batch = 32;
    mm::PhysicalAddress frames[Batch];
    while (va < end) {
        size_t count = 0;
        for (; va < end && count < Batch; va += PageSize) {
            auto translation = table_.translate(va);
            if (!translation) continue;
            (void)table_.unmap(va, PageSize);
            riscv::flush_tlb_page(va);
            frames[count++] = translation->physical;
        }
        if (count && shared_across_harts_) flush_user_tlb_on_all_harts();
        for (size_t i = 0; i < count; ++i) (void)mm::frames().free(frames[i]);
        mapped_pages_.fetch_sub(count, std::memory_order_relaxed);
    }
}

void AddressSpace::remove_region_at(size_t index) {
    for (size_t i = index; i + 1 < region_count_; ++i) regions_[i] = regions_[i + 1];
    --region_count_;
}

void AddressSpace::insert_region_at(size_t index, const Region& region) {
    for (size_t i = region_count_; i > index; --i) regions_[i] = regions_[i - 1];
    regions_[index] = region;
    ++region_count_;
}

bool AddressSpace::can_record(uint64_t base, uint64_t size, uint64_t permissions) const {
    if (region_count_ < MaxRegions) return true;
    for (size_t i = 0; i < region_count_; ++i) {
        const Region& r = regions_[i];
        if (r.permissions == permissions && (r.end() == base || r.base == base + size)) return true;
    }
    return false;
}

void AddressSpace::record(uint64_t base, uint64_t size, uint64_t permissions) {
    size_t index = 0;  // first region above the new one
    while (index < region_count_ && regions_[index].base < base) ++index;
    bool joins_previous = index > 0 && regions_[index - 1].end() == base && regions_[index - 1].permissions == permissions;
    bool joins_next = index < region_count_ && regions_[index].base == base + size &&
                      regions_[index].permissions == permissions;
    if (joins_previous && joins_next) {
        regions_[index - 1].size += size + regions_[index].size;
        remove_region_at(index);
    } else if (joins_previous) {
        regions_[index - 1].size += size;
    } else if (joins_next) {
        regions_[index].base = base;
        regions_[index].size += size;
    } else {
        insert_region_at(index, Region{base, size, permissions});
    }
}

bool AddressSpace::is_free(uint64_t va, uint64_t size) const {
    ScopedLock guard(lock_);
    return is_free_locked(va, size);
}

bool AddressSpace::is_free_locked(uint64_t va, uint64_t size) const {
    for (size_t i = 0; i < region_count_; ++i)
        if (regions_[i].base < va + size && va < regions_[i].end()) return false;
    return true;
}

Result<uint64_t> AddressSpace::find_free_range(uint64_t size, uint64_t low, uint64_t high) const {
    ScopedLock guard(lock_);
    return find_free_range_locked(size, low, high);
}

Result<uint64_t> AddressSpace::find_free_range_locked(uint64_t size, uint64_t low, uint64_t high) const {
    if (size == 0 || low >= high || high - low < size) return Error::NotFound;
    // Walk the gaps from the top: `top` is the end of the gap being looked at.
    uint64_t top = high;
    for (size_t i = region_count_; i-- > 0;) {
        const Region& r = regions_[i];
        if (r.base >= top) continue;  // above the window, or above the gap being looked at
        uint64_t gap_bottom = r.end() > low ? r.end() : low;
        if (r.end() < top && top - gap_bottom >= size) return top - size;
        top = r.base;
        if (top <= low || top - low < size) return Error::NotFound;
    }
    return top - low >= size ? Result<uint64_t>(top - size) : Result<uint64_t>(Error::NotFound);
}

Result<void> AddressSpace::map_anonymous(uint64_t va, uint64_t size, uint64_t flags) {
    ScopedLock guard(lock_);
    return map_anonymous_locked(va, size, flags);
}

Result<uint64_t> AddressSpace::map(uint64_t address, uint64_t size, uint64_t flags, Placement placement) {
    ScopedLock guard(lock_);
    if (placement == Placement::Anywhere) {
        bool hint_usable = address && address % PageSize == 0 && address >= UserMapMinimum && address < UserMapLimit &&
                           size <= UserMapLimit - address && is_free_locked(address, size);
        if (!hint_usable) {
            Result<uint64_t> found = Error::NotFound;
            if (break_limit_locked() < UserMapAreaTop)
                found = find_free_range_locked(size, break_limit_locked(), UserMapAreaTop);
            if (!found) found = find_free_range_locked(size, UserMapMinimum, UserMapAreaTop);
            if (!found) return Error::NoMemory;
            address = *found;
        }
    } else if (!is_free_locked(address, size)) {
        if (placement == Placement::FixedNoReplace) return Error::AlreadyExists;
        if (auto unmapped = unmap_locked(address, size); !unmapped) return unmapped.error();
    }
    if (auto mapped = map_anonymous_locked(address, size, flags); !mapped) return mapped.error();
    return address;
}

Result<void> AddressSpace::map_anonymous_locked(uint64_t va, uint64_t size, uint64_t flags) {
    if (va % PageSize || size % PageSize || size == 0) return Error::InvalidArgument;
    if (va < UserMapMinimum || va >= UserSpaceEnd || size > UserSpaceEnd - va) return Error::InvalidArgument;
    uint64_t permissions = flags & PermissionBits;
    if (!is_free_locked(va, size)) return Error::AlreadyExists;
    if (!can_record(va, size, permissions)) return Error::NoMemory;
    if (permissions == 0) {  // PROT_NONE: reserved, nothing to map
        record(va, size, permissions);
        return success();
    }
    for (uint64_t offset = 0; offset < size; offset += PageSize) {
        auto frame = mm::frames().allocate_zeroed();
        Result<void> mapped = frame ? table_.map(va + offset, *frame, PageSize, permissions | mm::pte::User)
                                    : Result<void>(frame.error());
        if (!mapped) {
            if (frame) (void)mm::frames().free(*frame);
            release_pages(va, va + offset);
            return mapped.error();
        }
        mapped_pages_.fetch_add(1, std::memory_order_relaxed);
    }
    record(va, size, permissions);
    return success();
}

bool AddressSpace::split_region_at(uint64_t va) {
    for (size_t i = 0; i < region_count_; ++i) {
        Region& r = regions_[i];
        if (r.base >= va || r.end() <= va) continue;
        if (region_count_ == MaxRegions) return false;
        Region above{va, r.end() - va, r.permissions};
        r.size = va - r.base;
        insert_region_at(i + 1, above);
        return true;
    }
    return true;  // no region strictly contains va: nothing to split
}

void AddressSpace::merge_regions() {
    for (size_t i = 0; i + 1 < region_count_;) {
        Region& r = regions_[i];
        const Region& next = regions_[i + 1];
        if (r.end() == next.base && r.permissions == next.permissions) {
            r.size += next.size;
            remove_region_at(i + 1);
        } else {
            ++i;
        }
    }
}

Result<void> AddressSpace::back_pages(uint64_t va, uint64_t end, uint64_t permissions) {
    for (uint64_t page = va; page < end; page += PageSize) {
        auto frame = mm::frames().allocate_zeroed();
        Result<void> mapped = frame ? table_.map(page, *frame, PageSize, permissions | mm::pte::User)
                                    : Result<void>(frame.error());
        if (!mapped) {
            if (frame) (void)mm::frames().free(*frame);
            release_pages(va, page);
            return mapped.error();
        }
        mapped_pages_.fetch_add(1, std::memory_order_relaxed);
    }
    return success();
}

Result<void> AddressSpace::protect(uint64_t va, uint64_t size, uint64_t flags) {
    ScopedLock guard(lock_);
    if (va % PageSize || size % PageSize || size == 0) return Error::InvalidArgument;
    if (va >= UserSpaceEnd || size > UserSpaceEnd - va) return Error::InvalidArgument;
    uint64_t end = va + size, permissions = flags & PermissionBits;
    // Every page must belong to a region (Linux: -ENOMEM otherwise); regions are sorted.
    uint64_t covered = va;
    for (size_t i = 0; i < region_count_ && covered < end; ++i)
        if (regions_[i].base <= covered && regions_[i].end() > covered) covered = regions_[i].end();
    if (covered < end) return Error::NoMemory;
    if (region_count_ + 2 > MaxRegions) return Error::NoMemory;
    (void)split_region_at(va);
    (void)split_region_at(end);
    bool changed_mapped = false;
    for (size_t i = 0; i < region_count_; ++i) {
        Region& r = regions_[i];
        if (r.end() <= va || r.base >= end || r.permissions == permissions) continue;
        if (permissions == 0) {
            release_pages(r.base, r.end());
        } else if (r.permissions == 0) {
            if (auto backed = back_pages(r.base, r.end(), permissions); !backed) {
                merge_regions();
                return backed;
            }
        } else {
            for (uint64_t page = r.base; page < r.end(); page += PageSize) {
                auto translation = table_.translate(page);
                if (!translation) continue;
                (void)table_.unmap(page, PageSize);
                (void)table_.map(page, translation->physical, PageSize, permissions | mm::pte::User);
                riscv::flush_tlb_page(page);
            }
            changed_mapped = true;
        }
        r.permissions = permissions;
    }
    if (changed_mapped && shared_across_harts_) flush_user_tlb_on_all_harts();
    merge_regions();
    return success();
}

Result<void> AddressSpace::unmap(uint64_t va, uint64_t size) {
    ScopedLock guard(lock_);
    return unmap_locked(va, size);
}

Result<void> AddressSpace::unmap_locked(uint64_t va, uint64_t size) {
    if (va % PageSize || size % PageSize || size == 0) return Error::InvalidArgument;
    if (va >= UserSpaceEnd || size > UserSpaceEnd - va) return Error::InvalidArgument;
    uint64_t end = va + size;
    // Only a region sticking out on both sides needs a second slot; check before changing anything.
    if (region_count_ == MaxRegions) {
        for (size_t i = 0; i < region_count_; ++i)
            if (regions_[i].base < va && regions_[i].end() > end) return Error::NoMemory;
    }
    for (size_t i = 0; i < region_count_;) {
        Region& r = regions_[i];
        if (r.end() <= va || r.base >= end) {
            ++i;
            continue;
        }
        uint64_t cut_start = r.base > va ? r.base : va;
        uint64_t cut_end = r.end() < end ? r.end() : end;
        if (r.permissions != 0) release_pages(cut_start, cut_end);
        if (cut_start == r.base && cut_end == r.end()) {
            remove_region_at(i);  // the next region moved to index i
            continue;
        }
        if (cut_start == r.base) {
            r.size = r.end() - cut_end;
            r.base = cut_end;
        } else if (cut_end == r.end()) {
            r.size = cut_start - r.base;
        } else {  // split: the part above the hole becomes a region of its own
            Region above{cut_end, r.end() - cut_end, r.permissions};
            r.size = cut_start - r.base;
            insert_region_at(i + 1, above);
        }
        ++i;
    }
    return success();
}

void AddressSpace::start_program_break(uint64_t start) {
    ScopedLock guard(lock_);
    break_start_ = page_up(start);
    break_ = break_start_;
}

uint64_t AddressSpace::program_break() const {
    ScopedLock guard(lock_);
    return break_;
}

uint64_t AddressSpace::break_start() const {
    ScopedLock guard(lock_);
    return break_start_;
}

size_t AddressSpace::region_count() const {
    ScopedLock guard(lock_);
    return region_count_;
}

uint64_t AddressSpace::break_limit() const {
    ScopedLock guard(lock_);
    return break_limit_locked();
}

uint64_t AddressSpace::break_limit_locked() const {
    return break_start_ < UserMapLimit - MaxBreakSize ? break_start_ + MaxBreakSize : UserMapLimit;
}

Result<void> AddressSpace::set_program_break(uint64_t new_break) {
    ScopedLock guard(lock_);
    if (new_break < break_start_ || new_break > break_limit_locked()) return Error::InvalidArgument;
    uint64_t mapped_end = page_up(break_), new_end = page_up(new_break);
    if (new_end > mapped_end) {
        if (auto mapped = map_anonymous_locked(mapped_end, new_end - mapped_end, mm::pte::Read | mm::pte::Write); !mapped)
            return mapped;
    } else if (new_end < mapped_end) {
        if (auto unmapped = unmap_locked(new_end, mapped_end - new_end); !unmapped) return unmapped;
    }
    break_ = new_break;
    return success();
}

Result<void> AddressSpace::check_user_range(uint64_t va, size_t size, Access access) const {
    ScopedLock guard(lock_);
    return check_user_range_locked(va, size, access);
}

// The hardware path (docs/architecture.md, "User memory access"). Why it never reaches a freed
// frame, nor one of another address space:
//   * satp holds a process's table only while a thread of that process runs on this hart: the
//     scheduler loads it, with a full sfence.vma, when it switches to the thread (and execve when it
//     installs the new table), and loads the kernel's table when the thread gives the hart back. So
//     satp == this table means this hart runs a thread of ours, and every TLB entry this hart holds
//     for user addresses was loaded from this table since that flush.
//   * Every change that removes or downgrades a mapping (release_pages, protect) happens under
//     lock_, flushes this hart's entries for the page (sfence.vma) and, when threads may run on
//     other harts, raises a flush request on every hart (flush_user_tlb_on_all_harts) before the
//     frames are freed and the lock released. A hart in the kernel is not waited for; here, under
//     lock_ (taken after that release), its request is seen and done (flush_pending_user_tlb) before
//     the first access. Under lock_ nothing is unmapped until the access is over.
//   * A kernel coroutine finishing a call of ours on another process's thread or in a scheduler
//     loop sees another satp and takes the page-table walk below (through the direct map).
bool AddressSpace::loaded_here_locked() const {
    if (riscv::read_satp() != table_.satp()) return false;
    flush_pending_user_tlb();
    return true;
}

Result<void> AddressSpace::check_user_range_locked(uint64_t va, size_t size, Access access) const {
    if (size == 0) return success();
    if (va + size < va || va + size > UserSpaceEnd) return Error::InvalidArgument;
    // The MMU checks U and the permission of every page; a fault (or a page refused for any other
    // reason, spurious ones included) leaves the answer to the walk of the page table.
    if (loaded_here_locked() &&
        user_access_probe(va & ~(PageSize - 1), (va + size - 1) & ~(PageSize - 1), access == Access::Write) == 0)
        return success();
    return walk_user_range_locked(va, size, access);
}

[[gnu::noinline]] Result<void> AddressSpace::walk_user_range_locked(uint64_t va, size_t size, Access access) const {
    for (uint64_t page = va & ~(PageSize - 1); page < va + size; page += PageSize) {
        auto translation = table_.translate(page);
        if (!translation) return Error::InvalidArgument;
        uint64_t needed = mm::pte::User | (access == Access::Write ? mm::pte::Write : mm::pte::Read);
        if ((translation->flags & needed) != needed) return Error::InvalidArgument;
    }
    return success();
}

Result<void> AddressSpace::copy(uint64_t user_address, void* kernel_buffer, size_t size, size_t checked_size,
                                bool to_user, bool check_write) const {
    // Under the lock from the check to the last byte: no frame of the range is freed meanwhile.
    ScopedLock guard(lock_);
    if (size == 0) return success();
    const uint64_t checked_end = user_address + checked_size;
    if (checked_end < user_address || checked_end > UserSpaceEnd) return Error::InvalidArgument;
    bool checked = check_write || !to_user;
    if (checked && loaded_here_locked()) {
        // Through the user address with SUM, the MMU checking every access. All or nothing, as the
        // walk below: a checked range within one page faults on its first access or not at all (one
        // page table entry); a longer one is probed page by page first, and under the lock what
        // passed the probe stays mapped. A fault anywhere leaves the answer to the walk (the copy
        // repeated whole, or -EFAULT with nothing written).
        uint64_t first = user_address & ~(PageSize - 1), last = (checked_end - 1) & ~(PageSize - 1);
        if (first == last || user_access_probe(first, last, to_user) == 0) {
            auto* user = reinterpret_cast<void*>(user_address);
            size_t left = to_user ? user_access_copy(user, kernel_buffer, size) : user_access_copy(kernel_buffer, user, size);
            if (left == 0) return success();
        }
    }
    return copy_by_walk_locked(user_address, kernel_buffer, size, to_user, checked ? checked_size : 0);
}

// The page-table walk, copying through the direct map: for an address space not loaded in satp here
// (an image being built, another process's call), the loader's copy_to_user_image, and whatever
// faulted on the hardware path. Out of line, so that the hardware path saves few registers.
[[gnu::noinline]] Result<void> AddressSpace::copy_by_walk_locked(uint64_t user_address, void* kernel_buffer, size_t size,
                                                                 bool to_user, size_t checked_size) const {
    if (checked_size != 0) {
        if (auto ok = walk_user_range_locked(user_address, checked_size, to_user ? Access::Write : Access::Read); !ok)
            return ok;
    }
    auto* bytes = static_cast<unsigned char*>(kernel_buffer);
    while (size > 0) {
        auto translation = table_.translate(user_address);
        if (!translation || !(translation->flags & mm::pte::User)) return Error::InvalidArgument;
        size_t in_page = PageSize - (user_address % PageSize);
        size_t chunk = size < in_page ? size : in_page;
        auto* user = mm::physical_map().to_virtual<unsigned char>(translation->physical);
        if (to_user) __builtin_memcpy(user, bytes, chunk);
        else __builtin_memcpy(bytes, user, chunk);
        bytes += chunk;
        user_address += chunk;
        size -= chunk;
    }
    return success();
}

Result<void> AddressSpace::copy_from_user(void* destination, uint64_t source, size_t size) const {
    return copy(source, destination, size, size, false, false);
}

Result<void> AddressSpace::copy_to_user(uint64_t destination, const void* source, size_t size) const {
    return copy(destination, const_cast<void*>(source), size, size, true, true);
}

Result<void> AddressSpace::copy_from_user_checking(void* destination, uint64_t source, size_t size,
                                                   size_t checked_size) const {
    return copy(source, destination, size, checked_size < size ? size : checked_size, false, false);
}

Result<void> AddressSpace::copy_to_user_checking(uint64_t destination, const void* source, size_t size,
                                                 size_t checked_size) const {
    return copy(destination, const_cast<void*>(source), size, checked_size < size ? size : checked_size, true, true);
}

Result<void> AddressSpace::copy_to_user_image(uint64_t destination, const void* source, size_t size) const {
    return copy(destination, const_cast<void*>(source), size, size, true, false);
}

void AddressSpace::destroy() {
    ScopedLock guard(lock_);
    for (size_t i = 0; i < region_count_; ++i)
        if (regions_[i].permissions != 0) release_pages(regions_[i].base, regions_[i].end());
    region_count_ = 0;
    break_start_ = break_ = 0;
    if (table_.root()) table_.destroy();
    table_ = mm::PageTable();
}

} // namespace kernel::proc
