// The device's side of split virtqueues and a fake virtio transport, for host tests of
// drivers/virtio/. Written from the virtio 1.x layout (2.7), independently of SplitQueue's own
// offsets, so a layout mistake in either shows. "Physical" addresses are host addresses.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <map>
#include <vector>

#include "drivers/virtio/virtio.hpp"

namespace fake {

struct DescriptorView {
    uint64_t address;
    uint32_t length;
    uint16_t flags;
    uint16_t next;
};

struct Chain {
    uint16_t head;
    std::vector<DescriptorView> buffers;
};

// The device's view of one queue: reads the available ring, writes the used ring.
class QueueDevice {
public:
    QueueDevice() = default;
    QueueDevice(uint64_t descriptors, uint64_t avail, uint64_t used, uint16_t size)
        : descriptors_(descriptors), avail_(avail), used_(used), size_(size) {}

    uint16_t size() const { return size_; }
    uint16_t avail_index() const { return load16(avail_ + 2); }
    uint16_t avail_flags() const { return load16(avail_); }
    uint16_t last_avail() const { return last_avail_; }
    uint16_t used_index() const { return used_index_; }
    // Entries published but not taken by the device yet.
    uint16_t pending() const { return static_cast<uint16_t>(avail_index() - last_avail_); }

    // Takes the next available chain, following `next` through the descriptor table.
    bool pop(Chain& chain) {
        if (pending() == 0) return false;
        std::atomic_thread_fence(std::memory_order_acquire);
        chain.head = load16(avail_ + 4 + 2 * (last_avail_ % size_));
        chain.buffers.clear();
        uint16_t id = chain.head;
        for (;;) {
            if (id >= size_ || chain.buffers.size() > size_) std::abort();  // the driver wrote garbage
            DescriptorView d;
            std::memcpy(&d, reinterpret_cast<const void*>(descriptors_ + 16ull * id), sizeof d);
            chain.buffers.push_back(d);
            if (!(d.flags & 1)) break;
            id = d.next;
        }
        last_avail_ = static_cast<uint16_t>(last_avail_ + 1);
        return true;
    }

    // Completes a chain: writes {id, length} into the used ring, then publishes the index.
    void push_used(uint32_t id, uint32_t length) {
        uint64_t element = used_ + 4 + 8ull * (used_index_ % size_);
        std::memcpy(reinterpret_cast<void*>(element), &id, 4);
        std::memcpy(reinterpret_cast<void*>(element + 4), &length, 4);
        std::atomic_thread_fence(std::memory_order_release);
        used_index_ = static_cast<uint16_t>(used_index_ + 1);
        store16(used_ + 2, used_index_);
    }
    // Publishes a used index without entries (a broken device).
    void force_used_index(uint16_t index) {
        used_index_ = index;
        store16(used_ + 2, index);
    }
    void set_no_notify(bool on) { store16(used_, on ? 1 : 0); }

private:
    static uint16_t load16(uint64_t address) {
        uint16_t value;
        std::memcpy(&value, reinterpret_cast<const void*>(address), 2);
        return value;
    }
    static void store16(uint64_t address, uint16_t value) { std::memcpy(reinterpret_cast<void*>(address), &value, 2); }

    uint64_t descriptors_ = 0, avail_ = 0, used_ = 0;
    uint16_t size_ = 0;
    uint16_t last_avail_ = 0;
    uint16_t used_index_ = 0;
};

// Page-aligned host memory; "physical" = host address. Can be told to fail.
class Dma final : public drivers::virtio::DmaMemory {
public:
    int fail_after = -1;  // allocations that succeed before every later one fails (-1: never fail)
    int allocations = 0;
    std::map<void*, size_t> live;

    kernel::Result<drivers::virtio::DmaBlock> allocate(size_t pages) override {
        if (fail_after >= 0 && allocations >= fail_after) return kernel::Error::NoMemory;
        ++allocations;
        void* p = std::aligned_alloc(PageSize, pages * PageSize);
        std::memset(p, 0, pages * PageSize);
        live[p] = pages;
        return drivers::virtio::DmaBlock{p, reinterpret_cast<uint64_t>(p), pages};
    }
    void free(const drivers::virtio::DmaBlock& block) override {
        auto it = live.find(block.virtual_address);
        if (it == live.end() || it->second != block.pages || block.physical != reinterpret_cast<uint64_t>(block.virtual_address))
            std::abort();  // a bad free
        live.erase(it);
        std::free(block.virtual_address);
    }
    ~Dma() {
        for (auto& [p, pages] : live) std::free(p);
    }
};

// A virtio device's registers, as a driver sees them through the Transport interface.
class Transport final : public drivers::virtio::Transport {
public:
    uint32_t id = 1;
    bool is_legacy = false;
    uint64_t offered = drivers::virtio::feature::Version1 | (1ull << 5);
    bool accept_features = true;  // FEATURES_OK sticks
    uint16_t max_size = 256;      // for every queue below queue_count
    uint16_t queue_count = 2;
    uint8_t config[16] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
    uint32_t pending_interrupt = 0;

    uint8_t status_register = 0;
    std::vector<uint8_t> status_writes;
    uint64_t driver_features = 0;
    bool driver_features_written = false;
    std::map<uint16_t, QueueDevice> queues;
    std::map<uint16_t, int> notifies;
    std::vector<uint8_t> status_at_notify;

    uint32_t device_id() override { return id; }
    bool legacy() override { return is_legacy; }
    uint8_t status() override { return status_register; }
    void set_status(uint8_t value) override {
        status_writes.push_back(value);
        if (value == 0) {
            queues.clear();
            status_register = 0;
            return;
        }
        if ((value & drivers::virtio::status::FeaturesOk) && !accept_features)
            value = static_cast<uint8_t>(value & ~drivers::virtio::status::FeaturesOk);
        status_register = value;
    }
    uint64_t device_features() override { return is_legacy ? (offered & 0xffffffffu) : offered; }
    void set_driver_features(uint64_t features) override {
        driver_features = features;
        driver_features_written = true;
    }
    uint16_t queue_max_size(uint16_t index) override { return index < queue_count ? max_size : 0; }
    kernel::Result<void> enable_queue(uint16_t index, uint16_t size, uint64_t descriptors, uint64_t driver_ring,
                                      uint64_t device_ring) override {
        if (index >= queue_count || size > max_size) return kernel::Error::InvalidArgument;
        queues[index] = QueueDevice(descriptors, driver_ring, device_ring, size);
        return kernel::success();
    }
    void notify(uint16_t index) override {
        ++notifies[index];
        status_at_notify.push_back(status_register);
    }
    uint32_t acknowledge_interrupt() override { return std::exchange(pending_interrupt, 0); }
    uint32_t config_generation() override { return 0; }
    uint8_t config_byte(size_t offset) override { return config[offset]; }
};

} // namespace fake
