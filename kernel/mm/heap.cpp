// Heap: size-class slabs and large chunks; see heap.hpp for the layout and its invariants.
#include "kernel/mm/heap.hpp"

#include "kernel/mm/debug_memory.hpp"
#if COKERNEL_DEBUG_MEMORY
#include "kernel/console/log.hpp"
#endif

namespace kernel::mm {

namespace {

// Header magics are xor-ed with the chunk's own address, so a copy of a header elsewhere never matches.
constexpr uint64_t SlabMagic = 0x51ab51ab51ab51abull;
constexpr uint64_t LargeMagic = 0x1a26e1a26e1a26e0ull;
constexpr uint64_t FreedBlockPoison = 0xf4eef4eef4eef4eeull;

uint64_t tag(uint64_t magic, const void* where) { return magic ^ reinterpret_cast<uintptr_t>(where); }

#if COKERNEL_DEBUG_MEMORY
// The first byte in [from, from + bytes) that is not `value`, or nullptr.
const uint8_t* first_not(const void* from, size_t bytes, uint8_t value) {
    const auto* p = static_cast<const uint8_t*>(from);
    const auto* end = p + bytes;
    uint64_t word = 0x0101010101010101ull * value;
    for (; p < end && reinterpret_cast<uintptr_t>(p) % 8; ++p)
        if (*p != value) return p;
    for (; p + 8 <= end; p += 8)
        if (*reinterpret_cast<const uint64_t*>(p) != word) break;
    for (; p < end; ++p)
        if (*p != value) return p;
    return nullptr;
}
#endif

} // namespace

// A free block of a slab: the link and a poison word that marks it as free.
struct Heap::FreeBlock {
    FreeBlock* next;
    uint64_t poison;  // FreedBlockPoison ^ own address while on the free list
};

struct Heap::Slab {
    uint64_t magic;  // SlabMagic ^ own address
    Slab* next;      // links of partial_slabs_[size_class]; both null when full
    Slab* previous;
    FreeBlock* free_blocks;
    uint32_t size_class;
    uint32_t first_block_offset;  // header rounded up to the block size
    uint32_t capacity;            // blocks that fit in the chunk
    uint32_t carved_blocks;       // blocks [0, carved_blocks) were handed out at least once
    uint32_t used_blocks;
};

struct Heap::LargeChunk {
    uint64_t magic;  // LargeMagic ^ own address; cleared on free
    uint64_t frames;
    uint64_t data_offset;
};

Result<void> Heap::init(FrameAllocator& frames, PhysicalMap map) {
    // free() finds headers by aligning virtual addresses, so chunks must be aligned virtually too.
    if (!is_aligned(map.offset, ChunkBytes)) return Error::InvalidArgument;
    ScopedLock guard(lock_);
    frames_ = &frames;
    map_ = map;
    for (size_t size_class = 0; size_class < SizeClassCount; ++size_class) {
        partial_slabs_[size_class] = nullptr;
        empty_slabs_[size_class] = 0;
    }
    stats_ = {};
    return success();
}

size_t Heap::size_class_for(size_t size, size_t alignment) {
    size_t needed = size > alignment ? size : alignment;
    size_t size_class = 0;
    while (size_class < SizeClassCount && block_size_of(size_class) < needed) ++size_class;
    return size_class;
}

void* Heap::allocate(size_t size, size_t alignment) {
    if (!is_power_of_two(alignment) || alignment > MaximumAlignment) return nullptr;
    if (size == 0) size = 1;
    ScopedLock guard(lock_);
    if (frames_ == nullptr) return nullptr;
    size_t size_class = size_class_for(size, alignment);
    return size_class < SizeClassCount ? allocate_small(size_class) : allocate_large(size, alignment);
}

Heap::Slab* Heap::create_slab(size_t size_class) {
    Result<PhysicalAddress> frames = frames_->allocate_contiguous(ChunkFrames, ChunkFrames);
    if (!frames) return nullptr;
    Slab* slab = map_.to_virtual<Slab>(*frames);
    size_t block = block_size_of(size_class);
    size_t first = align_up(sizeof(Slab), block);
    slab->magic = tag(SlabMagic, slab);
    slab->next = slab->previous = nullptr;
    slab->free_blocks = nullptr;
    slab->size_class = uint32_t(size_class);
    slab->first_block_offset = uint32_t(first);
    slab->capacity = uint32_t((ChunkBytes - first) / block);
    slab->carved_blocks = 0;
    slab->used_blocks = 0;
    stats_.slab_frames += ChunkFrames;
    return slab;
}

void Heap::push_partial(Slab* slab) {
    Slab*& head = partial_slabs_[slab->size_class];
    slab->previous = nullptr;
    slab->next = head;
    if (head) head->previous = slab;
    head = slab;
}

void Heap::unlink(Slab* slab) {
    if (slab->previous) slab->previous->next = slab->next;
    else partial_slabs_[slab->size_class] = slab->next;
    if (slab->next) slab->next->previous = slab->previous;
    slab->next = slab->previous = nullptr;
}

void* Heap::allocate_small(size_t size_class) {
    Slab* slab = partial_slabs_[size_class];
    if (slab == nullptr) {
        slab = create_slab(size_class);
        if (slab == nullptr) return nullptr;
        push_partial(slab);
        ++empty_slabs_[size_class];
    }
    size_t block = block_size_of(size_class);
    void* result;
    if (slab->free_blocks) {
        FreeBlock* taken = slab->free_blocks;
#if COKERNEL_DEBUG_MEMORY
        check_free_block(slab, taken);
#endif
        slab->free_blocks = taken->next;
        taken->poison = 0;
        result = taken;
    } else {
        result = reinterpret_cast<char*>(slab) + slab->first_block_offset + slab->carved_blocks * block;
        ++slab->carved_blocks;
    }
    if (slab->used_blocks++ == 0) --empty_slabs_[size_class];
    if (slab->used_blocks == slab->capacity) unlink(slab);
    ++stats_.live_allocations;
    stats_.bytes_in_use += block;
    if constexpr (DebugMemory) __builtin_memset(result, FreshByte, block);
    return result;
}

void* Heap::allocate_large(size_t size, size_t alignment) {
    size_t data_offset = align_up(sizeof(LargeChunk), alignment > SmallestBlock ? alignment : SmallestBlock);
    if (size > (~size_t{0} >> 1) - data_offset) return nullptr;
    size_t frames = align_up(data_offset + size, PageSize) / PageSize;
    Result<PhysicalAddress> base = frames_->allocate_contiguous(frames, ChunkFrames);
    if (!base) return nullptr;
    LargeChunk* chunk = map_.to_virtual<LargeChunk>(*base);
    chunk->magic = tag(LargeMagic, chunk);
    chunk->frames = frames;
    chunk->data_offset = data_offset;
    ++stats_.live_allocations;
    stats_.bytes_in_use += frames * PageSize;
    stats_.large_frames += frames;
    if constexpr (DebugMemory) __builtin_memset(reinterpret_cast<char*>(chunk) + data_offset, FreshByte, frames * PageSize - data_offset);
    return reinterpret_cast<char*>(chunk) + data_offset;
}

uint64_t* Heap::chunk_of(const void* pointer) const {
    uintptr_t address = reinterpret_cast<uintptr_t>(pointer);
    uint64_t* chunk = reinterpret_cast<uint64_t*>(align_down(address - 1, ChunkBytes));
    // Never read a header from a frame the heap could not own.
    if (!frames_->is_allocated(map_.to_physical(chunk))) return nullptr;
    return chunk;
}

void Heap::free(void* pointer) {
    if (pointer == nullptr) return;
    Result<void> freed = checked_free(pointer);
    (void)freed;  // a rejection is already counted in stats_.rejected_frees
}

Result<void> Heap::checked_free(void* pointer) {
    if (pointer == nullptr) return success();
    ScopedLock guard(lock_);
    Result<void> freed = Error::InvalidArgument;
    if (frames_ != nullptr && reinterpret_cast<uintptr_t>(pointer) % SmallestBlock == 0) {
        uint64_t* chunk = chunk_of(pointer);
        if (chunk != nullptr && *chunk == tag(SlabMagic, chunk)) {
            freed = free_small(reinterpret_cast<Slab*>(chunk), pointer);
        } else if (chunk != nullptr && *chunk == tag(LargeMagic, chunk)) {
            freed = free_large(reinterpret_cast<LargeChunk*>(chunk), pointer);
        }
    }
#if COKERNEL_DEBUG_MEMORY
    if (!freed) panic("heap: bad free of {:#x}: {}", reinterpret_cast<uintptr_t>(pointer), rejection(pointer));
#endif
    if (!freed) ++stats_.rejected_frees;
    return freed;
}

#if COKERNEL_DEBUG_MEMORY
// Why checked_free refused `pointer` (lock_ held), for the panic's message.
const char* Heap::rejection(const void* pointer) const {
    if (reinterpret_cast<uintptr_t>(pointer) % SmallestBlock != 0) return "not aligned to 16 bytes: not a block";
    uint64_t* chunk = chunk_of(pointer);
    if (chunk == nullptr) return "its chunk's frames are free (a double free of a large block, or not a heap pointer)";
    if (*chunk == tag(LargeMagic, chunk)) return "not the start of the large block there";
    if (*chunk != tag(SlabMagic, chunk)) return "no slab or large-block header at its chunk (not a heap pointer, or the header was overwritten)";
    auto* block = static_cast<const FreeBlock*>(pointer);
    if (block->poison == tag(FreedBlockPoison, block)) return "a double free (the block is on its slab's free list)";
    return "not the start of a block handed out (inside a block, or never carved)";
}

// The slab's header must be whole: a write past a neighbouring block or a stray store shows here.
void Heap::check_slab(const Slab* slab, const void* pointer) const {
    size_t block = block_size_of(slab->size_class < SizeClassCount ? slab->size_class : 0);
    if (slab->size_class >= SizeClassCount || slab->first_block_offset != align_up(sizeof(Slab), block) ||
        slab->capacity != (ChunkBytes - slab->first_block_offset) / block || slab->carved_blocks > slab->capacity ||
        slab->used_blocks > slab->carved_blocks)
        panic("heap: slab header at {:#x} overwritten (seen freeing or allocating {:#x}): class {}, first {}, capacity {}, carved {}, used {}",
              reinterpret_cast<uintptr_t>(slab), reinterpret_cast<uintptr_t>(pointer), slab->size_class,
              slab->first_block_offset, slab->capacity, slab->carved_blocks, slab->used_blocks);
}

// A free block about to be handed out again: still poisoned, its link inside the slab.
void Heap::check_free_block(const Slab* slab, const FreeBlock* taken) const {
    check_slab(slab, taken);
    uintptr_t address = reinterpret_cast<uintptr_t>(taken);
    size_t block = block_size_of(slab->size_class);
    uintptr_t first = reinterpret_cast<uintptr_t>(slab) + slab->first_block_offset;
    uintptr_t end = first + slab->carved_blocks * block;
    if (address < first || address >= end || (address - first) % block != 0)
        panic("heap: free list of the slab at {:#x} (blocks of {}) corrupt: it names {:#x}",
              reinterpret_cast<uintptr_t>(slab), block, address);
    if (taken->poison != tag(FreedBlockPoison, taken))
        panic("heap: use after free: the free block at {:#x} (size {}) had its poison word overwritten ({:#x})", address,
              block, taken->poison);
    uintptr_t next = reinterpret_cast<uintptr_t>(taken->next);
    if (next != 0 && (next < first || next >= end || (next - first) % block != 0))
        panic("heap: use after free: the free block at {:#x} (size {}) had its link overwritten ({:#x})", address, block,
              next);
    if (const uint8_t* bad = first_not(taken + 1, block - sizeof(FreeBlock), FreedByte))
        panic("heap: use after free: the free block at {:#x} (size {}) was written at offset {} (byte {:#x}, freed blocks hold {:#x})",
              address, block, reinterpret_cast<uintptr_t>(bad) - address, *bad, FreedByte);
}
#endif

Result<void> Heap::free_small(Slab* slab, void* pointer) {
#if COKERNEL_DEBUG_MEMORY
    check_slab(slab, pointer);
#endif
    size_t block = block_size_of(slab->size_class);
    size_t offset = reinterpret_cast<char*>(pointer) - reinterpret_cast<char*>(slab);
    if (offset < slab->first_block_offset || (offset - slab->first_block_offset) % block != 0) {
        return Error::InvalidArgument;
    }
    if ((offset - slab->first_block_offset) / block >= slab->carved_blocks) return Error::InvalidArgument;
    FreeBlock* freed = static_cast<FreeBlock*>(pointer);
    if (freed->poison == tag(FreedBlockPoison, freed)) {
        // Probably a double free; live data could hold the poison by chance, so confirm.
        for (FreeBlock* listed = slab->free_blocks; listed != nullptr; listed = listed->next) {
            if (listed == freed) return Error::InvalidArgument;
        }
    }
    bool was_full = slab->used_blocks == slab->capacity;
    if constexpr (DebugMemory) __builtin_memset(freed + 1, FreedByte, block - sizeof(FreeBlock));
    freed->next = slab->free_blocks;
    freed->poison = tag(FreedBlockPoison, freed);
    slab->free_blocks = freed;
    --slab->used_blocks;
    --stats_.live_allocations;
    stats_.bytes_in_use -= block;
    if (was_full) push_partial(slab);
    if (slab->used_blocks == 0) {
        if (empty_slabs_[slab->size_class] == 0) {
            ++empty_slabs_[slab->size_class];  // keep one empty slab cached per class
        } else {
            unlink(slab);
            slab->magic = 0;
            stats_.slab_frames -= ChunkFrames;
            Result<void> released = frames_->free(map_.to_physical(slab), ChunkFrames);
            (void)released;  // cannot fail: the slab's frames were allocated for it
        }
    }
    return success();
}

Result<void> Heap::free_large(LargeChunk* chunk, void* pointer) {
    if (reinterpret_cast<char*>(pointer) != reinterpret_cast<char*>(chunk) + chunk->data_offset) {
        return Error::InvalidArgument;
    }
    size_t frames = chunk->frames;
#if COKERNEL_DEBUG_MEMORY
    if (frames == 0 || frames > frames_->total_frames() || chunk->data_offset < sizeof(LargeChunk) ||
        chunk->data_offset > MaximumAlignment)
        panic("heap: large block header at {:#x} overwritten (freeing {:#x}): {} frames, data at offset {}",
              reinterpret_cast<uintptr_t>(chunk), reinterpret_cast<uintptr_t>(pointer), frames, chunk->data_offset);
#endif
    chunk->magic = 0;
    --stats_.live_allocations;
    stats_.bytes_in_use -= frames * PageSize;
    stats_.large_frames -= frames;
    return frames_->free(map_.to_physical(chunk), frames);
}

size_t Heap::usable_size(const void* pointer) const {
    if (pointer == nullptr) return 0;
    ScopedLock guard(lock_);
    if (frames_ == nullptr) return 0;
    uint64_t* chunk = chunk_of(pointer);
    if (chunk == nullptr) return 0;
    if (*chunk == tag(SlabMagic, chunk)) return block_size_of(reinterpret_cast<Slab*>(chunk)->size_class);
    if (*chunk == tag(LargeMagic, chunk)) {
        auto* large = reinterpret_cast<LargeChunk*>(chunk);
        return large->frames * PageSize - large->data_offset;
    }
    return 0;
}

Heap::Stats Heap::stats() const {
    ScopedLock guard(lock_);
    return stats_;
}

size_t Heap::footprint(size_t size, size_t alignment) {
    if (size == 0) size = 1;
    size_t size_class = size_class_for(size, alignment);
    if (size_class < SizeClassCount) return block_size_of(size_class);
    size_t data_offset = align_up(sizeof(LargeChunk), alignment > SmallestBlock ? alignment : SmallestBlock);
    return align_up(data_offset + size, PageSize);
}

} // namespace kernel::mm
