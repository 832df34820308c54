// The kernel monitor: a console prompt until user space exists. Commands: help, info, programs,
// run, ps, halt.
#pragma once

namespace kernel {

[[noreturn]] void run_monitor();

} // namespace kernel
