// The floating-point unit's user-visible state (F and D extensions): f0..f31 and fcsr, and the two
// routines that move it between the hart and memory. The kernel is built rv64imac and never uses the
// unit itself; only these routines (fp_registers.S, assembled with F/D allowed) touch it.
#pragma once

#include <cstdint>

namespace kernel::riscv {

// sstatus.FS (bits 14:13): the state of the unit for the mode that returns through sret.
// Off: every F/D instruction and fcsr access traps (illegal instruction). Initial/Clean: on, the
// registers equal a saved copy. Dirty: on, written since (hardware sets Dirty on every write).
constexpr uint64_t SstatusFsShift = 13;
constexpr uint64_t SstatusFsMask = 3ull << SstatusFsShift;
constexpr uint64_t SstatusFsOff = 0;
constexpr uint64_t SstatusFsInitial = 1ull << SstatusFsShift;
constexpr uint64_t SstatusFsClean = 2ull << SstatusFsShift;
constexpr uint64_t SstatusFsDirty = 3ull << SstatusFsShift;

// Layout fixed by fp_registers.S.
struct FpRegisters {
    uint64_t f[32];
    uint64_t fcsr;  // frm (bits 7:5) and fflags (bits 4:0); the rest reads as 0
};
static_assert(sizeof(FpRegisters) == 33 * 8, "fp_registers.S layout");

} // namespace kernel::riscv

// Both set sstatus.FS to Dirty (the unit must be on to be read or written) and leave it so: the
// kernel runs no F/D instruction, and every return to user mode writes sstatus from the saved frame.
// Only on a hart that has F and D.
extern "C" void fp_save_registers(kernel::riscv::FpRegisters* to);
extern "C" void fp_load_registers(const kernel::riscv::FpRegisters* from);
