// The kernel console: one output stream (UART once its driver runs, the SBI legacy console before),
// and a receive ring filled by the UART's interrupt.
#pragma once

#include <cstddef>

#include "kernel/fdt/platform.hpp"

namespace kernel::console {

// Binds the console to the UART the device tree names, and enables its receive interrupt.
// Returns the driver's name, or nullptr when there is no supported UART (output stays on SBI).
const char* init(const fdt::UartInfo& uart);

// Writes bytes, "\n" becoming "\r\n". Safe from any hart and from trap handlers; lines of
// different harts do not interleave within one call.
void write(const char* text, size_t length);
void write(const char* text);

// For a panic: writes even if the output lock is held (by a hart that will never release it, or
// by this very hart in the middle of a write), after waiting a bounded time for it.
void emergency_write(const char* text);

// Receive side. The UART's interrupt handler (a top half): moves the receive FIFO into the ring,
// which must happen in the interrupt (the FIFO is small), then calls the receive hook.
void receive_interrupt();
// Called in interrupt context after receive_interrupt() emptied the FIFO: it raises the console's
// bottom half (kernel/file/console_file.cpp), which wakes the readers. Set at boot.
void set_receive_hook(void (*hook)());
// Takes one byte from the receive ring, or returns -1 if it is empty.
int try_read();
// Bytes dropped because the ring was full (reported, never silent).
size_t dropped_bytes();

// The PLIC source of the console UART (0 if none).
unsigned irq();

} // namespace kernel::console
