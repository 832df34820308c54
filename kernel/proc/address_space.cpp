#include "kernel/proc/address_space.hpp"

#include "kernel/mm/memory.hpp"

namespace kernel::proc {

using mm::PageSize;

Result<void> AddressSpace::create() {
    auto table = mm::PageTable::create(mm::frames(), mm::physical_map());
    if (!table) return table.error();
    table_ = *table;
    if (auto shared = table_.copy_kernel_half(mm::kernel_page_table()); !shared) {
        table_.destroy();
        return shared.error();
    }
    region_count_ = 0;
    return success();
}

void AddressSpace::release_region(const Region& region) {
    for (uint64_t va = region.base; va < region.base + region.size; va += PageSize) {
        auto translation = table_.translate(va);
        if (!translation) continue;
        (void)table_.unmap(va, PageSize);
        (void)mm::frames().free(translation->physical);
    }
}

Result<void> AddressSpace::map_anonymous(uint64_t va, uint64_t size, uint64_t flags) {
    if (va % PageSize || size % PageSize || size == 0) return Error::InvalidArgument;
    if (region_count_ == MaxRegions) return Error::NoMemory;
    Region region{va, 0};
    for (uint64_t offset = 0; offset < size; offset += PageSize) {
        auto frame = mm::frames().allocate_zeroed();
        Result<void> mapped = frame ? table_.map(va + offset, *frame, PageSize, flags | mm::pte::User)
                                    : Result<void>(frame.error());
        if (!mapped) {
            if (frame) (void)mm::frames().free(*frame);
            release_region(region);
            return mapped.error();
        }
        region.size += PageSize;
    }
    regions_[region_count_++] = region;
    return success();
}

Result<void> AddressSpace::check_user_range(uint64_t va, size_t size, Access access) const {
    if (size == 0) return success();
    if (va + size < va || va + size > 0x0000004000000000ull) return Error::InvalidArgument;
    for (uint64_t page = va & ~(PageSize - 1); page < va + size; page += PageSize) {
        auto translation = table_.translate(page);
        if (!translation) return Error::InvalidArgument;
        uint64_t needed = mm::pte::User | (access == Access::Write ? mm::pte::Write : mm::pte::Read);
        if ((translation->flags & needed) != needed) return Error::InvalidArgument;
    }
    return success();
}

Result<void> AddressSpace::copy(uint64_t user_address, void* kernel_buffer, size_t size, bool to_user,
                                bool check_write) const {
    if (check_write || !to_user) {
        if (auto ok = check_user_range(user_address, size, to_user ? Access::Write : Access::Read); !ok) return ok;
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
    return copy(source, destination, size, false, false);
}

Result<void> AddressSpace::copy_to_user(uint64_t destination, const void* source, size_t size) const {
    return copy(destination, const_cast<void*>(source), size, true, true);
}

Result<void> AddressSpace::copy_to_user_image(uint64_t destination, const void* source, size_t size) const {
    return copy(destination, const_cast<void*>(source), size, true, false);
}

size_t AddressSpace::user_pages() const {
    size_t pages = 0;
    for (size_t i = 0; i < region_count_; ++i) pages += regions_[i].size / PageSize;
    return pages;
}

void AddressSpace::destroy() {
    for (size_t i = 0; i < region_count_; ++i) release_region(regions_[i]);
    region_count_ = 0;
    if (table_.root()) table_.destroy();
    table_ = mm::PageTable();
}

} // namespace kernel::proc
