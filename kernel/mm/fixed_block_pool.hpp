// FixedBlockPool and ObjectPool<T>: equal-sized blocks with O(1) allocate and free.
//
// The pool carves a region (caller-provided memory, or frames it takes from a FrameAllocator) into
// blocks of one size. Free blocks form an intrusive singly linked list; blocks never handed out yet are
// carved lazily (carved_blocks_), so init is O(1) too. allocate() returns nullptr when the pool is
// exhausted — running out is the caller's error to return, never a panic.
//
// free() rejects, without changing anything, a pointer outside the region, one not at a block start,
// one never handed out, and a block already free: a free block carries a poison word, confirmed
// against the free list (O(n) only when live data happens to hold the poison).
//
// Thread-safe: every public member function takes lock_.
#pragma once

#include "abi/result.hpp"
#include "abi/spin_lock.hpp"
#include "kernel/mm/frame_allocator.hpp"
#include "kernel/mm/physical.hpp"

#include <cstddef>
#include <cstdint>
#include <new>
#include <utility>

namespace kernel::mm {

class FixedBlockPool {
public:
    static constexpr size_t MinimumBlockSize = 16;  // room for the free-list link and the poison

    FixedBlockPool() = default;
    FixedBlockPool(const FixedBlockPool&) = delete;
    FixedBlockPool& operator=(const FixedBlockPool&) = delete;

    // Blocks of block_size rounded up to a multiple of alignment (a power of two) and to at least 16
    // bytes, from [memory, memory + bytes). InvalidArgument if not even one block fits.
    Result<void> init(void* memory, size_t bytes, size_t block_size, size_t alignment = 16);
    // The same over `frames` contiguous frames taken from `frames_source`; release() gives them back.
    Result<void> init_from_frames(FrameAllocator& frames_source, size_t frames, size_t block_size,
                                  size_t alignment = 16);
    // Returns the frames taken by init_from_frames (every block must be free); the pool becomes empty.
    Result<void> release();

    void* allocate();
    Result<void> free(void* block);

    // True if `pointer` lies inside the pool's region.
    bool owns(const void* pointer) const;
    // True if `pointer` is the start of a block that is currently allocated.
    bool is_allocated(const void* pointer) const;
    size_t block_size() const { return block_size_; }
    size_t capacity() const { return capacity_; }
    size_t available() const;

private:
    // InvalidArgument unless `block` is a block start that is currently allocated. lock_ must be held.
    Result<void> check_allocated(const void* block) const;

    struct FreeBlock {
        FreeBlock* next;
        uint64_t poison;
    };

    mutable SpinLock lock_;
    // lock_ must be held when using these:
    char* region_ = nullptr;
    size_t block_size_ = 0;
    size_t capacity_ = 0;
    size_t carved_blocks_ = 0;  // blocks [0, carved_blocks_) have been handed out at least once
    size_t free_count_ = 0;     // blocks on free_blocks_ plus blocks not yet carved
    FreeBlock* free_blocks_ = nullptr;
    FrameAllocator* frames_source_ = nullptr;  // set when the region is frames we must give back
    size_t region_frames_ = 0;
};

// ObjectPool<T>: a FixedBlockPool sized and aligned for T that constructs and destroys objects.
template <typename T>
class ObjectPool {
public:
    Result<void> init(void* memory, size_t bytes) { return pool_.init(memory, bytes, sizeof(T), alignof(T)); }
    Result<void> init_from_frames(FrameAllocator& frames, size_t frame_count) {
        return pool_.init_from_frames(frames, frame_count, sizeof(T), alignof(T));
    }

    // A new T built from args, or nullptr when the pool is exhausted.
    template <typename... Args>
    T* create(Args&&... args) {
        void* block = pool_.allocate();
        return block ? new (block) T(std::forward<Args>(args)...) : nullptr;
    }
    // Destroys and frees an object of this pool; a pointer that is not one is rejected untouched.
    Result<void> destroy(T* object) {
        if (object == nullptr || !pool_.is_allocated(object)) return Error::InvalidArgument;
        object->~T();
        return pool_.free(object);
    }

    size_t capacity() const { return pool_.capacity(); }
    size_t available() const { return pool_.available(); }
    FixedBlockPool& blocks() { return pool_; }

private:
    FixedBlockPool pool_;
};

} // namespace kernel::mm
