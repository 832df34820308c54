// FrameAllocator: hands out 4 KiB physical frames.
//
// Initialised once from the usable RAM ranges and the reserved ranges (kernel image, firmware, device
// tree, initrd, ...). RAM edges are trimmed inward to whole frames, reserved edges outward; reserved
// ranges may overlap each other and the RAM ranges in any way. The allocator covers the span from the
// lowest to the highest usable frame with two bitmaps, one bit per frame each, which it stores in
// usable RAM (through the PhysicalMap) and then withholds from allocation:
//
//   managed_  bit set: the frame is usable RAM, not reserved and not metadata — it can be handed out.
//   free_     bit set: the frame is managed and currently free.     Invariant: free_ is a subset of managed_.
//
// total_frames() counts managed frames, free_frames() counts free ones. Allocated frames are not zeroed
// (allocate_zeroed() zeroes through the map). Freeing a frame that is out of range, unaligned, not
// managed or not allocated is rejected with InvalidArgument and leaves the state untouched.
//
// The reserve: with set_reserve(frames, may_use_reserve), an allocation that would leave fewer than
// `frames` free frames succeeds only if may_use_reserve() (asked under lock_, only then) says the
// caller may take them (kernel/proc/memory_limit.hpp says who). No reserve by default.
//
// The memory debug build (kernel/mm/debug_memory.hpp) poisons free frames, checks the poison when
// they are handed out, and panics on a double or bad free instead of refusing it.
//
// Thread-safe: every public member function takes lock_.
#pragma once

#include "abi/result.hpp"
#include "abi/spin_lock.hpp"
#include "kernel/mm/bitmap.hpp"
#include "kernel/mm/debug_memory.hpp"
#include "kernel/mm/physical.hpp"

#include <cstddef>
#include <cstdint>

namespace kernel::mm {

class FrameAllocator {
public:
    FrameAllocator() = default;
    FrameAllocator(const FrameAllocator&) = delete;
    FrameAllocator& operator=(const FrameAllocator&) = delete;

    // InvalidArgument when no whole usable frame remains; NoMemory when the bitmaps find no room.
    Result<void> init(const PhysicalRange* ram, size_t ram_count, const PhysicalRange* reserved,
                      size_t reserved_count, PhysicalMap map);

    // One frame; NoMemory when none is free.
    Result<PhysicalAddress> allocate();
    // One frame filled with zeroes through the map.
    Result<PhysicalAddress> allocate_zeroed();
    // `frames` physically contiguous frames whose first address is a multiple of align_frames * PageSize
    // (align_frames a power of two). NoMemory when no such run is free.
    Result<PhysicalAddress> allocate_contiguous(size_t frames, size_t align_frames = 1);

    // Returns frames [address, address + frames * PageSize) to the pool. All of them must be allocated;
    // otherwise nothing changes and the result is InvalidArgument.
    Result<void> free(PhysicalAddress address, size_t frames = 1);

    void set_reserve(size_t frames, bool (*may_use_reserve)());
    size_t reserve_frames() const;

    size_t free_frames() const;
    size_t total_frames() const;
    // True if the frame holding `address` is managed and currently allocated.
    bool is_allocated(PhysicalAddress address) const;

    PhysicalMap map() const { return map_; }
    // The covered span [first_address(), end_address()); frames outside it are never handed out.
    PhysicalAddress first_address() const { return first_frame_ << PageShift; }
    PhysicalAddress end_address() const { return (first_frame_ + span_frames_) << PageShift; }
    // Where the bitmaps live (already withheld from allocation).
    PhysicalRange metadata() const { return metadata_; }

private:
    // Frame index relative to first_frame_, or span_frames_ when the address is outside the span.
    size_t index_of(PhysicalAddress address) const;
    PhysicalAddress address_of(size_t index) const { return (first_frame_ + index) << PageShift; }
    // Lowest index >= from of a run of `frames` free frames whose frame number is a multiple of
    // align_frames; span_frames_ when there is none. lock_ must be held.
    size_t find_free_run(size_t from, size_t frames, size_t align_frames) const;
    void mark_allocated(size_t index, size_t frames);
    // Whether `frames` may be taken now, the reserve considered. lock_ must be held.
    bool may_take(size_t frames) const;
#if COKERNEL_DEBUG_MEMORY
    // The memory debug build (kernel/mm/debug_memory.hpp): fill frames with the free poison; check
    // that frames about to be handed out still hold it (a panic if not), then fill them fresh.
    void poison(size_t index, size_t frames);
    void check_poison(size_t index, size_t frames);
#endif

    mutable SpinLock lock_;
    // lock_ must be held when using these:
    PhysicalMap map_{};
    uint64_t first_frame_ = 0;  // physical frame number of bit 0
    size_t span_frames_ = 0;    // bits in each bitmap
    BitmapView managed_;
    BitmapView free_;
    size_t total_frames_ = 0;
    size_t free_frames_ = 0;
    // Every word of free_ below this index is zero, so single-frame searches start here.
    size_t search_hint_word_ = 0;
    size_t reserve_frames_ = 0;
    bool (*may_use_reserve_)() = nullptr;
    PhysicalRange metadata_{};
};

} // namespace kernel::mm
