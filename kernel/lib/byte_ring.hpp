// ByteRing: a bounded ring of bytes whose contents move in and out through a copy function that may
// fail (copy_to_user / copy_from_user), all or nothing: a pipe's buffer (kernel/file/pipe.cpp).
//
// The bytes held are storage_[(head_ + i) % Capacity] for i in [0, used_), used_ <= Capacity. A
// transfer touches at most two pieces (the ring wraps once); it changes the ring only if every piece
// was copied, so a fault leaves the bytes where they were. Not synchronised: the owner's lock guards
// it. Pure logic, tested on the host (tests/kernel/lib/test_byte_ring.cpp).
#pragma once

#include <cstddef>
#include <cstdint>

namespace kernel {

template <size_t RingCapacity>
class ByteRing {
public:
    static constexpr size_t Capacity = RingCapacity;

    size_t used() const { return used_; }
    size_t room() const { return Capacity - used_; }
    bool empty() const { return used_ == 0; }

    // Takes up to `length` bytes from the front: calls copy_out(offset, bytes, count) for each piece,
    // offset being where in the caller's buffer the piece goes. Returns how many bytes were taken, 0
    // if the ring is empty, or -1 (and takes nothing) if a copy failed.
    template <typename CopyOut>
    long take(size_t length, CopyOut copy_out) {
        size_t count = smaller(length, used_);
        size_t first = smaller(count, Capacity - head_);
        if (count == 0) return 0;
        if (!copy_out(size_t{0}, storage_ + head_, first)) return -1;
        if (first < count && !copy_out(first, storage_, count - first)) return -1;
        head_ = (head_ + count) % Capacity;
        used_ -= count;
        return static_cast<long>(count);
    }

    // Appends up to `length` bytes at the back: calls copy_in(bytes, offset, count) for each piece,
    // offset being where in the caller's buffer the piece comes from. Returns how many bytes were
    // appended (at most room()), or -1 (and appends nothing) if a copy failed.
    template <typename CopyIn>
    long put(size_t length, CopyIn copy_in) {
        size_t count = smaller(length, room());
        size_t tail = (head_ + used_) % Capacity;
        size_t first = smaller(count, Capacity - tail);
        if (count == 0) return 0;
        if (!copy_in(storage_ + tail, size_t{0}, first)) return -1;
        if (first < count && !copy_in(storage_, first, count - first)) return -1;
        used_ += count;
        return static_cast<long>(count);
    }

private:
    static size_t smaller(size_t a, size_t b) { return a < b ? a : b; }

    size_t head_ = 0;
    size_t used_ = 0;
    uint8_t storage_[Capacity];
};

} // namespace kernel
