// A split virtqueue (virtio 1.x, 2.7), the driver's side: the descriptor table, the available ring
// the driver writes and the used ring the device writes, in one block of device-addressable memory.
//
// Pure logic over memory it is given: no register access, no allocation, so host tests run it
// against a fake device working on the same memory (tests/drivers/virtio/).
//
// Layout of the block (also the legacy interface's layout with QueueAlign 4096, 2.7.2 / 4.2.4):
//   descriptors  at 0:                          16 bytes each
//   avail ring   at 16 * size:                  flags, idx, ring[size], used_event
//   used ring    at align_up(avail end, 4096):  flags, idx, {id, len}[size], avail_event
//
// Invariants (between calls):
//   * every descriptor is either free (on the free list, linked through link_) or part of exactly one
//     in-flight chain, whose head has chain_length_[head] > 0 (the chain's other descriptors follow
//     through link_ as they were written into the table's `next` fields); free_count_ + the lengths
//     of the in-flight chains == size_.
//   * avail_index_ is the index the driver last published in avail->idx; last_used_ is the used-ring
//     index up to which completions were taken. Both are free-running 16-bit counters: they wrap at
//     65,536, and an entry's slot is index & (size - 1) (size is a power of two).
//   * the device has at most size_ chains at a time, so used->idx - last_used_ (mod 65,536) is at
//     most size_ for a correct device; a larger distance, or a used id that is not an in-flight
//     head, is the device's error: take_used() reports it and changes nothing.
//
// Ordering (2.7.13, 2.7.14): descriptors and the ring slot are written before avail->idx (a release
// fence between them); avail->idx is written before used->flags is read to decide on a notification
// (a full fence); used->idx is read before the entry and the buffer contents it covers (an acquire
// fence). The device's own accesses are its business; the Transport orders memory before the notify
// register write.
//
// Not thread-safe: the owner serialises calls (the net driver holds a lock per queue).
#pragma once

#include <cstddef>
#include <cstdint>

#include "drivers/virtio/virtio.hpp"

namespace drivers::virtio {

struct Descriptor {
    uint64_t address;
    uint32_t length;
    uint16_t flags;
    uint16_t next;
};
static_assert(sizeof(Descriptor) == 16);

namespace descriptor_flag {
constexpr uint16_t Next = 1;
constexpr uint16_t Write = 2;  // the device writes this buffer (otherwise it reads it)
constexpr uint16_t Indirect = 4;
} // namespace descriptor_flag

struct UsedElement {
    uint32_t id;
    uint32_t length;
};

constexpr uint16_t AvailNoInterrupt = 1;  // avail->flags: the driver wants no used-buffer interrupts
constexpr uint16_t UsedNoNotify = 1;      // used->flags: the device wants no notifications

class SplitQueue {
public:
    static constexpr uint16_t MaxSize = 256;
    static constexpr size_t RingAlignment = 4096;

    struct Buffer {
        uint64_t address;     // physical
        uint32_t length;
        bool device_writes;   // receive buffer (the device writes it) or transmit buffer
    };
    struct Completion {
        uint16_t head;        // what submit() returned
        uint32_t length;      // bytes the device wrote into the chain's writable buffers
    };

    // Offsets within the block and its size for a queue of `size` entries.
    static constexpr size_t avail_offset(uint16_t size) { return 16 * size_t{size}; }
    static constexpr size_t used_offset(uint16_t size) {
        return align(avail_offset(size) + 6 + 2 * size_t{size}, RingAlignment);
    }
    static constexpr size_t memory_bytes(uint16_t size) {
        return align(used_offset(size) + 6 + 8 * size_t{size}, RingAlignment);
    }

    // Takes over `memory` (memory_bytes(size) zeroed bytes, 4096-aligned, at device address
    // `physical`). InvalidArgument unless size is a power of two in 1..MaxSize and memory is aligned.
    Result<void> init(uint16_t size, void* memory, uint64_t physical);

    uint16_t size() const { return size_; }
    uint16_t free_descriptors() const { return free_count_; }
    uint16_t in_flight() const { return static_cast<uint16_t>(size_ - free_count_); }
    uint64_t descriptor_table_address() const { return physical_; }
    uint64_t driver_ring_address() const { return physical_ + avail_offset(size_); }
    uint64_t device_ring_address() const { return physical_ + used_offset(size_); }

    // Writes a chain of `count` buffers (device-readable ones first, as 2.7.4.2 requires: a readable
    // buffer after a writable one is InvalidArgument) and publishes it in the available ring.
    // Returns the chain's head. NoMemory when fewer than `count` descriptors are free (nothing is
    // changed: the caller waits for completions); InvalidArgument for count 0 or a zero length.
    Result<uint16_t> submit(const Buffer* buffers, size_t count);

    // After submits: whether the device asked to be notified (used->flags without NO_NOTIFY).
    bool device_wants_notification() const;

    // Whether the device has completed a chain not yet taken.
    bool has_used() const;
    // The oldest completion not yet taken; its chain's descriptors become free. NotFound when there
    // is none; Malformed when the device wrote an impossible entry (counted in bad_completions();
    // the entry is skipped, nothing is freed).
    Result<Completion> take_used();
    uint64_t bad_completions() const { return bad_completions_; }

    // Asks the device not to interrupt for used buffers (a hint: 2.7.7), or to interrupt again.
    void set_interrupts(bool wanted);

private:
    static constexpr size_t align(size_t value, size_t alignment) { return (value + alignment - 1) & ~(alignment - 1); }
    uint16_t read_used_index() const;

    // In the block: the avail ring is flags, idx, ring[size]; the used ring flags, idx, then entries.
    volatile Descriptor* descriptors_ = nullptr;
    volatile uint16_t* avail_ = nullptr;       // [0] flags, [1] idx, [2 + i] ring[i]
    volatile uint16_t* used_ = nullptr;        // [0] flags, [1] idx
    volatile UsedElement* used_ring_ = nullptr;
    uint64_t physical_ = 0;
    uint16_t size_ = 0;
    uint16_t free_head_ = 0;
    uint16_t free_count_ = 0;
    uint16_t avail_index_ = 0;
    uint16_t last_used_ = 0;
    uint64_t bad_completions_ = 0;
    uint16_t link_[MaxSize] = {};          // next free descriptor, or next in an in-flight chain
    uint16_t chain_length_[MaxSize] = {};  // > 0 only for the head of an in-flight chain
};

} // namespace drivers::virtio
