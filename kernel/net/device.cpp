#include "kernel/net/device.hpp"

#include <atomic>

namespace kernel::net {
namespace {
NetDevice* devices[MaxDevices];
std::atomic<size_t> count{0};  // registration happens on the boot hart, before the stack starts
} // namespace

Result<void> register_device(NetDevice& device) {
    size_t index = count.load(std::memory_order_relaxed);
    if (index == MaxDevices) return Error::NoMemory;
    devices[index] = &device;
    count.store(index + 1, std::memory_order_release);
    return success();
}

size_t device_count() { return count.load(std::memory_order_acquire); }

NetDevice* device(size_t index) { return index < device_count() ? devices[index] : nullptr; }

} // namespace kernel::net
