// The UART interface the console uses, and the two drivers behind it.
//
// Output is polled (the console is for humans and for logs, and a panic must be able to print
// with interrupts off); input is interrupt-driven: the driver enables its receive interrupt and
// the console drains received bytes from the interrupt handler.
#pragma once

#include <cstdint>

namespace drivers {

class Uart {
public:
    virtual void put(char c) = 0;
    // Returns the next received byte, or -1 when none is waiting.
    virtual int get() = 0;
    virtual void enable_receive_interrupt() = 0;
    virtual const char* name() const = 0;

protected:
    ~Uart() = default;
};

// National Semiconductor 16550A (QEMU virt, most FPGA SoCs). Registers are 1<<reg_shift bytes
// apart, accessed reg_io_width bytes wide (1 or 4).
class Ns16550a final : public Uart {
public:
    Ns16550a(uintptr_t base, uint32_t reg_shift, uint32_t reg_io_width)
        : base_(base), reg_shift_(reg_shift), io_width_(reg_io_width) {}
    void put(char c) override;
    int get() override;
    void enable_receive_interrupt() override;
    const char* name() const override { return "ns16550a"; }

private:
    uint8_t read(unsigned reg) const;
    void write(unsigned reg, uint8_t value) const;
    uintptr_t base_;
    uint32_t reg_shift_;
    uint32_t io_width_;
};

// SiFive UART (sifive,uart0: the FU540 of sifive_u and Rocket-chip SoCs).
class SifiveUart final : public Uart {
public:
    explicit SifiveUart(uintptr_t base) : base_(base) {}
    void put(char c) override;
    int get() override;
    void enable_receive_interrupt() override;
    const char* name() const override { return "sifive,uart0"; }

private:
    uintptr_t base_;
};

} // namespace drivers
