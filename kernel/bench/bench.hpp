// The benchmark mode, chosen by the boot argument `bench=full` (or plain `bench`) or `bench=quick`.
//
// The kernel measures what only it can see (the fetch of an executor built through its vDSO
// bindings), then runs the user benchmark program bin/bench (user/programs/bench/), which measures the
// rest, and returns whether everything ran. Every result is one console line
//
//     BENCH <name> <unit> <median> <min> <max>
//
// over several repetitions in this boot; scripts/bench collects them. Instruction counts come from
// rdinstret; under QEMU -icount shift=0 they are exact and the same from boot to boot. `quick` runs few
// operations per repetition: it checks that every row is produced (make test), its numbers mean little.
#pragma once

#include <string_view>

namespace kernel {

bool run_benchmarks(std::string_view mode);

} // namespace kernel
