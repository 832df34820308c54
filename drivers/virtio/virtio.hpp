// virtio 1.x: the constants a driver needs, and the two things a device driver uses without knowing
// how they are provided: its Transport (how registers are reached: virtio-mmio in the kernel, a fake
// in host tests) and DmaMemory (pages the device can address).
//
// Everything a device reads or writes in memory (rings, buffers, the net header) is little-endian
// (virtio 1.x, section 2.4); so are the CPUs this code runs on (RV64, the x86-64 or arm64 host of the
// tests), which the static_assert below states, so fields are read and written natively.
#pragma once

#include <cstddef>
#include <cstdint>

#include "abi/result.hpp"

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "virtio structures are little-endian");

namespace drivers::virtio {

using kernel::Error;
using kernel::Result;

// Device status bits (virtio 1.x, 2.1).
namespace status {
constexpr uint8_t Acknowledge = 1;
constexpr uint8_t Driver = 2;
constexpr uint8_t DriverOk = 4;
constexpr uint8_t FeaturesOk = 8;
constexpr uint8_t DeviceNeedsReset = 64;
constexpr uint8_t Failed = 128;
} // namespace status

// Device types (5): the DeviceID register. 0 marks an empty virtio-mmio slot.
namespace device_id {
constexpr uint32_t None = 0;
constexpr uint32_t Network = 1;
constexpr uint32_t Block = 2;
constexpr uint32_t Console = 3;
constexpr uint32_t Entropy = 4;
} // namespace device_id

// Feature bits independent of the device type (6).
namespace feature {
constexpr uint64_t IndirectDescriptors = 1ull << 28;
constexpr uint64_t EventIndex = 1ull << 29;
constexpr uint64_t Version1 = 1ull << 32;
constexpr uint64_t AccessPlatform = 1ull << 33;
constexpr uint64_t RingPacked = 1ull << 34;
constexpr uint64_t InOrder = 1ull << 35;
} // namespace feature

// InterruptStatus bits (4.2.2).
namespace interrupt {
constexpr uint32_t UsedBuffer = 1;
constexpr uint32_t ConfigChange = 2;
} // namespace interrupt

// How a driver reaches its device's registers. Calls come from one context at a time during
// bring-up; afterwards notify() from the driver's queue users and acknowledge_interrupt() from its
// interrupt handler, which may run concurrently (each is one register access).
class Transport {
public:
    virtual uint32_t device_id() = 0;
    // True for the legacy interface (virtio-mmio version 1): 32 feature bits, no FEATURES_OK,
    // queues given as one page-aligned block (see SplitQueue's layout), the 10-byte net header.
    virtual bool legacy() = 0;
    virtual uint8_t status() = 0;
    virtual void set_status(uint8_t value) = 0;  // 0 resets the device
    virtual uint64_t device_features() = 0;
    virtual void set_driver_features(uint64_t features) = 0;
    // Largest size the device allows for queue `index`; 0 when the queue does not exist.
    virtual uint16_t queue_max_size(uint16_t index) = 0;
    // Gives the device queue `index` of `size` entries at the three physical addresses and marks it
    // ready. InvalidArgument when the addresses do not fit the interface (legacy: one block).
    virtual Result<void> enable_queue(uint16_t index, uint16_t size, uint64_t descriptors, uint64_t driver_ring,
                                      uint64_t device_ring) = 0;
    // Tells the device that queue `index` has new available buffers. Orders every earlier memory
    // write before the register write.
    virtual void notify(uint16_t index) = 0;
    // Reads InterruptStatus and writes the same bits to InterruptACK; returns them.
    virtual uint32_t acknowledge_interrupt() = 0;
    virtual uint32_t config_generation() = 0;
    virtual uint8_t config_byte(size_t offset) = 0;

protected:
    ~Transport() = default;
};

// Pages the device can address: `virtual_address` for the CPU, `physical` for the device (the two
// name the same bytes). Allocated zeroed.
struct DmaBlock {
    void* virtual_address = nullptr;
    uint64_t physical = 0;
    size_t pages = 0;
};

class DmaMemory {
public:
    static constexpr size_t PageSize = 4096;
    // `pages` contiguous zeroed pages; NoMemory when there are none.
    virtual Result<DmaBlock> allocate(size_t pages) = 0;
    virtual void free(const DmaBlock& block) = 0;

protected:
    ~DmaMemory() = default;
};

} // namespace drivers::virtio
