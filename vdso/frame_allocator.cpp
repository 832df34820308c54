#include "vdso/frame_allocator.hpp"

namespace vdso {

Result<void> frame_allocator_init(FrameAllocator& allocator, void* memory, std::size_t memory_size,
                                  std::size_t block_size) {
    const auto address = reinterpret_cast<std::uintptr_t>(memory);
    block_size = (block_size + 15) & ~std::size_t{15};
    if (memory == nullptr || address % 16 != 0 || block_size <= sizeof(FrameHeader)) {
        return Error::InvalidArgument;
    }
    const std::size_t count = memory_size / block_size;
    if (count == 0 || count >= 0xffff'ffffu) return Error::InvalidArgument;
    allocator.pool = static_cast<std::byte*>(memory);
    allocator.block_size = block_size;
    allocator.block_count = static_cast<uint32_t>(count);
    allocator.free_head = nullptr;
    for (std::size_t index = count; index-- > 0;) {
        auto* block = reinterpret_cast<FreeBlock*>(allocator.pool + index * block_size);
        block->next = allocator.free_head;
        allocator.free_head = block;
    }
    allocator.free_count = allocator.block_count;
    return kernel::success();
}

void* frame_allocate(FrameAllocator& allocator, std::size_t size) {
    const std::size_t total = size + sizeof(FrameHeader);
    void* memory = nullptr;
    uint32_t from_pool = 1;
    if (total <= allocator.block_size) {
        ScopedLock<SpinLock> guard(allocator.lock);
        if (allocator.free_head != nullptr) {
            memory = allocator.free_head;
            allocator.free_head = allocator.free_head->next;
            --allocator.free_count;
        }
    } else if (allocator.allocate_large != nullptr && size <= 0xffff'ffffu) {
        memory = allocator.allocate_large(allocator.large_context, total);
        from_pool = 0;
    }
    if (memory == nullptr) return nullptr;
    auto* header = static_cast<FrameHeader*>(memory);
    header->allocator = &allocator;
    header->from_pool = from_pool;
    header->size = static_cast<uint32_t>(size);
    return header + 1;
}

void frame_free(void* frame) {
    if (frame == nullptr) return;
    FrameHeader* header = static_cast<FrameHeader*>(frame) - 1;
    FrameAllocator& allocator = *header->allocator;
    if (header->from_pool == 0) {
        allocator.free_large(allocator.large_context, header, header->size + sizeof(FrameHeader));
        return;
    }
    auto* block = reinterpret_cast<FreeBlock*>(header);
    ScopedLock<SpinLock> guard(allocator.lock);
    block->next = allocator.free_head;
    allocator.free_head = block;
    ++allocator.free_count;
}

} // namespace vdso
