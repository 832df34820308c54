// Heap: the kernel's general-purpose allocator, on top of the FrameAllocator.
//
// Layout. Every piece of memory the heap takes from the frame allocator is a chunk that starts on a
// ChunkBytes (16 KiB) boundary with a header, and every pointer the heap hands out lies in
// (chunk, chunk + ChunkBytes]. So free(p) finds the header at align_down(p - 1, ChunkBytes) without
// being told the size. Two kinds of chunk:
//
//   * a slab (ChunkFrames frames) serves one power-of-two size class, 16 .. 2048 bytes. Its blocks sit
//     at multiples of the block size (so a block is aligned to its size); the header takes the first
//     block(s). Free blocks form an intrusive singly linked list; blocks never handed out yet are carved
//     lazily from `carved_blocks`, so a new slab costs O(1).
//   * a large allocation (> 2048 bytes, or alignment > 2048): contiguous frames, a header recording the
//     frame count, the data at header + align_up(header size, alignment) (alignment up to 4096).
//
// Slab caching: a slab that becomes empty stays cached if it is the only empty slab of its class;
// a second empty slab is returned to the frame allocator at once.
//
// Errors: allocate() returns nullptr when out of memory or asked for an alignment that is not a power
// of two up to 4096. free() of a pointer the heap did not hand out, or of one already freed, is
// rejected and counted in Stats::rejected_frees (checked_free() returns the error instead): a freed
// block carries a poison word, confirmed against the slab's free list; a freed large chunk loses its
// magic. Detection is best effort once the memory has been reused.
//
// The memory debug build (kernel/mm/debug_memory.hpp) poisons freed blocks, checks them when they
// are handed out again, and panics on a bad free instead of counting it.
//
// Thread-safe: every public member function takes lock_. Lock order: Heap::lock_, then the frame
// allocator's lock.
#pragma once

#include "abi/result.hpp"
#include "abi/spin_lock.hpp"
#include "kernel/mm/debug_memory.hpp"
#include "kernel/mm/frame_allocator.hpp"
#include "kernel/mm/physical.hpp"

#include <cstddef>
#include <cstdint>

namespace kernel::mm {

class Heap {
public:
    static constexpr size_t ChunkFrames = 4;
    static constexpr size_t ChunkBytes = ChunkFrames * PageSize;
    static constexpr size_t SmallestBlock = 16;
    static constexpr size_t LargestBlock = 2048;
    static constexpr size_t SizeClassCount = 8;  // 16, 32, ..., 2048
    static constexpr size_t MaximumAlignment = PageSize;

    struct Stats {
        size_t live_allocations = 0;
        size_t bytes_in_use = 0;       // rounded to block size or whole frames
        size_t slab_frames = 0;        // frames held by slabs, cached empty ones included
        size_t large_frames = 0;       // frames held by large allocations
        size_t rejected_frees = 0;     // double or invalid frees detected and ignored
    };

    Heap() = default;
    Heap(const Heap&) = delete;
    Heap& operator=(const Heap&) = delete;

    Result<void> init(FrameAllocator& frames, PhysicalMap map);

    // size bytes aligned to `alignment`; nullptr on exhaustion or a bad alignment. size 0 counts as 1.
    void* allocate(size_t size, size_t alignment = 16);
    // Ignores nullptr; counts and ignores a pointer it rejects.
    void free(void* pointer);
    // Like free, but says why a pointer was rejected (InvalidArgument).
    Result<void> checked_free(void* pointer);
    // Bytes usable at `pointer` (the block size, or the rest of a large allocation's frames); 0 if invalid.
    size_t usable_size(const void* pointer) const;

    Stats stats() const;

    // Size class index for a request, or SizeClassCount when it must be a large allocation.
    static size_t size_class_for(size_t size, size_t alignment);
    static constexpr size_t block_size_of(size_t size_class) { return SmallestBlock << size_class; }
    // What allocate(size, alignment) takes from the heap: its block, or a large allocation's frames
    // (what the memory limit charges for a kernel object, kernel/proc/memory_limit.hpp).
    static size_t footprint(size_t size, size_t alignment = 16);

private:
    struct FreeBlock;
    struct Slab;
    struct LargeChunk;

    // lock_ must be held for all of these.
    void* allocate_small(size_t size_class);
    void* allocate_large(size_t size, size_t alignment);
    Slab* create_slab(size_t size_class);
    Result<void> free_small(Slab* slab, void* pointer);
    Result<void> free_large(LargeChunk* chunk, void* pointer);
    void unlink(Slab* slab);
    void push_partial(Slab* slab);
    // The chunk whose header governs `pointer`, or nullptr if that frame is not allocated.
    uint64_t* chunk_of(const void* pointer) const;
#if COKERNEL_DEBUG_MEMORY
    // The memory debug build's checks (kernel/mm/debug_memory.hpp); they panic on a violation.
    const char* rejection(const void* pointer) const;
    void check_slab(const Slab* slab, const void* pointer) const;
    void check_free_block(const Slab* slab, const FreeBlock* taken) const;
#endif

    mutable SpinLock lock_;
    // lock_ must be held when using these:
    FrameAllocator* frames_ = nullptr;
    PhysicalMap map_{};
    Slab* partial_slabs_[SizeClassCount] = {};  // slabs with at least one free block, per class
    size_t empty_slabs_[SizeClassCount] = {};    // how many of those are entirely free (0 or 1)
    Stats stats_{};
};

} // namespace kernel::mm
