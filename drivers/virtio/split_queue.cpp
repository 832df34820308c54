#include "drivers/virtio/split_queue.hpp"

#include <atomic>

namespace drivers::virtio {

Result<void> SplitQueue::init(uint16_t size, void* memory, uint64_t physical) {
    if (size == 0 || size > MaxSize || (size & (size - 1)) != 0) return Error::InvalidArgument;
    auto base = reinterpret_cast<uintptr_t>(memory);
    if (memory == nullptr || base % RingAlignment != 0 || physical % RingAlignment != 0) return Error::InvalidArgument;
    descriptors_ = reinterpret_cast<volatile Descriptor*>(base);
    avail_ = reinterpret_cast<volatile uint16_t*>(base + avail_offset(size));
    used_ = reinterpret_cast<volatile uint16_t*>(base + used_offset(size));
    used_ring_ = reinterpret_cast<volatile UsedElement*>(base + used_offset(size) + 4);
    physical_ = physical;
    size_ = size;
    // Every descriptor free, linked in order; both rings at index 0 (the block is zeroed, and the
    // device starts from 0 too: 2.7.13, 2.7.14).
    for (uint16_t i = 0; i < size; ++i) {
        link_[i] = static_cast<uint16_t>(i + 1);
        chain_length_[i] = 0;
    }
    free_head_ = 0;
    free_count_ = size;
    avail_index_ = 0;
    last_used_ = 0;
    bad_completions_ = 0;
    avail_[0] = 0;
    avail_[1] = 0;
    return kernel::success();
}

Result<uint16_t> SplitQueue::submit(const Buffer* buffers, size_t count) {
    if (count == 0 || count > size_) return Error::InvalidArgument;
    bool writable_seen = false;
    for (size_t i = 0; i < count; ++i) {
        if (buffers[i].length == 0) return Error::InvalidArgument;
        if (writable_seen && !buffers[i].device_writes) return Error::InvalidArgument;
        writable_seen |= buffers[i].device_writes;
    }
    if (free_count_ < count) return Error::NoMemory;

    uint16_t head = free_head_;
    uint16_t id = head;
    for (size_t i = 0; i < count; ++i) {
        bool last = i + 1 == count;
        uint16_t next = link_[id];  // the next free descriptor: the chain's next one, unless last
        volatile Descriptor& descriptor = descriptors_[id];
        descriptor.address = buffers[i].address;
        descriptor.length = buffers[i].length;
        descriptor.flags = static_cast<uint16_t>((buffers[i].device_writes ? descriptor_flag::Write : 0) |
                                                 (last ? 0 : descriptor_flag::Next));
        descriptor.next = last ? 0 : next;
        if (last) free_head_ = next;
        else id = next;
    }
    free_count_ = static_cast<uint16_t>(free_count_ - count);
    chain_length_[head] = static_cast<uint16_t>(count);

    avail_[2 + (avail_index_ & (size_ - 1))] = head;
    // The descriptors and the ring slot before the index that publishes them.
    std::atomic_thread_fence(std::memory_order_release);
    avail_index_ = static_cast<uint16_t>(avail_index_ + 1);
    avail_[1] = avail_index_;
    return head;
}

bool SplitQueue::device_wants_notification() const {
    // The index store before the flags load: otherwise the device could go idle having read the
    // old index while we read its old "no notification needed".
    std::atomic_thread_fence(std::memory_order_seq_cst);
    return (used_[0] & UsedNoNotify) == 0;
}

void SplitQueue::set_interrupts(bool wanted) {
    avail_[0] = wanted ? 0 : AvailNoInterrupt;
    std::atomic_thread_fence(std::memory_order_seq_cst);
}

uint16_t SplitQueue::read_used_index() const {
    uint16_t index = used_[1];
    // The index before the entries and buffer contents it covers.
    std::atomic_thread_fence(std::memory_order_acquire);
    return index;
}

bool SplitQueue::has_used() const { return size_ != 0 && read_used_index() != last_used_; }

Result<SplitQueue::Completion> SplitQueue::take_used() {
    if (size_ == 0) return Error::NotFound;
    uint16_t device_index = read_used_index();
    uint16_t pending = static_cast<uint16_t>(device_index - last_used_);
    if (pending == 0) return Error::NotFound;
    if (pending > in_flight()) {
        // More completions than chains outstanding: the device is broken. Nothing is trusted.
        ++bad_completions_;
        return Error::Malformed;
    }
    volatile UsedElement& element = used_ring_[last_used_ & (size_ - 1)];
    uint32_t id = element.id;
    uint32_t length = element.length;
    last_used_ = static_cast<uint16_t>(last_used_ + 1);
    if (id >= size_ || chain_length_[id] == 0) {
        ++bad_completions_;  // not a head in flight: skipped, nothing freed
        return Error::Malformed;
    }
    // The chain goes back on the free list, in front.
    uint16_t head = static_cast<uint16_t>(id);
    uint16_t count = chain_length_[head];
    uint16_t tail = head;
    for (uint16_t i = 1; i < count; ++i) tail = link_[tail];
    link_[tail] = free_head_;
    free_head_ = head;
    free_count_ = static_cast<uint16_t>(free_count_ + count);
    chain_length_[head] = 0;
    return Completion{head, length};
}

} // namespace drivers::virtio
