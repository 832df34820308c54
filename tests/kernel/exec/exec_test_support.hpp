// Helpers shared by the kernel/exec tests: loading the test inputs built by CMake, and building
// small synthetic ELF images whose every field the test controls.
#pragma once

#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernel/exec/elf.hpp"

namespace exec_test {

using Bytes = std::vector<uint8_t>;

inline Bytes read_test_file(const std::string& name) {
    const std::string path = std::string(EXEC_TEST_DATA_DIR) + "/" + name;
    std::ifstream stream(path, std::ios::binary);
    if (!stream) throw std::runtime_error("cannot open test input " + path);
    return Bytes(std::istreambuf_iterator<char>(stream), std::istreambuf_iterator<char>());
}

template <typename T>
T read_at(const Bytes& bytes, size_t offset) {
    T value;
    std::memcpy(&value, bytes.data() + offset, sizeof(T));
    return value;
}
template <typename T>
void write_at(Bytes& bytes, size_t offset, const T& value) {
    std::memcpy(bytes.data() + offset, &value, sizeof(T));
}

namespace elf = kernel::exec::elf;

// A synthetic ELF image: the file header at 0, program headers right after it, zeros elsewhere.
struct ElfBuilder {
    elf::FileHeader header{};
    std::vector<elf::ProgramHeader> programs;
    size_t file_size = 0x3000;

    Bytes build() const {
        Bytes bytes(file_size, 0);
        elf::FileHeader written = header;
        written.program_header_count = static_cast<uint16_t>(programs.size());
        write_at(bytes, 0, written);
        for (size_t index = 0; index < programs.size(); ++index)
            write_at(bytes, header.program_header_offset + index * sizeof(elf::ProgramHeader), programs[index]);
        return bytes;
    }
};

inline elf::ProgramHeader load_segment(uint64_t offset, uint64_t address, uint64_t file_size, uint64_t memory_size,
                                       uint32_t flags) {
    return {elf::PtLoad, flags, offset, address, address, file_size, memory_size, 0x1000};
}

// A valid static executable: text R-X at 0x10000 (one page from offset 0), data RW- at 0x11000
// (0x100 bytes of file from offset 0x1000, two pages of memory), entry at 0x10100.
inline ElfBuilder minimal_executable() {
    ElfBuilder builder;
    auto& header = builder.header;
    std::memcpy(header.identification, "\x7f" "ELF", 4);
    header.identification[4] = elf::ClassElf64;
    header.identification[5] = elf::DataLittleEndian;
    header.identification[6] = elf::VersionCurrent;
    header.type = elf::TypeExecutable;
    header.machine = elf::MachineRiscV;
    header.version = elf::VersionCurrent;
    header.entry = 0x10100;
    header.program_header_offset = sizeof(elf::FileHeader);
    header.header_size = sizeof(elf::FileHeader);
    header.program_header_entry_size = sizeof(elf::ProgramHeader);
    builder.programs.push_back(load_segment(0, 0x10000, 0x1000, 0x1000, elf::FlagRead | elf::FlagExecute));
    builder.programs.push_back(load_segment(0x1000, 0x11000, 0x100, 0x2000, elf::FlagRead | elf::FlagWrite));
    return builder;
}

// The file offset of the first program header of `type` in a real image, or 0.
inline size_t find_program_header(const Bytes& image, uint32_t type) {
    const auto header = read_at<elf::FileHeader>(image, 0);
    for (size_t index = 0; index < header.program_header_count; ++index) {
        const size_t offset = header.program_header_offset + index * header.program_header_entry_size;
        if (read_at<elf::ProgramHeader>(image, offset).type == type) return offset;
    }
    return 0;
}

// The file offset of the dynamic entry with `tag` in a real shared object (whose PT_DYNAMIC has
// offset == address), or 0.
inline size_t find_dynamic_entry(const Bytes& image, int64_t tag) {
    const size_t program = find_program_header(image, elf::PtDynamic);
    if (program == 0) return 0;
    const auto dynamic = read_at<elf::ProgramHeader>(image, program);
    for (size_t offset = dynamic.offset; offset + 16 <= dynamic.offset + dynamic.file_size; offset += 16) {
        const auto entry = read_at<elf::DynamicEntry>(image, offset);
        if (entry.tag == tag) return offset;
        if (entry.tag == elf::DtNull) break;
    }
    return 0;
}

} // namespace exec_test
