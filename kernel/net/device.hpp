// NetDevice: what the network stack needs of an Ethernet driver, and all it may assume of one.
//
// The driver (drivers/virtio/ for QEMU's virtio-net) implements it; the stack (kernel/net/, lwIP)
// uses only this. The split keeps the stack testable without a device and the driver testable
// without a stack.
//
// Contexts:
//   * transmit() and receive() are called from kernel coroutines (never from an interrupt handler),
//     by one caller at a time: the stack serialises its calls into a device (it holds the stack's
//     lock). The driver's own interrupt handler may run meanwhile on any hart.
//   * The notify function runs in the driver's bottom half (kernel/sched/bottom_half.hpp): a kernel
//     coroutine, interrupts off, must not wait. It is raised when frames arrived or transmit buffers
//     came back; it should only wake whoever calls receive().
//   * Running out of buffers is an error returned (transmit) or a frame dropped and counted
//     (receive); never a panic.
#pragma once

#include <cstddef>
#include <cstdint>

#include "abi/result.hpp"

namespace kernel::net {

constexpr size_t MacAddressLength = 6;
// An Ethernet frame as drivers and the stack exchange it: destination MAC onward, no FCS, no
// virtio header; 14 bytes of header and at most 1,500 of payload.
constexpr size_t MaxFrameLength = 1514;

struct DeviceStatistics {
    uint64_t frames_sent = 0;
    uint64_t frames_received = 0;
    uint64_t transmit_ring_full = 0;   // transmit() refused: no free transmit buffer
    uint64_t receive_dropped = 0;      // frames lost: malformed, too long, or no buffer to repost
};

class NetDevice {
public:
    using Notify = void (*)(void* context);
    using Deliver = void (*)(void* context, const void* frame, size_t length);

    virtual const char* name() const = 0;
    virtual void mac_address(uint8_t out[MacAddressLength]) const = 0;

    // Copies one frame (1 .. MaxFrameLength bytes) into a transmit buffer and hands it to the
    // device; `frame` may be reused at once. Error::NoMemory when no transmit buffer is free now
    // (the caller drops the frame or retries after the next notify), Error::InvalidArgument for a
    // bad length.
    virtual Result<void> transmit(const void* frame, size_t length) = 0;

    // Calls deliver(context, frame, length) for up to `budget` received frames, oldest first, and
    // reposts their buffers; returns how many it delivered. `frame` is valid only during the call.
    virtual size_t receive(Deliver deliver, void* context, size_t budget) = 0;

    // Sets the function the driver's bottom half calls when there is work (see above). Called once,
    // before the first receive(); the driver may call it from then on.
    virtual void set_notify(Notify notify, void* context) = 0;

    virtual DeviceStatistics statistics() const = 0;

protected:
    ~NetDevice() = default;  // devices live for ever; nothing deletes one through this interface
};

// The devices drivers found at boot, in device-tree order. A driver registers each device it has
// brought up (before the stack starts); the stack attaches an interface to each.
Result<void> register_device(NetDevice& device);  // Error::NoMemory beyond MaxDevices
size_t device_count();
NetDevice* device(size_t index);  // nullptr past the end

constexpr size_t MaxDevices = 8;  // QEMU virt has eight virtio-mmio slots

} // namespace kernel::net
