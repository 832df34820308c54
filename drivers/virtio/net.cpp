#include "drivers/virtio/net.hpp"

namespace drivers::virtio {

using kernel::ScopedLock;
using kernel::SpinLock;
using kernel::net::MaxFrameLength;

namespace {
constexpr size_t pages_for(size_t bytes) { return (bytes + DmaMemory::PageSize - 1) / DmaMemory::PageSize; }
constexpr size_t MacOffset = 0;         // virtio_net_config.mac (5.1.4)
constexpr int MaxResetPolls = 1000000;  // a device that never reads back 0 after reset is refused
constexpr int MaxConfigRetries = 100;   // config space changing under us that often: refused

static_assert(NetHeaderLength + MaxFrameLength <= VirtioNet::SlotBytes);
static_assert(DmaMemory::PageSize % VirtioNet::SlotBytes == 0);
} // namespace

Result<void> VirtioNet::negotiate() {
    transport_->set_status(0);
    for (int polls = 0; transport_->status() != 0; ++polls)
        if (polls == MaxResetPolls) return Error::Unsupported;
    transport_->set_status(status::Acknowledge);
    transport_->set_status(status::Acknowledge | status::Driver);

    uint64_t offered = transport_->device_features();
    // The legacy interface has 32 feature bits and no VERSION_1; the modern one requires it (a
    // modern device without it would expect the legacy behaviour we do not implement).
    uint64_t required = net_feature::Mac | (transport_->legacy() ? 0 : feature::Version1);
    if ((offered & required) != required) return Error::Unsupported;
    transport_->set_driver_features(required);
    if (!transport_->legacy()) {
        transport_->set_status(status::Acknowledge | status::Driver | status::FeaturesOk);
        if ((transport_->status() & status::FeaturesOk) == 0) return Error::Unsupported;  // refused our set
    }
    features_ = required;
    header_length_ = transport_->legacy() ? LegacyNetHeaderLength : NetHeaderLength;

    // The MAC, read consistently: the generation is the same before and after (4.2.2.2).
    for (int attempt = 0;; ++attempt) {
        if (attempt == MaxConfigRetries) return Error::Unsupported;
        uint32_t before = transport_->config_generation();
        for (size_t i = 0; i < kernel::net::MacAddressLength; ++i) mac_[i] = transport_->config_byte(MacOffset + i);
        if (transport_->config_generation() == before) break;
    }
    return kernel::success();
}

Result<void> VirtioNet::setup_queue(uint16_t index, SplitQueue& queue, DmaBlock& rings, DmaBlock& slots) {
    uint16_t maximum = transport_->queue_max_size(index);
    if (maximum == 0) return Error::Unsupported;
    uint16_t size = 1;
    while (size * 2 <= maximum && size * 2 <= WantedQueueSize) size = static_cast<uint16_t>(size * 2);
    rings = TRY(memory_->allocate(pages_for(SplitQueue::memory_bytes(size))));
    TRY(queue.init(size, rings.virtual_address, rings.physical));
    slots = TRY(memory_->allocate(pages_for(size * SlotBytes)));
    return transport_->enable_queue(index, size, queue.descriptor_table_address(), queue.driver_ring_address(),
                                    queue.device_ring_address());
}

Result<void> VirtioNet::post_receive(uint16_t slot) {
    SplitQueue::Buffer buffer{receive_slots_.physical + slot * SlotBytes, static_cast<uint32_t>(SlotBytes), true};
    uint16_t head = TRY(receive_.submit(&buffer, 1));
    receive_slot_of_[head] = slot;
    return kernel::success();
}

void VirtioNet::release_memory() {
    for (DmaBlock* block : {&receive_rings_, &receive_slots_, &transmit_rings_, &transmit_slots_}) {
        if (block->pages != 0) memory_->free(*block);
        *block = DmaBlock{};
    }
}

Result<void> VirtioNet::init(Transport& transport, DmaMemory& memory, const char* name) {
    transport_ = &transport;
    memory_ = &memory;
    name_ = name;
    auto brought_up = [&]() -> Result<void> {
        TRY(negotiate());
        TRY(setup_queue(ReceiveQueue, receive_, receive_rings_, receive_slots_));
        TRY(setup_queue(TransmitQueue, transmit_, transmit_rings_, transmit_slots_));
        for (uint16_t slot = 0; slot < receive_.size(); ++slot) TRY(post_receive(slot));
        free_slot_count_ = transmit_.size();
        for (uint16_t slot = 0; slot < free_slot_count_; ++slot) free_slots_[slot] = slot;
        return kernel::success();
    }();
    if (!brought_up) {
        // Failed: the device may not use any of our memory any more (2.1.1: FAILED ends it).
        transport_->set_status(static_cast<uint8_t>(transport_->status() | status::Failed));
        transport_->set_status(0);
        release_memory();
        return brought_up.error();
    }
    transport_->set_status(static_cast<uint8_t>(transport_->status() | status::DriverOk));
    transport_->notify(ReceiveQueue);  // the posted buffers (not before DRIVER_OK: 3.1.1)
    return kernel::success();
}

uint32_t VirtioNet::interrupt() { return transport_->acknowledge_interrupt(); }

void VirtioNet::bottom_half() {
    Notify notify = notify_.load(std::memory_order_acquire);
    if (notify) notify(notify_context_.load(std::memory_order_acquire));
}

void VirtioNet::set_notify(Notify notify, void* context) {
    notify_context_.store(context, std::memory_order_release);
    notify_.store(notify, std::memory_order_release);
}

void VirtioNet::mac_address(uint8_t out[kernel::net::MacAddressLength]) const {
    for (size_t i = 0; i < kernel::net::MacAddressLength; ++i) out[i] = mac_[i];
}

void VirtioNet::reclaim_transmits() {
    for (;;) {
        auto done = transmit_.take_used();
        if (!done) return;  // none left, or a broken entry (counted by the queue)
        free_slots_[free_slot_count_++] = transmit_slot_of_[done->head];
    }
}

Result<void> VirtioNet::transmit(const void* frame, size_t length) {
    if (frame == nullptr || length == 0 || length > MaxFrameLength) return Error::InvalidArgument;
    ScopedLock<SpinLock> guard(transmit_lock_);
    if (transmit_.size() == 0) return Error::NotFound;  // not brought up
    reclaim_transmits();
    if (free_slot_count_ == 0) {
        transmit_ring_full_.fetch_add(1, std::memory_order_relaxed);
        return Error::NoMemory;
    }
    uint16_t slot = free_slots_[--free_slot_count_];
    uint8_t* buffer = slot_address(transmit_slots_, slot);
    __builtin_memset(buffer, 0, header_length_);  // no offload, no segmentation
    __builtin_memcpy(buffer + header_length_, frame, length);
    SplitQueue::Buffer out{transmit_slots_.physical + slot * SlotBytes, static_cast<uint32_t>(header_length_ + length),
                           false};
    auto head = transmit_.submit(&out, 1);
    if (!head) {
        // Cannot happen while slots and descriptors pair up one to one; counted as a full ring.
        free_slots_[free_slot_count_++] = slot;
        transmit_ring_full_.fetch_add(1, std::memory_order_relaxed);
        return head.error();
    }
    transmit_slot_of_[*head] = slot;
    frames_sent_.fetch_add(1, std::memory_order_relaxed);
    if (transmit_.device_wants_notification()) transport_->notify(TransmitQueue);
    return kernel::success();
}

size_t VirtioNet::receive(Deliver deliver, void* context, size_t budget) {
    ScopedLock<SpinLock> guard(receive_lock_);
    size_t delivered = 0, reposted = 0;
    while (delivered < budget) {
        auto done = receive_.take_used();
        if (!done) break;  // none left, or a broken entry (counted by the queue)
        uint16_t slot = receive_slot_of_[done->head];
        uint32_t length = done->length;
        if (length <= header_length_ || length - header_length_ > MaxFrameLength) {
            receive_dropped_.fetch_add(1, std::memory_order_relaxed);
        } else {
            deliver(context, slot_address(receive_slots_, slot) + header_length_, length - header_length_);
            frames_received_.fetch_add(1, std::memory_order_relaxed);
            ++delivered;
        }
        // The slot goes straight back to the device: a descriptor has just been freed for it.
        if (post_receive(slot)) ++reposted;
        else receive_dropped_.fetch_add(1, std::memory_order_relaxed);
    }
    if (reposted > 0 && receive_.device_wants_notification()) transport_->notify(ReceiveQueue);
    return delivered;
}

uint16_t VirtioNet::transmits_in_flight() {
    ScopedLock<SpinLock> guard(transmit_lock_);
    return transmit_.in_flight();
}

uint16_t VirtioNet::receive_buffers_posted() {
    ScopedLock<SpinLock> guard(receive_lock_);
    return receive_.in_flight();
}

uint64_t VirtioNet::bad_completions() {
    ScopedLock<SpinLock> rx(receive_lock_);
    ScopedLock<SpinLock> tx(transmit_lock_);
    return receive_.bad_completions() + transmit_.bad_completions();
}

kernel::net::DeviceStatistics VirtioNet::statistics() const {
    kernel::net::DeviceStatistics out;
    out.frames_sent = frames_sent_.load(std::memory_order_relaxed);
    out.frames_received = frames_received_.load(std::memory_order_relaxed);
    out.transmit_ring_full = transmit_ring_full_.load(std::memory_order_relaxed);
    out.receive_dropped = receive_dropped_.load(std::memory_order_relaxed);
    return out;
}

} // namespace drivers::virtio
