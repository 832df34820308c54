#include "kernel/net/virtio_devices.hpp"

#include <new>

#include "drivers/virtio/mmio_transport.hpp"
#include "drivers/virtio/net.hpp"
#include "kernel/arch/riscv/hart.hpp"
#include "kernel/arch/riscv/interrupts.hpp"
#include "kernel/console/log.hpp"
#include "kernel/mm/memory.hpp"
#include "kernel/net/device.hpp"
#include "kernel/sched/bottom_half.hpp"

namespace kernel::net {

namespace {

using drivers::virtio::DmaBlock;
using drivers::virtio::MmioTransport;
using drivers::virtio::VirtioNet;

// DMA memory is whole frames of the frame allocator: physically contiguous, reached by the CPU
// through the direct map, by the device at their physical address (no IOMMU on these machines).
class FrameDmaMemory final : public drivers::virtio::DmaMemory {
public:
    Result<DmaBlock> allocate(size_t pages) override {
        if (pages == 0) return Error::InvalidArgument;
        mm::PhysicalAddress physical = TRY(mm::frames().allocate_contiguous(pages));
        void* address = mm::physical_map().to_virtual(physical);
        __builtin_memset(address, 0, pages * mm::PageSize);
        return DmaBlock{address, physical, pages};
    }
    void free(const DmaBlock& block) override { (void)mm::frames().free(block.physical, block.pages); }
};
FrameDmaMemory dma_memory;

// One record per device brought up, indexed like the interrupt trampolines and bottom halves.
struct NetSlot {
    MmioTransport transport;
    VirtioNet device;
};
alignas(NetSlot) unsigned char slot_storage[MaxDevices][sizeof(NetSlot)];
NetSlot* slots[MaxDevices] = {};  // written at boot before the slot's interrupt is registered
const char* const Names[MaxDevices] = {"net0", "net1", "net2", "net3", "net4", "net5", "net6", "net7"};

void run_bottom_half(void* context) { static_cast<NetSlot*>(context)->device.bottom_half(); }

// One bottom half per device (a BottomHalf lives for ever; its context is set at construction, so
// each points at its slot's storage, which is constructed before the half starts).
proc::BottomHalf halves[MaxDevices] = {
    {"net0", run_bottom_half, slot_storage[0]}, {"net1", run_bottom_half, slot_storage[1]},
    {"net2", run_bottom_half, slot_storage[2]}, {"net3", run_bottom_half, slot_storage[3]},
    {"net4", run_bottom_half, slot_storage[4]}, {"net5", run_bottom_half, slot_storage[5]},
    {"net6", run_bottom_half, slot_storage[6]}, {"net7", run_bottom_half, slot_storage[7]},
};

// The top half of device I: acknowledge, raise the bottom half. Nothing else in interrupt context.
template <size_t I>
void interrupt_handler() {
    if (slots[I] != nullptr && slots[I]->device.interrupt() != 0) halves[I].raise();
}
const riscv::InterruptHandler Handlers[MaxDevices] = {
    interrupt_handler<0>, interrupt_handler<1>, interrupt_handler<2>, interrupt_handler<3>,
    interrupt_handler<4>, interrupt_handler<5>, interrupt_handler<6>, interrupt_handler<7>,
};

// "VERSION_1 MAC" and the like, for the boot line.
void print_features(uint64_t features) {
    if (features & drivers::virtio::feature::Version1) print(" VERSION_1");
    if (features & drivers::virtio::net_feature::Mac) print(" MAC");
}

// Brings up the network device in `slot` as device number `index` (each index is used once: a
// device that fails after init() is reset, so that it stops using its memory, which stays
// allocated); false, with a line saying why, when it cannot be used.
bool bring_up(const fdt::VirtioMmioSlot& slot, MmioTransport transport, size_t index) {
    NetSlot* record = new (slot_storage[index]) NetSlot{};
    record->transport = transport;
    if (auto up = record->device.init(record->transport, dma_memory, Names[index]); !up) {
        println("net: virtio-net at {:#x}: not used: {}", slot.base, error_name(up.error()));
        return false;
    }
    // Interrupts after the device works: until registered, an early interrupt stays pending in the
    // device (its line is level-triggered) and reaches the handler once it is.
    if (auto started = halves[index].start(); !started) {
        println("net: {}: no bottom half ({}): not used", Names[index], error_name(started.error()));
        record->transport.set_status(0);
        return false;
    }
    slots[index] = record;
    if (slot.irq == 0 ||
        !riscv::register_external_interrupt(slot.irq, current_hart()->plic_context, Handlers[index])) {
        println("net: {}: no usable interrupt (PLIC source {}): not used", Names[index], slot.irq);
        slots[index] = nullptr;
        record->transport.set_status(0);
        return false;
    }
    if (auto registered = register_device(record->device); !registered) {
        println("net: {}: not registered: {}", Names[index], error_name(registered.error()));
        return false;
    }
    uint8_t mac[MacAddressLength];
    record->device.mac_address(mac);
    print("{}: virtio-net at {:#x} irq {}, virtio-mmio v{}, MAC {:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}, "
          "queues rx {} tx {}, features",
          Names[index], slot.base, slot.irq, transport.version(), mac[0], mac[1], mac[2], mac[3], mac[4], mac[5],
          record->device.receive_queue_size(), record->device.transmit_queue_size());
    print_features(record->device.features());
    println("");
    return true;
}

} // namespace

void init_virtio_devices(const fdt::BootInfo& platform) {
    size_t index = 0;  // the next device number
    for (size_t i = 0; i < platform.virtio_count && index < MaxDevices; ++i) {
        const fdt::VirtioMmioSlot& slot = platform.virtio[i];
        if (slot.base + slot.size > mm::DirectMapSize || slot.size < 0x100) continue;
        MmioTransport transport(reinterpret_cast<uintptr_t>(mm::physical_map().to_virtual(slot.base)));
        if (auto probed = transport.probe(); !probed) {
            println("virtio-mmio at {:#x}: {}", slot.base, error_name(probed.error()));
            continue;
        }
        uint32_t id = transport.device_id();
        if (id == drivers::virtio::device_id::None) continue;  // an empty slot
        if (id != drivers::virtio::device_id::Network) {
            println("virtio-mmio at {:#x}: device type {}: no driver", slot.base, id);
            continue;
        }
        bring_up(slot, transport, index++);
    }
    if (device_count() == 0) println("net: no network device");
}

} // namespace kernel::net
