// The freestanding C++ runtime (kernel/rt/runtime.cpp).
#pragma once

namespace kernel {

// Runs the constructors of objects with static storage duration (.init_array). Once, at boot,
// before anything uses such an object.
void run_static_constructors();

} // namespace kernel
