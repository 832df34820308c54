// Internal to kernel/exec: the pieces the executable planner (elf.cpp) and the shared-object reader
// (elf_shared_object.cpp) share. Not an interface for the rest of the kernel: use elf.hpp.
//
// Rules for every function here and its callers: read the image only through load_from_image() at an
// offset range_inside() accepted, and add two values from the image only with add_checked().
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernel/exec/elf.hpp"

namespace kernel::exec::detail {

template <typename T>
inline T load_from_image(const uint8_t* image, uint64_t offset) {
    T value;
    __builtin_memcpy(&value, image + offset, sizeof(T));
    return value;
}

// True if [offset, offset + length) lies inside [0, size).
constexpr bool range_inside(uint64_t offset, uint64_t length, uint64_t size) {
    return offset <= size && length <= size - offset;
}
constexpr bool add_checked(uint64_t left, uint64_t right, uint64_t& sum) {
    return !__builtin_add_overflow(left, right, &sum);
}
constexpr uint64_t page_round_down(uint64_t address) { return address & ~(PageSize - 1); }
// Only for addresses at most UINT64_MAX - (PageSize - 1) (checked by the callers).
constexpr uint64_t page_round_up(uint64_t address) { return page_round_down(address + PageSize - 1); }
constexpr bool is_power_of_two_or_zero(uint64_t value) { return (value & (value - 1)) == 0; }
constexpr uint64_t entries_in(uint64_t bytes, uint64_t entry_size) {
    return bytes / entry_size + (bytes % entry_size != 0 ? 1 : 0);
}

// What one walk over the program headers found, before the caller applies its own rules.
struct ImageLayout {
    elf::FileHeader header{};
    LoadSegment segments[MaxSegments];
    uint64_t segment_headers[MaxSegments] = {};  // program-header offset of each segment, for diagnostics
    size_t segment_count = 0;
    uint64_t interpreter_header = 0;  // program-header offsets of PT_INTERP / PT_DYNAMIC, 0 if absent
    uint64_t dynamic_header = 0;
    elf::ProgramHeader dynamic{};
    bool executable_stack = false;
    uint64_t stack_header = 0;
    ThreadLocalTemplate thread_local_template;
    uint64_t thread_local_header = 0;
};

// Checks the ELF header (identification, type `expected_type`, or ET_DYN too when
// `accept_shared_object`) and that the program-header table lies inside the image.
Result<elf::FileHeader> read_file_header(const uint8_t* image, uint64_t size, uint16_t expected_type,
                                         bool accept_shared_object, Diagnostic& diagnostic);

// One pass over the program headers: loadable segments checked (each as check_load_segment says, at
// `base` + its address) and collected without overlap, the other interesting types noted.
Result<ImageLayout> read_layout(const uint8_t* image, uint64_t size, const elf::FileHeader& header, uint64_t base,
                                Diagnostic& diagnostic);

// The segment whose memory range holds `address`, or nullptr.
const LoadSegment* segment_containing(const LoadSegment* segments, size_t count, uint64_t address);

} // namespace kernel::exec::detail
