// Supervisor-mode control and status registers: names, bits, and inline accessors.
//
// Only what the kernel uses. CSR numbers the assembler may not know by name (stimecmp from Sstc)
// are written as numbers.
#pragma once

#include <cstdint>

namespace kernel::riscv {

// sstatus
constexpr uint64_t SstatusSie = 1ull << 1;   // supervisor interrupts enabled
constexpr uint64_t SstatusSpie = 1ull << 5;  // SIE before the trap
constexpr uint64_t SstatusSpp = 1ull << 8;   // previous privilege was supervisor
constexpr uint64_t SstatusSum = 1ull << 18;  // supervisor may access user pages

// sie / sip bits
constexpr uint64_t InterruptSoftware = 1ull << 1;
constexpr uint64_t InterruptTimer = 1ull << 5;
constexpr uint64_t InterruptExternal = 1ull << 9;

// scause
constexpr uint64_t CauseInterruptBit = 1ull << 63;
enum class InterruptCause : uint64_t { Software = 1, Timer = 5, External = 9 };
enum class ExceptionCause : uint64_t {
    InstructionMisaligned = 0,
    InstructionAccessFault = 1,
    IllegalInstruction = 2,
    Breakpoint = 3,
    LoadMisaligned = 4,
    LoadAccessFault = 5,
    StoreMisaligned = 6,
    StoreAccessFault = 7,
    EnvironmentCallFromUser = 8,
    EnvironmentCallFromSupervisor = 9,
    InstructionPageFault = 12,
    LoadPageFault = 13,
    StorePageFault = 15,
};

constexpr uint64_t SatpModeSv39 = 8ull << 60;

// scounteren: which counters U mode may read (rdcycle, rdtime, rdinstret); M mode's mcounteren must
// allow them too (OpenSBI allows all).
constexpr uint64_t CounterCycle = 1ull << 0;
constexpr uint64_t CounterTime = 1ull << 1;
constexpr uint64_t CounterInstructionsRetired = 1ull << 2;

#define KERNEL_CSR_ACCESSORS(name)                                                                 \
    inline uint64_t read_##name() {                                                                \
        uint64_t value;                                                                            \
        asm volatile("csrr %0, " #name : "=r"(value));                                             \
        return value;                                                                              \
    }                                                                                              \
    inline void write_##name(uint64_t value) { asm volatile("csrw " #name ", %0" ::"r"(value)); }  \
    inline void set_##name(uint64_t bits) { asm volatile("csrs " #name ", %0" ::"r"(bits)); }      \
    inline void clear_##name(uint64_t bits) { asm volatile("csrc " #name ", %0" ::"r"(bits)); }

// A macro only because the CSR name must be a literal inside the asm string.
KERNEL_CSR_ACCESSORS(sstatus)
KERNEL_CSR_ACCESSORS(sie)
KERNEL_CSR_ACCESSORS(sip)
KERNEL_CSR_ACCESSORS(stvec)
KERNEL_CSR_ACCESSORS(sscratch)
KERNEL_CSR_ACCESSORS(sepc)
KERNEL_CSR_ACCESSORS(scause)
KERNEL_CSR_ACCESSORS(stval)
KERNEL_CSR_ACCESSORS(satp)
KERNEL_CSR_ACCESSORS(scounteren)
#undef KERNEL_CSR_ACCESSORS

inline uint64_t read_time() {
    uint64_t value;
    asm volatile("rdtime %0" : "=r"(value));
    return value;
}

// Instructions retired by this hart. Under QEMU -icount it counts exactly, one per instruction.
inline uint64_t read_instret() {
    uint64_t value;
    asm volatile("rdinstret %0" : "=r"(value)::"memory");
    return value;
}

// Sstc's stimecmp (CSR 0x14d). Only valid on harts whose ISA has sstc and whose firmware enabled it.
inline void write_stimecmp(uint64_t value) { asm volatile("csrw 0x14d, %0" ::"r"(value)); }

inline void write_satp_and_flush(uint64_t value) {
    asm volatile("sfence.vma zero, zero\n csrw satp, %0\n sfence.vma zero, zero" ::"r"(value) : "memory");
}
inline void flush_tlb_page(uint64_t virtual_address) {
    asm volatile("sfence.vma %0, zero" ::"r"(virtual_address) : "memory");
}
inline void flush_tlb_page_all() { asm volatile("sfence.vma zero, zero" ::: "memory"); }
inline void wait_for_interrupt() { asm volatile("wfi"); }
inline void enable_interrupts() { set_sstatus(SstatusSie); }
inline void disable_interrupts() { clear_sstatus(SstatusSie); }

// Disables supervisor interrupts and returns whether they were enabled.
inline bool save_and_disable_interrupts() {
    uint64_t previous;
    asm volatile("csrrc %0, sstatus, %1" : "=r"(previous) : "r"(SstatusSie) : "memory");
    return (previous & SstatusSie) != 0;
}
inline void restore_interrupts(bool enabled) {
    if (enabled) enable_interrupts();
}

inline uint64_t read_frame_pointer() {
    uint64_t value;
    asm volatile("mv %0, s0" : "=r"(value));
    return value;
}

} // namespace kernel::riscv
