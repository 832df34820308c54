#include "drivers/mmio.hpp"
#include "drivers/uart/uart.hpp"

namespace drivers {

namespace {
// Register indices (scaled by reg_shift).
constexpr unsigned ReceiveBuffer = 0;    // read
constexpr unsigned TransmitHolding = 0;  // write
constexpr unsigned InterruptEnable = 1;
constexpr unsigned FifoControl = 2;
constexpr unsigned LineStatus = 5;

constexpr uint8_t InterruptEnableReceive = 1u << 0;
// FIFOs on, transmit FIFO cleared, receive FIFO kept: bytes that arrived while the firmware and the
// kernel booted are read, not lost (`printf 'halt\n' | make run`). (The firmware has already enabled
// the FIFOs, so the enable bit does not change, which would flush both on a 16550.)
constexpr uint8_t FifoEnableKeepReceived = 0x05;
constexpr uint8_t LineStatusDataReady = 1u << 0;
constexpr uint8_t LineStatusTransmitEmpty = 1u << 5;
} // namespace

uint8_t Ns16550a::read(unsigned reg) const {
    uintptr_t address = base_ + (uintptr_t{reg} << reg_shift_);
    return io_width_ == 4 ? static_cast<uint8_t>(mmio_read<uint32_t>(address)) : mmio_read<uint8_t>(address);
}

void Ns16550a::write(unsigned reg, uint8_t value) const {
    uintptr_t address = base_ + (uintptr_t{reg} << reg_shift_);
    if (io_width_ == 4) mmio_write<uint32_t>(address, value);
    else mmio_write<uint8_t>(address, value);
}

void Ns16550a::put(char c) {
    while ((read(LineStatus) & LineStatusTransmitEmpty) == 0) {
    }
    write(TransmitHolding, static_cast<uint8_t>(c));
}

int Ns16550a::get() {
    if ((read(LineStatus) & LineStatusDataReady) == 0) return -1;
    return read(ReceiveBuffer);
}

void Ns16550a::enable_receive_interrupt() {
    // The firmware already programmed the baud rate; keep it and only turn on the FIFOs and the
    // "received data available" interrupt.
    write(FifoControl, FifoEnableKeepReceived);
    write(InterruptEnable, InterruptEnableReceive);
}

} // namespace drivers
