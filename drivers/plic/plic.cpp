#include "drivers/plic/plic.hpp"

#include "drivers/mmio.hpp"

namespace drivers {

namespace {
// Register map (RISC-V PLIC specification).
constexpr uintptr_t PriorityBase = 0x0;            // 4 bytes per source
constexpr uintptr_t EnableBase = 0x2000;           // 0x80 bytes per context, 1 bit per source
constexpr uintptr_t EnableStride = 0x80;
constexpr uintptr_t ContextBase = 0x200000;        // 0x1000 bytes per context
constexpr uintptr_t ContextStride = 0x1000;
constexpr uintptr_t ThresholdOffset = 0x0;
constexpr uintptr_t ClaimOffset = 0x4;
} // namespace

void Plic::set_priority(uint32_t source, uint32_t priority) {
    if (source == 0 || source > source_count_) return;
    mmio_write<uint32_t>(base_ + PriorityBase + 4 * source, priority);
}

void Plic::enable(uint32_t context, uint32_t source) {
    if (source == 0 || source > source_count_) return;
    uintptr_t word = base_ + EnableBase + context * EnableStride + 4 * (source / 32);
    mmio_write<uint32_t>(word, mmio_read<uint32_t>(word) | (1u << (source % 32)));
}

void Plic::disable(uint32_t context, uint32_t source) {
    if (source == 0 || source > source_count_) return;
    uintptr_t word = base_ + EnableBase + context * EnableStride + 4 * (source / 32);
    mmio_write<uint32_t>(word, mmio_read<uint32_t>(word) & ~(1u << (source % 32)));
}

void Plic::set_threshold(uint32_t context, uint32_t threshold) {
    mmio_write<uint32_t>(base_ + ContextBase + context * ContextStride + ThresholdOffset, threshold);
}

uint32_t Plic::claim(uint32_t context) {
    return mmio_read<uint32_t>(base_ + ContextBase + context * ContextStride + ClaimOffset);
}

void Plic::complete(uint32_t context, uint32_t source) {
    mmio_write<uint32_t>(base_ + ContextBase + context * ContextStride + ClaimOffset, source);
}

} // namespace drivers
