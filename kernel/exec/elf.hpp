// ELF64 readers for the two images the kernel runs: static user executables (elf.cpp) and the vDSO
// (elf_shared_object.cpp; shared internals in elf_layout.hpp).
//
// ELF-64 Object File Format (System V gABI) and the RISC-V ELF psABI. Allocation-free, freestanding,
// and nothing here loads or maps anything: the image is untrusted input, read only through bounds-checked,
// unaligned-safe loads (the image may sit at any address), and every sum of two fields read from it is
// overflow-checked before it is compared with a bound. Any input yields either a value or an Error plus a
// Diagnostic (static message, byte offset); none faults.
//
// Invariants of a LoadPlan returned by plan_executable (the kernel maps frames from the plan only after
// the whole plan validated, so an executable is never loaded partly):
//   * 1 <= segment_count <= MaxSegments; every segment has file_size <= memory_size, memory_size > 0,
//     [file_offset, file_offset + file_size) inside the image, virtual_address % PageSize ==
//     file_offset % PageSize, and its page-rounded range inside [UserBase, UserLimit);
//   * the page-rounded ranges of two segments never share a page; no segment is both writable and
//     executable (W^X);
//   * entry lies inside an executable segment; [lowest_address, highest_address) is the page-rounded
//     union of all segments.
//
// Invariants of a SharedObject returned by open_shared_object:
//   * it is an ET_DYN EM_RISCV object whose segments satisfy the same rules (but at addresses relative
//     to load base 0, so without the user-range rule);
//   * the symbol table (symbol_count entries), the string table, the version-symbol table (if any) and
//     every version definition (if any) lie inside the file part of a loadable segment and were
//     translated to file offsets; each version definition names a NUL-terminated string.
#pragma once

#include <cstddef>
#include <cstdint>

#include "abi/result.hpp"
#include "kernel/exec/diagnostic.hpp"

namespace kernel::exec {

constexpr uint64_t PageSize = 4096;
constexpr uint64_t UserBase = 0x10000;             // lowest user address: pages below stay unmapped
constexpr uint64_t UserLimit = 0x0000003fc0000000;  // top GiB of the Sv39 user half: stack and vDSO
constexpr size_t MaxSegments = 16;                  // PT_LOAD segments accepted per image

// The ELF-64 on-disk structures used here (gABI names in comments). Little-endian; read with
// load_from_image(), never through a cast pointer.
namespace elf {

constexpr uint8_t ClassElf64 = 2;           // ELFCLASS64
constexpr uint8_t DataLittleEndian = 1;     // ELFDATA2LSB
constexpr uint8_t VersionCurrent = 1;       // EV_CURRENT
constexpr uint16_t TypeExecutable = 2;      // ET_EXEC
constexpr uint16_t TypeSharedObject = 3;    // ET_DYN
constexpr uint16_t MachineRiscV = 243;      // EM_RISCV
constexpr uint16_t ExtendedNumbering = 0xffff;  // PN_XNUM: not supported

enum ProgramHeaderType : uint32_t {
    PtLoad = 1, PtDynamic = 2, PtInterp = 3, PtTls = 7, PtGnuStack = 0x6474e551,
};
constexpr uint32_t FlagExecute = 1, FlagWrite = 2, FlagRead = 4;  // PF_X, PF_W, PF_R

enum DynamicTag : int64_t {
    DtNull = 0, DtPltRelSize = 2, DtHash = 4, DtStringTable = 5, DtSymbolTable = 6, DtRela = 7,
    DtRelaSize = 8, DtRelaEntrySize = 9, DtStringSize = 10, DtSymbolEntrySize = 11, DtRel = 17,
    DtRelSize = 18, DtRelEntrySize = 19, DtPltRel = 20, DtTextRel = 22, DtJumpRel = 23, DtRelrSize = 35,
    DtGnuHash = 0x6ffffef5, DtVersionSymbols = 0x6ffffff0, DtVersionDefinitions = 0x6ffffffc,
    DtVersionDefinitionCount = 0x6ffffffd,
};

constexpr uint8_t BindGlobal = 1, BindWeak = 2;          // STB_*
constexpr uint8_t TypeObject = 1, TypeFunction = 2;      // STT_*
constexpr uint8_t VisibilityDefault = 0, VisibilityProtected = 3;  // STV_*
constexpr uint16_t SectionUndefined = 0;                 // SHN_UNDEF
constexpr uint16_t SectionReservedStart = 0xff00;        // SHN_LORESERVE: ABS, COMMON, ...
constexpr uint16_t VersionIndexLocal = 0;                // VER_NDX_LOCAL
constexpr uint16_t VersionHidden = 0x8000;               // VERSYM_HIDDEN
constexpr uint16_t VersionDefinitionCurrent = 1;         // VER_DEF_CURRENT

struct FileHeader {  // Elf64_Ehdr
    uint8_t identification[16];
    uint16_t type, machine;
    uint32_t version;
    uint64_t entry, program_header_offset, section_header_offset;
    uint32_t flags;
    uint16_t header_size, program_header_entry_size, program_header_count;
    uint16_t section_header_entry_size, section_header_count, section_name_index;
};
struct ProgramHeader {  // Elf64_Phdr
    uint32_t type, flags;
    uint64_t offset, virtual_address, physical_address, file_size, memory_size, alignment;
};
struct DynamicEntry {  // Elf64_Dyn
    int64_t tag;
    uint64_t value;
};
struct Symbol {  // Elf64_Sym
    uint32_t name;
    uint8_t info, other;
    uint16_t section_index;
    uint64_t value, size;
};
struct VersionDefinition {  // Elf64_Verdef
    uint16_t version, flags, index, aux_count;
    uint32_t hash, aux_offset, next_offset;
};
struct VersionDefinitionAux {  // Elf64_Verdaux
    uint32_t name, next_offset;
};
static_assert(sizeof(FileHeader) == 64 && sizeof(ProgramHeader) == 56 && sizeof(DynamicEntry) == 16);
static_assert(sizeof(Symbol) == 24 && sizeof(VersionDefinition) == 20 && sizeof(VersionDefinitionAux) == 8);

} // namespace elf

// One PT_LOAD segment to map: memory [virtual_address, virtual_address + memory_size), of which the
// first file_size bytes come from the image at file_offset and the rest are zero.
struct LoadSegment {
    uint64_t virtual_address = 0, memory_size = 0, file_offset = 0, file_size = 0;
    bool read = false, write = false, execute = false;
};

// The PT_TLS initialisation template, for the user runtime's thread-pointer set-up.
struct ThreadLocalTemplate {
    bool present = false;
    uint64_t virtual_address = 0, memory_size = 0, file_offset = 0, file_size = 0, alignment = 0;
};

struct LoadPlan {
    uint64_t entry = 0;
    LoadSegment segments[MaxSegments];
    size_t segment_count = 0;
    uint64_t lowest_address = 0;   // page-rounded down start of the lowest segment
    uint64_t highest_address = 0;  // page-rounded up end of the highest segment
    ThreadLocalTemplate thread_local_template;
    // Where the program headers are in memory (the auxiliary vector's AT_PHDR): inside the file data of
    // a loaded segment, or 0 when no segment loads them. Count and entry size as in the ELF header.
    uint64_t program_header_address = 0;
    uint16_t program_header_count = 0, program_header_entry_size = 0;
};

struct PlanOptions {
    // ET_DYN (a static position-independent executable) is refused unless this is set; it is then
    // planned at `position_independent_base` (page-aligned) added to every address, and PT_DYNAMIC is
    // allowed (a static PIE relocates itself). PT_INTERP is always refused.
    bool accept_position_independent = false;
    uint64_t position_independent_base = 0;
};

// Validates a static RISC-V user executable and returns where its segments go.
Result<LoadPlan> plan_executable(const void* image, size_t size, Diagnostic& diagnostic,
                                 PlanOptions options = {});

// A validated shared object (the vDSO): segments at addresses relative to base 0, and the file offsets
// of its dynamic tables. Points into the image, which must outlive it.
struct SharedObject {
    const uint8_t* image = nullptr;
    uint64_t size = 0;
    LoadSegment segments[MaxSegments];
    size_t segment_count = 0;
    uint64_t highest_address = 0;  // page-rounded end of the last segment: the span to map

    uint64_t symbol_table = 0;    // file offset of the Elf64_Sym array
    uint64_t symbol_count = 0;    // entries, including the null symbol 0
    uint64_t string_table = 0;    // file offset and size of the dynamic string table
    uint64_t string_table_size = 0;
    bool has_version_symbols = false;
    uint64_t version_symbols = 0;  // file offset of the Elf64_Half versym array (symbol_count entries)
    uint64_t version_definitions = 0;  // address (not offset) of the first Elf64_Verdef, if count > 0
    uint64_t version_definition_count = 0;
    uint64_t relocation_count = 0;  // entries of DT_RELA + DT_REL + DT_JMPREL (+ DT_RELR words)
    bool has_text_relocations = false;
};

// Validates an ET_DYN RISC-V object and locates its dynamic symbol, string and version tables.
Result<SharedObject> open_shared_object(const void* image, size_t size, Diagnostic& diagnostic);

// The st_value (offset from the object's load base) of the defined, exported (global or weak, default
// or protected visibility) function or object symbol `name`. With `version` (e.g. "COKERNEL_1.0") only
// a symbol whose version definition has that name matches; with nullptr, only the default version of
// a symbol (versym without the hidden bit) or an unversioned one. NotFound when nothing matches,
// Malformed if the matching symbol's value lies outside every segment.
Result<uint64_t> find_symbol(const SharedObject& object, const char* name, const char* version);

// True if any loadable segment is writable (the vDSO must have none).
bool has_writable_segment(const SharedObject& object);

// Number of dynamic relocation entries (RELA, REL, JMPREL, RELR); 0 when the object has none.
size_t dynamic_relocation_count(const SharedObject& object);

} // namespace kernel::exec
