// The kernel's source of random-looking numbers: AT_RANDOM for every new program, getrandom().
//
// What it is: a SplitMix64 sequence (one shared 64-bit counter, advanced atomically by the golden
// ratio per draw) whose every output is also mixed with the hart's time and instructions-retired
// counters at the moment of the draw. Different on every boot of real hardware and of plain QEMU
// (the counters depend on timing); under QEMU -icount the counters are exact, so the same run gives
// the same numbers (what the benchmarks want). NOT cryptographic: no entropy pool, no hardware
// source (Zkr's seed CSR is not used). Any context, any hart.
#pragma once

#include <cstddef>
#include <cstdint>

namespace kernel {

uint64_t random_u64();
void random_bytes(void* out, size_t count);

} // namespace kernel
