// FrameAllocator: two bitmaps over the covered span; see frame_allocator.hpp for the invariants.
#include "kernel/mm/frame_allocator.hpp"

#include "kernel/mm/debug_memory.hpp"
#if COKERNEL_DEBUG_MEMORY
#include "kernel/console/log.hpp"
#endif

namespace kernel::mm {

namespace {

constexpr uint64_t LastFrameAddress = ~uint64_t{0} & ~uint64_t{PageSize - 1};

// Usable RAM: whole frames only, so both edges move inward. Empty when nothing whole remains.
PhysicalRange trim_inward(const PhysicalRange& range) {
    if (range.size == 0 || range.base > LastFrameAddress) return {};
    uint64_t base = align_up(range.base, PageSize);
    uint64_t end = align_down(range.end(), PageSize);
    if (end <= base) return {};
    return {base, end - base};
}

// Reserved memory: any frame it touches is withheld, so both edges move outward.
PhysicalRange widen_outward(const PhysicalRange& range) {
    if (range.size == 0) return {};
    uint64_t base = align_down(range.base, PageSize);
    uint64_t end = range.end() > LastFrameAddress ? LastFrameAddress : align_up(range.end(), PageSize);
    return {base, end - base};
}

bool overlaps(uint64_t base, uint64_t end, const PhysicalRange& range) {
    return range.size != 0 && base < range.end() && range.base < end;
}

// The lowest frame-aligned address in usable RAM where `bytes` fit without touching a reserved range;
// 0 when there is none (physical address 0 is never chosen: 0 means "none").
PhysicalAddress find_metadata_room(const PhysicalRange* ram, size_t ram_count, const PhysicalRange* reserved,
                                   size_t reserved_count, uint64_t bytes) {
    PhysicalAddress lowest = 0;
    for (size_t r = 0; r < ram_count; ++r) {
        PhysicalRange usable = trim_inward(ram[r]);
        if (usable.size == 0) continue;
        uint64_t candidate = usable.base == 0 ? PageSize : usable.base;
        while (candidate < usable.end() && bytes <= usable.end() - candidate) {
            bool moved = false;
            for (size_t s = 0; s < reserved_count; ++s) {
                PhysicalRange withheld = widen_outward(reserved[s]);
                if (overlaps(candidate, candidate + bytes, withheld)) {
                    candidate = withheld.end();
                    moved = true;
                }
            }
            if (!moved) {
                if (lowest == 0 || candidate < lowest) lowest = candidate;
                break;
            }
        }
    }
    return lowest;
}

} // namespace

Result<void> FrameAllocator::init(const PhysicalRange* ram, size_t ram_count, const PhysicalRange* reserved,
                                  size_t reserved_count, PhysicalMap map) {
    ScopedLock guard(lock_);
    uint64_t lowest = ~uint64_t{0};
    uint64_t highest = 0;
    for (size_t r = 0; r < ram_count; ++r) {
        PhysicalRange usable = trim_inward(ram[r]);
        if (usable.size == 0) continue;
        if (usable.base < lowest) lowest = usable.base;
        if (usable.end() > highest) highest = usable.end();
    }
    if (highest == 0) return Error::InvalidArgument;

    map_ = map;
    first_frame_ = lowest >> PageShift;
    span_frames_ = (highest - lowest) >> PageShift;
    size_t words = words_for_bits(span_frames_);
    uint64_t metadata_bytes = align_up(2 * words * sizeof(uint64_t), PageSize);
    PhysicalAddress metadata_base = find_metadata_room(ram, ram_count, reserved, reserved_count, metadata_bytes);
    if (metadata_base == 0) {
        span_frames_ = 0;
        return Error::NoMemory;
    }
    metadata_ = {metadata_base, metadata_bytes};

    uint64_t* words_base = map.to_virtual<uint64_t>(metadata_base);
    managed_ = BitmapView(words_base, span_frames_);
    free_ = BitmapView(words_base + words, span_frames_);
    managed_.clear_all();

    for (size_t r = 0; r < ram_count; ++r) {
        PhysicalRange usable = trim_inward(ram[r]);
        if (usable.size != 0) managed_.set_range(index_of(usable.base), usable.size >> PageShift);
    }
    for (size_t s = 0; s < reserved_count; ++s) {
        PhysicalRange withheld = widen_outward(reserved[s]);
        uint64_t base = withheld.base < lowest ? lowest : withheld.base;
        uint64_t end = withheld.end() > highest ? highest : withheld.end();
        if (withheld.size != 0 && base < end) managed_.clear_range(index_of(base), (end - base) >> PageShift);
    }
    managed_.clear_range(index_of(metadata_base), metadata_bytes >> PageShift);

    __builtin_memcpy(words_base + words, words_base, words * sizeof(uint64_t));
    total_frames_ = managed_.count_set();
    free_frames_ = total_frames_;
    search_hint_word_ = 0;
#if COKERNEL_DEBUG_MEMORY
    for (size_t index = 0; index < span_frames_; ++index)
        if (free_.test(index)) poison(index, 1);
#endif
    return success();
}

#if COKERNEL_DEBUG_MEMORY
void FrameAllocator::poison(size_t index, size_t frames) {
    auto* words = map_.to_virtual<uint64_t>(address_of(index));
    for (size_t i = 0; i < frames * PageSize / sizeof(uint64_t); ++i) words[i] = FreedFrameWord;
}

// Frames about to be handed out: each must still hold the poison it got when freed; then they get
// the fresh pattern, so that code relying on what a frame held before shows up too.
void FrameAllocator::check_poison(size_t index, size_t frames) {
    for (size_t frame = index; frame < index + frames; ++frame) {
        auto* words = map_.to_virtual<uint64_t>(address_of(frame));
        for (size_t i = 0; i < PageSize / sizeof(uint64_t); ++i) {
            if (words[i] != FreedFrameWord)
                panic("frames: use after free: frame {:#x} was written after it was freed, at offset {:#x} ({:#x}; free frames hold {:#x})",
                      address_of(frame), i * sizeof(uint64_t), words[i], FreedFrameWord);
        }
        __builtin_memset(words, FreshByte, PageSize);
    }
}
#endif

size_t FrameAllocator::index_of(PhysicalAddress address) const {
    uint64_t frame = address >> PageShift;
    if (frame < first_frame_ || frame - first_frame_ >= span_frames_) return span_frames_;
    return frame - first_frame_;
}

void FrameAllocator::mark_allocated(size_t index, size_t frames) {
#if COKERNEL_DEBUG_MEMORY
    check_poison(index, frames);
#endif
    free_.clear_range(index, frames);
    free_frames_ -= frames;
}

bool FrameAllocator::may_take(size_t frames) const {
    if (frames <= free_frames_ && free_frames_ - frames >= reserve_frames_) return true;
    return may_use_reserve_ == nullptr || may_use_reserve_();
}

void FrameAllocator::set_reserve(size_t frames, bool (*may_use_reserve)()) {
    ScopedLock guard(lock_);
    reserve_frames_ = frames;
    may_use_reserve_ = may_use_reserve;
}

size_t FrameAllocator::reserve_frames() const {
    ScopedLock guard(lock_);
    return reserve_frames_;
}

Result<PhysicalAddress> FrameAllocator::allocate() {
    ScopedLock guard(lock_);
    if (!may_take(1)) return Error::NoMemory;
    size_t words = free_.word_count();
    for (size_t word = search_hint_word_; word < words; ++word) {
        uint64_t bits = free_.word(word);
        if (bits == 0) continue;
        search_hint_word_ = word;
        size_t index = word * BitsPerWord + lowest_set_bit(bits);
        mark_allocated(index, 1);
        return address_of(index);
    }
    search_hint_word_ = words;
    return Error::NoMemory;
}

Result<PhysicalAddress> FrameAllocator::allocate_zeroed() {
    Result<PhysicalAddress> frame = allocate();
    if (frame) __builtin_memset(map_.to_virtual(*frame), 0, PageSize);
    return frame;
}

size_t FrameAllocator::find_free_run(size_t from, size_t frames, size_t align_frames) const {
    size_t candidate = align_up(first_frame_ + from, align_frames) - first_frame_;
    while (candidate < span_frames_ && frames <= span_frames_ - candidate) {
        size_t probe = candidate;
        while (probe < candidate + frames && free_.test(probe)) ++probe;
        if (probe == candidate + frames) return candidate;
        // probe is in use: skip it and any following words with no free frame at all.
        size_t next = probe + 1;
        if ((free_.word(probe / BitsPerWord) >> (probe % BitsPerWord)) == 0) {
            next = (probe / BitsPerWord + 1) * BitsPerWord;
            while (next < span_frames_ && free_.word(next / BitsPerWord) == 0) next += BitsPerWord;
        }
        candidate = align_up(first_frame_ + next, align_frames) - first_frame_;
    }
    return span_frames_;
}

Result<PhysicalAddress> FrameAllocator::allocate_contiguous(size_t frames, size_t align_frames) {
    if (frames == 0 || !is_power_of_two(align_frames)) return Error::InvalidArgument;
    ScopedLock guard(lock_);
    if (frames > free_frames_ || !may_take(frames)) return Error::NoMemory;
    size_t index = find_free_run(search_hint_word_ * BitsPerWord, frames, align_frames);
    if (index == span_frames_) return Error::NoMemory;
    mark_allocated(index, frames);
    return address_of(index);
}

Result<void> FrameAllocator::free(PhysicalAddress address, size_t frames) {
#if COKERNEL_DEBUG_MEMORY
    if (frames == 0 || !is_aligned(address, PageSize)) panic("frames: bad free of {:#x} ({} frames): not a whole frame", address, frames);
#endif
    if (frames == 0 || !is_aligned(address, PageSize)) return Error::InvalidArgument;
    ScopedLock guard(lock_);
    size_t index = index_of(address);
#if COKERNEL_DEBUG_MEMORY
    if (index == span_frames_ || frames > span_frames_ - index)
        panic("frames: bad free of {:#x} ({} frames): outside the managed span", address, frames);
#endif
    if (index == span_frames_ || frames > span_frames_ - index) return Error::InvalidArgument;
    for (size_t frame = index; frame < index + frames; ++frame) {
#if COKERNEL_DEBUG_MEMORY
        if (!managed_.test(frame))
            panic("frames: bad free of {:#x} ({} frames): frame {:#x} is reserved, not managed", address, frames, address_of(frame));
        if (free_.test(frame))
            panic("frames: double free of {:#x} ({} frames): frame {:#x} is free already", address, frames, address_of(frame));
#endif
        if (!managed_.test(frame) || free_.test(frame)) return Error::InvalidArgument;
    }
#if COKERNEL_DEBUG_MEMORY
    poison(index, frames);
#endif
    free_.set_range(index, frames);
    free_frames_ += frames;
    if (index / BitsPerWord < search_hint_word_) search_hint_word_ = index / BitsPerWord;
    return success();
}

size_t FrameAllocator::free_frames() const {
    ScopedLock guard(lock_);
    return free_frames_;
}

size_t FrameAllocator::total_frames() const {
    ScopedLock guard(lock_);
    return total_frames_;
}

bool FrameAllocator::is_allocated(PhysicalAddress address) const {
    ScopedLock guard(lock_);
    size_t index = index_of(address);
    return index != span_frames_ && managed_.test(index) && !free_.test(index);
}

} // namespace kernel::mm
