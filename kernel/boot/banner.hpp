// The boot banner and the monitor's `info`: what the kernel found on this machine.
#pragma once

#include "kernel/fdt/platform.hpp"

namespace kernel {

void print_banner(const fdt::BootInfo& platform, const char* uart_driver);
void print_platform_info(const fdt::BootInfo& platform);

} // namespace kernel
