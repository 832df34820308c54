// FrameAllocator: where coroutine frames come from. A fixed-block pool in caller memory, with an
// optional general-purpose hook for frames larger than a block.
//
// Every allocation is preceded by a 16-byte FrameHeader naming its allocator, so a frame can be freed
// knowing only its address (the promise's operator delete needs nothing else).
// Invariants: free_count = length of the free list; a block is on the free list iff not handed out.
// Exhaustion returns null, which the coroutine machinery turns into an error (never a panic).
// Concurrency: allocate/free take `lock`; frames can be created and destroyed on any thread.
#pragma once

#include <cstddef>
#include <cstdint>

#include "abi/result.hpp"
#include "abi/spin_lock.hpp"

namespace vdso {

using kernel::Error;
using kernel::Result;

struct FrameAllocator;

struct alignas(16) FrameHeader {
    FrameAllocator* allocator;
    uint32_t from_pool; // 1: a pool block; 0: from allocate_large
    uint32_t size;      // requested size, for free_large
};
static_assert(sizeof(FrameHeader) == 16);

struct FreeBlock {
    FreeBlock* next;
};

struct FrameAllocator {
    SpinLock lock;
    // Guarded by lock:
    FreeBlock* free_head = nullptr;
    uint32_t free_count = 0;
    // Fixed at init:
    std::byte* pool = nullptr;
    std::size_t block_size = 0; // bytes per block, header included, multiple of 16
    uint32_t block_count = 0;
    // Optional fallback for frames that do not fit a block (null: such frames fail). Set before use.
    void* (*allocate_large)(void* context, std::size_t size) = nullptr;
    void (*free_large)(void* context, void* memory, std::size_t size) = nullptr;
    void* large_context = nullptr;
};

// Carve `memory` (16-byte aligned) into blocks of `block_size` bytes (rounded up to 16; a frame of up
// to block_size - 16 bytes fits).
Result<void> frame_allocator_init(FrameAllocator& allocator, void* memory, std::size_t memory_size,
                                  std::size_t block_size);

// A frame of `size` bytes, 16-byte aligned, or null when exhausted.
void* frame_allocate(FrameAllocator& allocator, std::size_t size);

// Give back a frame from frame_allocate (its own allocator is found in its header).
void frame_free(void* frame);

// The frame size that fits one pool block.
inline std::size_t frame_allocator_max_pooled(const FrameAllocator& allocator) {
    return allocator.block_size - sizeof(FrameHeader);
}

} // namespace vdso
