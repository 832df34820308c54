// virtio-net (virtio 1.x, 5.1) behind kernel::net::NetDevice: one receive and one transmit queue.
//
// Negotiated: VIRTIO_F_VERSION_1 (required on the modern interface; the legacy interface has no such
// bit) and VIRTIO_NET_F_MAC (required: the MAC comes from the config space). Nothing else is
// accepted: no checksum offload, no segmentation offload, no mergeable receive buffers, no control
// queue, no event index. A device that lacks a required feature, or refuses the set (FEATURES_OK
// does not stick), is refused with Unsupported and left with FAILED in its status.
//
// Buffers: every queue entry owns one 2 KiB slot of a DMA block allocated at bring-up (header plus
// the longest frame, 12 + 1514 bytes, fit). All of them are allocated in init(); afterwards nothing
// is allocated, so nothing can run out but the transmit ring (NoMemory from transmit, counted).
//   * Receive: every slot is posted to the device at bring-up and reposted as soon as receive()
//     has delivered its frame, so the device always has every buffer but those being delivered.
//   * Transmit: a slot is free, or handed to the device; transmit() takes back the device's
//     completed slots (reclaim) before it looks for a free one.
//
// Contexts and locks: receive() and transmit() come from kernel coroutines (the stack's one caller
// at a time, NetDevice's contract), each under its queue's SpinLock. interrupt() is the top half
// (any hart, interrupt context): it touches no queue, only acknowledges the device. bottom_half()
// runs in the driver's BottomHalf coroutine and calls the stack's notify function. The locks are
// never taken in interrupt context, so plain SpinLocks suffice (kernel coroutines run with
// interrupts off).
#pragma once

#include <atomic>
#include <cstdint>

#include "abi/spin_lock.hpp"
#include "drivers/virtio/split_queue.hpp"
#include "drivers/virtio/virtio.hpp"
#include "kernel/net/device.hpp"

namespace drivers::virtio {

namespace net_feature {
constexpr uint64_t Checksum = 1ull << 0;
constexpr uint64_t GuestChecksum = 1ull << 1;
constexpr uint64_t Mtu = 1ull << 3;
constexpr uint64_t Mac = 1ull << 5;
constexpr uint64_t MergeableReceiveBuffers = 1ull << 15;
constexpr uint64_t Status = 1ull << 16;
constexpr uint64_t ControlQueue = 1ull << 17;
} // namespace net_feature

// The header before every frame in a buffer (5.1.6): 12 bytes with VERSION_1 (num_buffers is always
// there), 10 on the legacy interface without mergeable buffers. All zero on transmit: no offload.
constexpr size_t NetHeaderLength = 12;
constexpr size_t LegacyNetHeaderLength = 10;

class VirtioNet final : public kernel::net::NetDevice {
public:
    static constexpr uint16_t ReceiveQueue = 0, TransmitQueue = 1;
    static constexpr uint16_t WantedQueueSize = 128;  // per queue, if the device allows that many
    static constexpr size_t SlotBytes = 2048;

    VirtioNet() = default;
    VirtioNet(const VirtioNet&) = delete;
    VirtioNet& operator=(const VirtioNet&) = delete;

    // Brings the device up (3.1.1): reset, negotiation, MAC, both queues with their buffers,
    // DRIVER_OK. On failure the device is left FAILED, what was allocated is freed, and the error
    // says why: Unsupported (features, queues missing), NoMemory (DMA memory), InvalidArgument.
    Result<void> init(Transport& transport, DmaMemory& memory, const char* name);

    // The top half: acknowledges the device's interrupt. Returns its InterruptStatus bits (0: not
    // this device's).
    uint32_t interrupt();
    // The bottom half: tells the stack there may be work.
    void bottom_half();

    uint64_t features() const { return features_; }
    uint16_t receive_queue_size() const { return receive_.size(); }
    uint16_t transmit_queue_size() const { return transmit_.size(); }
    // Transmit slots the device still holds (completed ones are reclaimed by transmit()).
    uint16_t transmits_in_flight();
    uint16_t receive_buffers_posted();
    uint64_t bad_completions();

    // kernel::net::NetDevice
    const char* name() const override { return name_; }
    void mac_address(uint8_t out[kernel::net::MacAddressLength]) const override;
    Result<void> transmit(const void* frame, size_t length) override;
    size_t receive(Deliver deliver, void* context, size_t budget) override;
    void set_notify(Notify notify, void* context) override;
    kernel::net::DeviceStatistics statistics() const override;

private:
    Result<void> negotiate();
    Result<void> setup_queue(uint16_t index, SplitQueue& queue, DmaBlock& rings, DmaBlock& slots);
    Result<void> post_receive(uint16_t slot);
    void reclaim_transmits();  // transmit_lock_ held
    void release_memory();
    uint8_t* slot_address(const DmaBlock& block, uint16_t slot) const {
        return static_cast<uint8_t*>(block.virtual_address) + slot * SlotBytes;
    }

    Transport* transport_ = nullptr;
    DmaMemory* memory_ = nullptr;
    const char* name_ = "virtio-net";
    uint64_t features_ = 0;
    size_t header_length_ = NetHeaderLength;
    uint8_t mac_[kernel::net::MacAddressLength] = {};

    kernel::SpinLock receive_lock_;  // guards receive_ and receive_slot_of_
    SplitQueue receive_;
    DmaBlock receive_rings_, receive_slots_;
    uint16_t receive_slot_of_[SplitQueue::MaxSize] = {};  // chain head -> slot

    kernel::SpinLock transmit_lock_;  // guards transmit_, transmit_slot_of_, free_slots_
    SplitQueue transmit_;
    DmaBlock transmit_rings_, transmit_slots_;
    uint16_t transmit_slot_of_[SplitQueue::MaxSize] = {};
    uint16_t free_slots_[SplitQueue::MaxSize] = {};  // a stack of free transmit slots
    uint16_t free_slot_count_ = 0;

    std::atomic<Notify> notify_{nullptr};
    std::atomic<void*> notify_context_{nullptr};

    std::atomic<uint64_t> frames_sent_{0}, frames_received_{0}, transmit_ring_full_{0}, receive_dropped_{0};
};

} // namespace drivers::virtio
