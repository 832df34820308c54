#include "drivers/virtio/mmio_transport.hpp"

#include "drivers/mmio.hpp"

namespace drivers::virtio {

namespace {
// Register offsets (4.2.2; the legacy-only ones from 4.2.4).
constexpr uintptr_t MagicValue = 0x000, Version = 0x004, DeviceId = 0x008;
constexpr uintptr_t DeviceFeatures = 0x010, DeviceFeaturesSel = 0x014;
constexpr uintptr_t DriverFeatures = 0x020, DriverFeaturesSel = 0x024;
constexpr uintptr_t LegacyGuestPageSize = 0x028;
constexpr uintptr_t QueueSel = 0x030, QueueNumMax = 0x034, QueueNum = 0x038;
constexpr uintptr_t LegacyQueueAlign = 0x03c, LegacyQueuePfn = 0x040;
constexpr uintptr_t QueueReady = 0x044, QueueNotify = 0x050;
constexpr uintptr_t InterruptStatus = 0x060, InterruptAck = 0x064, Status = 0x070;
constexpr uintptr_t QueueDescLow = 0x080, QueueDescHigh = 0x084;
constexpr uintptr_t QueueDriverLow = 0x090, QueueDriverHigh = 0x094;
constexpr uintptr_t QueueDeviceLow = 0x0a0, QueueDeviceHigh = 0x0a4;
constexpr uintptr_t ConfigGeneration = 0x0fc, Config = 0x100;
constexpr uint32_t LegacyPageSize = 4096;

// Memory writes (rings, buffers) before a device register write; a device register read before the
// memory reads it announces. RISC-V orders memory and I/O only with explicit fences.
inline void memory_before_io() {
#if defined(__riscv)
    __asm__ volatile("fence rw, ow" ::: "memory");
#else
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
#endif
}
inline void io_before_memory() {
#if defined(__riscv)
    __asm__ volatile("fence ir, rw" ::: "memory");
#else
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
#endif
}
} // namespace

uint32_t MmioTransport::read(uintptr_t offset) const { return mmio_read<uint32_t>(base_ + offset); }
void MmioTransport::write(uintptr_t offset, uint32_t value) const { mmio_write<uint32_t>(base_ + offset, value); }

Result<void> MmioTransport::probe() {
    if (base_ == 0 || read(MagicValue) != Magic) return Error::NotFound;
    version_ = read(Version);
    if (version_ != 1 && version_ != 2) return Error::Unsupported;
    return kernel::success();
}

uint32_t MmioTransport::version() const { return version_; }
uint32_t MmioTransport::device_id() { return read(DeviceId); }
uint8_t MmioTransport::status() { return static_cast<uint8_t>(read(Status)); }

void MmioTransport::set_status(uint8_t value) {
    memory_before_io();
    write(Status, value);
}

uint64_t MmioTransport::device_features() {
    write(DeviceFeaturesSel, 0);
    uint64_t low = read(DeviceFeatures);
    if (legacy()) return low;  // 32 bits only
    write(DeviceFeaturesSel, 1);
    uint64_t high = read(DeviceFeatures);
    return high << 32 | low;
}

void MmioTransport::set_driver_features(uint64_t features) {
    write(DriverFeaturesSel, 0);
    write(DriverFeatures, static_cast<uint32_t>(features));
    if (legacy()) return;
    write(DriverFeaturesSel, 1);
    write(DriverFeatures, static_cast<uint32_t>(features >> 32));
}

uint16_t MmioTransport::queue_max_size(uint16_t index) {
    write(QueueSel, index);
    if (!legacy() && read(QueueReady) != 0) return 0;  // in use already: not ours to set up
    if (legacy() && read(LegacyQueuePfn) != 0) return 0;
    uint32_t maximum = read(QueueNumMax);
    return maximum > 0xffff ? 0xffff : static_cast<uint16_t>(maximum);
}

Result<void> MmioTransport::enable_queue(uint16_t index, uint16_t size, uint64_t descriptors, uint64_t driver_ring,
                                         uint64_t device_ring) {
    memory_before_io();
    write(QueueSel, index);
    write(QueueNum, size);
    if (legacy()) {
        // One block: descriptors, avail right after them, used at the next QueueAlign boundary.
        uint64_t used = (driver_ring + 6 + 2ull * size + LegacyPageSize - 1) & ~uint64_t{LegacyPageSize - 1};
        if (descriptors % LegacyPageSize != 0 || driver_ring != descriptors + 16ull * size || device_ring != used ||
            descriptors / LegacyPageSize > 0xffffffffull)
            return Error::InvalidArgument;
        write(LegacyGuestPageSize, LegacyPageSize);  // the unit of QueuePfn
        write(LegacyQueueAlign, LegacyPageSize);
        write(LegacyQueuePfn, static_cast<uint32_t>(descriptors / LegacyPageSize));
        return kernel::success();
    }
    write(QueueDescLow, static_cast<uint32_t>(descriptors));
    write(QueueDescHigh, static_cast<uint32_t>(descriptors >> 32));
    write(QueueDriverLow, static_cast<uint32_t>(driver_ring));
    write(QueueDriverHigh, static_cast<uint32_t>(driver_ring >> 32));
    write(QueueDeviceLow, static_cast<uint32_t>(device_ring));
    write(QueueDeviceHigh, static_cast<uint32_t>(device_ring >> 32));
    write(QueueReady, 1);
    return kernel::success();
}

void MmioTransport::notify(uint16_t index) {
    memory_before_io();
    write(QueueNotify, index);
}

uint32_t MmioTransport::acknowledge_interrupt() {
    uint32_t bits = read(InterruptStatus);
    if (bits != 0) write(InterruptAck, bits);
    io_before_memory();
    return bits;
}

uint32_t MmioTransport::config_generation() { return legacy() ? 0 : read(ConfigGeneration); }

uint8_t MmioTransport::config_byte(size_t offset) { return mmio_read<uint8_t>(base_ + Config + offset); }

} // namespace drivers::virtio
