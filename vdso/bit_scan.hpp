// Count trailing zeros of a 64-bit word: the one instruction the scheduler's pick relies on.
//
// Two implementations, both constant-time:
//   * count_trailing_zeros_instruction: the compiler builtin. On a core with Zbb (or on the host) it is
//     one `ctz`/`tzcnt` instruction. On rv64imac without Zbb GCC would call libgcc's __ctzdi2, whose
//     running time depends on the word, so the kernel build does not use it there.
//   * count_trailing_zeros_debruijn: isolate the lowest set bit, multiply by a de Bruijn constant, look
//     the top six bits up in a 64-entry table. One AND, one NEG, one MUL, one shift, one load.
// count_trailing_zeros picks the instruction when the target has it and the de Bruijn path otherwise.
// Precondition of all three: word != 0 (the callers test the bitmap for emptiness first).
#pragma once

#include <array>
#include <cstdint>

namespace vdso {

namespace bit_scan_detail {

// A de Bruijn sequence B(2, 6): every 6-bit window of (DeBruijn << i) >> 58 is distinct for i in 0..63.
inline constexpr uint64_t DeBruijn = 0x03f79d71b4cb0a89ULL;

constexpr std::array<uint8_t, 64> make_debruijn_table() {
    std::array<uint8_t, 64> table{};
    for (unsigned bit = 0; bit < 64; ++bit) {
        table[(DeBruijn << bit) >> 58] = static_cast<uint8_t>(bit);
    }
    return table;
}

// Read-only data (no pointers, so no relocations in the vDSO image).
inline constexpr std::array<uint8_t, 64> DeBruijnTable = make_debruijn_table();

} // namespace bit_scan_detail

constexpr unsigned count_trailing_zeros_debruijn(uint64_t word) {
    const uint64_t lowest_bit = word & (~word + 1);
    return bit_scan_detail::DeBruijnTable[(lowest_bit * bit_scan_detail::DeBruijn) >> 58];
}

constexpr unsigned count_trailing_zeros_instruction(uint64_t word) {
    return static_cast<unsigned>(__builtin_ctzll(word));
}

// True when count_trailing_zeros compiles to a single instruction on this target.
#if defined(__riscv) && !defined(__riscv_zbb)
inline constexpr bool HasCountTrailingZerosInstruction = false;
#else
inline constexpr bool HasCountTrailingZerosInstruction = true;
#endif

constexpr unsigned count_trailing_zeros(uint64_t word) {
    if constexpr (HasCountTrailingZerosInstruction) {
        return count_trailing_zeros_instruction(word);
    } else {
        return count_trailing_zeros_debruijn(word);
    }
}

} // namespace vdso
