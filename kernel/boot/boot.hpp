// What the boot sequence leaves for the rest of the kernel.
#pragma once

#include "kernel/fdt/platform.hpp"

namespace kernel {

// The platform as the device tree describes it. Valid after kernel_main has parsed it.
const fdt::BootInfo& boot_info();

// The boot hart's record gets its device-tree facts once the tree is parsed.
void complete_boot_hart_record();

} // namespace kernel
