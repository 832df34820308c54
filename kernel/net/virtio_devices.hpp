// Bringing up the virtio-net devices of the device tree at boot (drivers/virtio/ does the device
// work; this is the kernel's side: DMA memory from the frame allocator, the PLIC interrupt, the
// bottom half, registration with kernel::net).
#pragma once

#include "kernel/fdt/platform.hpp"

namespace kernel::net {

// Probes every virtio-mmio slot of the device tree (DeviceID 0: an empty slot, skipped), brings up
// each network device, registers it with register_device() and prints one line per device (or
// "net: no network device"). Needs the PLIC, interrupts and bottom halves (kernel_main's order).
// Failures are printed and leave that device out; nothing here panics.
void init_virtio_devices(const fdt::BootInfo& platform);

} // namespace kernel::net
