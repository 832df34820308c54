// FixedBlockPool: see fixed_block_pool.hpp for the invariants.
#include "kernel/mm/fixed_block_pool.hpp"

namespace kernel::mm {

namespace {

constexpr uint64_t FreedBlockPoison = 0xb10cf4eeb10cf4eeull;

uint64_t poison_for(const void* block) { return FreedBlockPoison ^ reinterpret_cast<uintptr_t>(block); }

} // namespace

Result<void> FixedBlockPool::init(void* memory, size_t bytes, size_t block_size, size_t alignment) {
    if (memory == nullptr || !is_power_of_two(alignment)) return Error::InvalidArgument;
    if (alignment < alignof(FreeBlock)) alignment = alignof(FreeBlock);
    size_t size = align_up(block_size < MinimumBlockSize ? MinimumBlockSize : block_size, alignment);
    uintptr_t start = align_up(reinterpret_cast<uintptr_t>(memory), alignment);
    uintptr_t end = reinterpret_cast<uintptr_t>(memory) + bytes;
    if (end < start || size == 0 || (end - start) / size == 0) return Error::InvalidArgument;
    ScopedLock guard(lock_);
    region_ = reinterpret_cast<char*>(start);
    block_size_ = size;
    capacity_ = (end - start) / size;
    carved_blocks_ = 0;
    free_count_ = capacity_;
    free_blocks_ = nullptr;
    frames_source_ = nullptr;
    region_frames_ = 0;
    return success();
}

Result<void> FixedBlockPool::init_from_frames(FrameAllocator& frames_source, size_t frames, size_t block_size,
                                              size_t alignment) {
    if (alignment > PageSize) return Error::InvalidArgument;
    PhysicalAddress region = TRY(frames_source.allocate_contiguous(frames));
    Result<void> initialised = init(frames_source.map().to_virtual(region), frames * PageSize, block_size, alignment);
    if (!initialised) {
        Result<void> returned = frames_source.free(region, frames);
        (void)returned;  // just allocated, so it cannot fail
        return initialised;
    }
    ScopedLock guard(lock_);
    frames_source_ = &frames_source;
    region_frames_ = frames;
    return success();
}

Result<void> FixedBlockPool::release() {
    ScopedLock guard(lock_);
    if (free_count_ != capacity_) return Error::InvalidArgument;
    if (frames_source_ != nullptr) {
        Result<void> returned = frames_source_->free(frames_source_->map().to_physical(region_), region_frames_);
        if (!returned) return returned;
    }
    region_ = nullptr;
    capacity_ = carved_blocks_ = free_count_ = 0;
    free_blocks_ = nullptr;
    frames_source_ = nullptr;
    region_frames_ = 0;
    return success();
}

void* FixedBlockPool::allocate() {
    ScopedLock guard(lock_);
    if (free_count_ == 0) return nullptr;
    --free_count_;
    if (free_blocks_ != nullptr) {
        FreeBlock* taken = free_blocks_;
        free_blocks_ = taken->next;
        taken->poison = 0;
        return taken;
    }
    return region_ + block_size_ * carved_blocks_++;
}

Result<void> FixedBlockPool::check_allocated(const void* block) const {
    const char* address = static_cast<const char*>(block);
    if (address < region_ || address >= region_ + block_size_ * capacity_) return Error::InvalidArgument;
    size_t offset = size_t(address - region_);
    if (offset % block_size_ != 0 || offset / block_size_ >= carved_blocks_) return Error::InvalidArgument;
    const FreeBlock* candidate = static_cast<const FreeBlock*>(block);
    if (candidate->poison == poison_for(candidate)) {
        for (const FreeBlock* listed = free_blocks_; listed != nullptr; listed = listed->next) {
            if (listed == candidate) return Error::InvalidArgument;
        }
    }
    return success();
}

Result<void> FixedBlockPool::free(void* block) {
    ScopedLock guard(lock_);
    Result<void> allocated = check_allocated(block);
    if (!allocated) return allocated;
    FreeBlock* freed = static_cast<FreeBlock*>(block);
    freed->next = free_blocks_;
    freed->poison = poison_for(freed);
    free_blocks_ = freed;
    ++free_count_;
    return success();
}

bool FixedBlockPool::owns(const void* pointer) const {
    ScopedLock guard(lock_);
    const char* address = static_cast<const char*>(pointer);
    return address >= region_ && address < region_ + block_size_ * capacity_;
}

bool FixedBlockPool::is_allocated(const void* pointer) const {
    ScopedLock guard(lock_);
    return static_cast<bool>(check_allocated(pointer));
}

size_t FixedBlockPool::available() const {
    ScopedLock guard(lock_);
    return free_count_;
}

} // namespace kernel::mm
