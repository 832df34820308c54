#include "drivers/mmio.hpp"
#include "drivers/uart/uart.hpp"

namespace drivers {

namespace {
// Register offsets (SiFive FU540 manual, chapter UART).
constexpr uintptr_t TransmitData = 0x00;     // bit 31: FIFO full
constexpr uintptr_t ReceiveData = 0x04;      // bit 31: FIFO empty, bits 7..0: data
constexpr uintptr_t TransmitControl = 0x08;  // bit 0: txen
constexpr uintptr_t ReceiveControl = 0x0c;   // bit 0: rxen; bits 18..16: rxcnt watermark
constexpr uintptr_t InterruptEnable = 0x10;  // bit 0: txwm, bit 1: rxwm

constexpr uint32_t FifoFlag = 1u << 31;
constexpr uint32_t Enable = 1u << 0;
constexpr uint32_t ReceiveWatermarkInterrupt = 1u << 1;
} // namespace

void SifiveUart::put(char c) {
    while (mmio_read<uint32_t>(base_ + TransmitData) & FifoFlag) {
    }
    mmio_write<uint32_t>(base_ + TransmitData, static_cast<uint8_t>(c));
}

int SifiveUart::get() {
    uint32_t value = mmio_read<uint32_t>(base_ + ReceiveData);
    if (value & FifoFlag) return -1;
    return static_cast<int>(value & 0xff);
}

void SifiveUart::enable_receive_interrupt() {
    mmio_write<uint32_t>(base_ + TransmitControl, mmio_read<uint32_t>(base_ + TransmitControl) | Enable);
    // Watermark 0: the interrupt is pending while the receive FIFO holds more than 0 bytes.
    mmio_write<uint32_t>(base_ + ReceiveControl, Enable);
    mmio_write<uint32_t>(base_ + InterruptEnable, ReceiveWatermarkInterrupt);
}

} // namespace drivers
