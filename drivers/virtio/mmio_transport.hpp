// The virtio-mmio transport (virtio 1.x, 4.2): a device's registers in one MMIO window, as QEMU virt
// has eight of ("virtio,mmio" nodes in the device tree, which say where; none is assumed).
//
// Both register layouts: version 2 (virtio 1.x, "modern") and version 1 (legacy: 32 feature bits,
// queues by page frame number with QueueAlign 4096, which SplitQueue's block layout satisfies).
#pragma once

#include <cstdint>

#include "drivers/virtio/virtio.hpp"

namespace drivers::virtio {

class MmioTransport final : public Transport {
public:
    static constexpr uint32_t Magic = 0x74726976;  // "virt", little-endian

    MmioTransport() = default;
    explicit MmioTransport(uintptr_t base) : base_(base) {}

    // Checks the magic value and the version. NotFound when the window holds no virtio device
    // interface; Unsupported for a version other than 1 or 2.
    Result<void> probe();
    uint32_t version() const;

    uint32_t device_id() override;
    bool legacy() override { return version_ == 1; }
    uint8_t status() override;
    void set_status(uint8_t value) override;
    uint64_t device_features() override;
    void set_driver_features(uint64_t features) override;
    uint16_t queue_max_size(uint16_t index) override;
    Result<void> enable_queue(uint16_t index, uint16_t size, uint64_t descriptors, uint64_t driver_ring,
                              uint64_t device_ring) override;
    void notify(uint16_t index) override;
    uint32_t acknowledge_interrupt() override;
    uint32_t config_generation() override;
    uint8_t config_byte(size_t offset) override;

private:
    uint32_t read(uintptr_t offset) const;
    void write(uintptr_t offset, uint32_t value) const;

    uintptr_t base_ = 0;
    uint32_t version_ = 0;
};

} // namespace drivers::virtio
