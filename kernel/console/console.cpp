#include "kernel/console/console.hpp"

#include <atomic>
#include <new>

#include "drivers/uart/uart.hpp"
#include "kernel/arch/riscv/irq_lock.hpp"
#include "kernel/arch/riscv/sbi.hpp"
#include "kernel/mm/memory.hpp"

namespace kernel::console {

namespace {

// Receive ring: written by the interrupt handler, read by the monitor. Guarded by receive_lock.
constexpr size_t ReceiveRingSize = 256;

struct ConsoleState {
    drivers::Uart* uart = nullptr;  // nullptr: SBI legacy console
    unsigned irq = 0;
    IrqSpinLock output_lock;
    IrqSpinLock receive_lock;
    char ring[ReceiveRingSize];
    size_t head = 0;                // next byte to read
    size_t count = 0;
    size_t dropped = 0;
    std::atomic<void (*)()> receive_hook{nullptr};
};

ConsoleState state;

// Storage for whichever driver the device tree selects (no heap needed this early).
alignas(drivers::Ns16550a) alignas(drivers::SifiveUart)
    unsigned char driver_storage[sizeof(drivers::Ns16550a) > sizeof(drivers::SifiveUart)
                                     ? sizeof(drivers::Ns16550a)
                                     : sizeof(drivers::SifiveUart)];

void put_raw(char c) {
    if (state.uart) state.uart->put(c);
    else sbi::legacy_console_putchar(c);
}

} // namespace

const char* init(const fdt::UartInfo& uart) {
    uintptr_t base = reinterpret_cast<uintptr_t>(mm::physical_map().to_virtual(uart.base));
    drivers::Uart* driver = nullptr;
    switch (uart.kind) {
    case fdt::UartKind::Ns16550a:
        driver = new (driver_storage) drivers::Ns16550a(base, uart.reg_shift, uart.reg_io_width);
        break;
    case fdt::UartKind::SifiveUart0:
        driver = new (driver_storage) drivers::SifiveUart(base);
        break;
    case fdt::UartKind::None:
        return nullptr;
    }
    {
        ScopedLock guard(state.output_lock);
        state.uart = driver;
        state.irq = uart.irq;
    }
    driver->enable_receive_interrupt();
    return driver->name();
}

void write(const char* text, size_t length) {
    ScopedLock guard(state.output_lock);
    for (size_t i = 0; i < length; ++i) {
        if (text[i] == '\n') put_raw('\r');
        put_raw(text[i]);
    }
}

void write(const char* text) { write(text, __builtin_strlen(text)); }

void emergency_write(const char* text) {
    riscv::disable_interrupts();
    for (int attempt = 0; attempt < 1000000; ++attempt) {
        if (state.output_lock.try_lock()) {
            for (; *text; ++text) {
                if (*text == '\n') put_raw('\r');
                put_raw(*text);
            }
            state.output_lock.unlock();
            return;
        }
    }
    for (; *text; ++text) put_raw(*text);
}

void receive_interrupt() {
    if (!state.uart) return;
    {
        ScopedLock guard(state.receive_lock);
        for (int c; (c = state.uart->get()) >= 0;) {
            if (state.count == ReceiveRingSize) {
                ++state.dropped;
                continue;
            }
            state.ring[(state.head + state.count) % ReceiveRingSize] = static_cast<char>(c);
            ++state.count;
        }
    }
    if (auto hook = state.receive_hook.load(std::memory_order_acquire)) hook();
}

void set_receive_hook(void (*hook)()) { state.receive_hook.store(hook, std::memory_order_release); }

int try_read() {
    ScopedLock guard(state.receive_lock);
    if (state.count == 0) return -1;
    char c = state.ring[state.head];
    state.head = (state.head + 1) % ReceiveRingSize;
    --state.count;
    return static_cast<unsigned char>(c);
}

size_t dropped_bytes() {
    ScopedLock guard(state.receive_lock);
    return state.dropped;
}

unsigned irq() { return state.irq; }

} // namespace kernel::console
