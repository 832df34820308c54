// A small, bounds-checked reader of the vDSO's dynamic symbol table (see vdso_binding.hpp).
#include "user/lib/vdso_binding.hpp"

namespace user {

namespace {

// ELF64 structures, only the fields this reader uses (System V gABI).
struct ElfHeader {
    unsigned char ident[16];
    uint16_t type, machine;
    uint32_t version;
    uint64_t entry, program_header_offset, section_header_offset;
    uint32_t flags;
    uint16_t header_size, program_header_size, program_header_count;
    uint16_t section_header_size, section_header_count, section_name_index;
};
struct ProgramHeader {
    uint32_t type, flags;
    uint64_t offset, virtual_address, physical_address, file_size, memory_size, alignment;
};
struct DynamicEntry {
    int64_t tag;
    uint64_t value;
};
struct Symbol {
    uint32_t name;
    unsigned char info, other;
    uint16_t section;
    uint64_t value, size;
};
struct VersionDefinition {
    uint16_t version, flags, index, auxiliary_count;
    uint32_t hash, auxiliary_offset, next_offset;
};
struct VersionAuxiliary {
    uint32_t name, next_offset;
};
static_assert(sizeof(ElfHeader) == 64 && sizeof(ProgramHeader) == 56 && sizeof(Symbol) == 24);

constexpr uint32_t SegmentLoad = 1, SegmentDynamic = 2;
constexpr int64_t TagNull = 0, TagHash = 4, TagStringTable = 5, TagSymbolTable = 6, TagStringSize = 10;
constexpr int64_t TagGnuHash = 0x6ffffef5, TagVersionSymbols = 0x6ffffff0, TagVersionDefinitions = 0x6ffffffc,
                  TagVersionDefinitionCount = 0x6ffffffd;
constexpr uint16_t MachineRiscv = 243, SectionUndefined = 0, VersionHidden = 0x8000;
constexpr unsigned char SymbolFunction = 2, BindingGlobal = 1, BindingWeak = 2;

// The image as [start, end) in this process, and the bias that turns an ELF address into a pointer.
struct Image {
    uintptr_t start = 0;
    uintptr_t end = 0;
    uintptr_t bias = 0;

    // True when [address, address + size) lies inside the image (no overflow).
    bool contains(uintptr_t address, uint64_t size) const {
        return address >= start && address <= end && size <= end - address;
    }
    // An ELF virtual address of `size` bytes as a pointer, or null if it leaves the image.
    template <typename T>
    const T* at(uint64_t elf_address, uint64_t count = 1) const {
        const uintptr_t address = bias + elf_address;
        if (count > (uint64_t{1} << 32) || !contains(address, count * sizeof(T)) || address % alignof(T) != 0)
            return nullptr;
        return reinterpret_cast<const T*>(address);
    }
};

struct DynamicTables {
    const Symbol* symbols = nullptr;
    uint32_t symbol_count = 0;
    const char* strings = nullptr;
    uint64_t string_size = 0;
    const uint16_t* version_of_symbol = nullptr; // DT_VERSYM, symbol_count entries
    uint64_t version_definitions = 0;            // DT_VERDEF (ELF address)
    uint64_t version_definition_count = 0;

    // A NUL-terminated string inside DT_STRTAB, or null.
    const char* string(uint32_t offset) const {
        for (uint64_t i = offset; i < string_size; ++i)
            if (strings[i] == '\0') return strings + offset;
        return nullptr;
    }
};

bool same(const char* a, const char* b) {
    while (*a != '\0' && *a == *b) ++a, ++b;
    return *a == *b;
}

// The number of symbols, from the GNU hash table: one past the highest index any chain reaches.
uint32_t count_from_gnu_hash(const Image& image, uint64_t table) {
    const uint32_t* header = image.at<uint32_t>(table, 4);
    if (header == nullptr) return 0;
    const uint32_t bucket_count = header[0], first_hashed = header[1], bloom_words = header[2];
    const uint64_t buckets_address = table + 16 + uint64_t{bloom_words} * 8;
    const uint32_t* buckets = image.at<uint32_t>(buckets_address, bucket_count);
    if (buckets == nullptr) return 0;
    const uint64_t chains_address = buckets_address + uint64_t{bucket_count} * 4;
    uint32_t highest = 0;
    for (uint32_t i = 0; i < bucket_count; ++i) highest = buckets[i] > highest ? buckets[i] : highest;
    if (highest < first_hashed) return first_hashed;
    for (;;) { // follow the last chain to its end (bit 0 of a chain word marks the end)
        const uint32_t* link = image.at<uint32_t>(chains_address + uint64_t{highest - first_hashed} * 4);
        if (link == nullptr) return 0;
        if (*link & 1u) return highest + 1;
        ++highest;
    }
}

BindError read_image(uintptr_t base, Image& image, const DynamicEntry*& dynamic, uint64_t& dynamic_count) {
    const auto& header = *reinterpret_cast<const ElfHeader*>(base);
    const bool elf = header.ident[0] == 0x7f && header.ident[1] == 'E' && header.ident[2] == 'L' &&
                     header.ident[3] == 'F' && header.ident[4] == 2 /* 64-bit */ && header.ident[5] == 1 /* LE */;
    if (!elf || header.machine != MachineRiscv || header.program_header_size != sizeof(ProgramHeader) ||
        header.program_header_count == 0 || header.program_header_count > 64)
        return BindError::NotAnElfImage;
    // The image is at least its first page (which holds the ELF header); the PT_LOADs give the rest.
    const auto* headers = reinterpret_cast<const ProgramHeader*>(base + header.program_header_offset);
    if (header.program_header_offset + header.program_header_count * sizeof(ProgramHeader) > 4096)
        return BindError::MalformedImage;
    const ProgramHeader* dynamic_header = nullptr;
    bool first_load = true;
    for (uint16_t i = 0; i < header.program_header_count; ++i) {
        const ProgramHeader& segment = headers[i];
        if (segment.type == SegmentDynamic) dynamic_header = &segment;
        if (segment.type != SegmentLoad) continue;
        if (first_load) { // the segment holding file offset 0 is mapped at `base`
            if (segment.offset != 0) return BindError::MalformedImage;
            image.bias = base - segment.virtual_address;
            image.start = base;
            image.end = base;
            first_load = false;
        }
        const uintptr_t end = image.bias + segment.virtual_address + segment.memory_size;
        if (end < image.bias || segment.virtual_address + image.bias < image.start) return BindError::MalformedImage;
        if (end > image.end) image.end = end;
    }
    if (first_load) return BindError::MalformedImage;
    if (dynamic_header == nullptr) return BindError::NoDynamicSymbols;
    dynamic_count = dynamic_header->memory_size / sizeof(DynamicEntry);
    dynamic = image.at<DynamicEntry>(dynamic_header->virtual_address, dynamic_count);
    return dynamic != nullptr ? BindError::None : BindError::MalformedImage;
}

BindError read_dynamic(const Image& image, const DynamicEntry* dynamic, uint64_t count, DynamicTables& tables) {
    uint64_t symbols = 0, strings = 0, hash = 0, gnu_hash = 0, versions = 0;
    for (uint64_t i = 0; i < count && dynamic[i].tag != TagNull; ++i) {
        const uint64_t value = dynamic[i].value;
        switch (dynamic[i].tag) {
        case TagSymbolTable: symbols = value; break;
        case TagStringTable: strings = value; break;
        case TagStringSize: tables.string_size = value; break;
        case TagHash: hash = value; break;
        case TagGnuHash: gnu_hash = value; break;
        case TagVersionSymbols: versions = value; break;
        case TagVersionDefinitions: tables.version_definitions = value; break;
        case TagVersionDefinitionCount: tables.version_definition_count = value; break;
        default: break;
        }
    }
    if (symbols == 0 || strings == 0 || tables.string_size == 0) return BindError::NoDynamicSymbols;
    tables.strings = image.at<char>(strings, tables.string_size);
    if (tables.strings == nullptr) return BindError::MalformedImage;
    if (hash != 0) { // DT_HASH: nbucket, nchain; nchain is the number of symbols
        const uint32_t* header = image.at<uint32_t>(hash, 2);
        if (header == nullptr) return BindError::MalformedImage;
        tables.symbol_count = header[1];
    } else if (gnu_hash != 0) {
        tables.symbol_count = count_from_gnu_hash(image, gnu_hash);
    }
    if (tables.symbol_count == 0) return BindError::NoDynamicSymbols;
    tables.symbols = image.at<Symbol>(symbols, tables.symbol_count);
    if (tables.symbols == nullptr) return BindError::MalformedImage;
    if (versions == 0 || tables.version_definitions == 0) return BindError::NoVersionTables;
    tables.version_of_symbol = image.at<uint16_t>(versions, tables.symbol_count);
    return tables.version_of_symbol != nullptr ? BindError::None : BindError::MalformedImage;
}

// The name of version definition `index` (its first auxiliary entry), or null.
const char* version_name(const Image& image, const DynamicTables& tables, uint16_t index) {
    uint64_t address = tables.version_definitions;
    for (uint64_t i = 0; i < tables.version_definition_count; ++i) {
        const VersionDefinition* definition = image.at<VersionDefinition>(address);
        if (definition == nullptr) return nullptr;
        if (definition->index == index) {
            const VersionAuxiliary* name = image.at<VersionAuxiliary>(address + definition->auxiliary_offset);
            return name != nullptr ? tables.string(name->name) : nullptr;
        }
        if (definition->next_offset == 0) return nullptr;
        address += definition->next_offset;
    }
    return nullptr;
}

// The address of function `name` at `version`, or null.
const void* find_function(const Image& image, const DynamicTables& tables, const char* name, const char* version_wanted) {
    for (uint32_t i = 1; i < tables.symbol_count; ++i) {
        const Symbol& symbol = tables.symbols[i];
        const unsigned char binding = symbol.info >> 4;
        if ((symbol.info & 0xf) != SymbolFunction || symbol.section == SectionUndefined ||
            (binding != BindingGlobal && binding != BindingWeak))
            continue;
        const char* symbol_name = tables.string(symbol.name);
        if (symbol_name == nullptr || !same(symbol_name, name)) continue;
        const uint16_t version = tables.version_of_symbol[i];
        if (version & VersionHidden) continue;
        const char* version_text = version_name(image, tables, version);
        if (version_text == nullptr || !same(version_text, version_wanted)) continue;
        const uintptr_t address = image.bias + symbol.value;
        return image.contains(address, 4) ? reinterpret_cast<const void*>(address) : nullptr;
    }
    return nullptr;
}

} // namespace

uint64_t auxiliary_value(const uint64_t* auxiliary_vector, uint64_t type) {
    for (const uint64_t* pair = auxiliary_vector; pair[0] != AuxNull; pair += 2)
        if (pair[0] == type) return pair[1];
    return 0;
}

BindOutcome bind_vdso(uintptr_t elf_header, VdsoFunctions& functions) {
    BindOutcome outcome;
    outcome.image = elf_header;
    if (elf_header == 0) {
        outcome.error = BindError::NoAuxiliaryEntry;
        return outcome;
    }
    Image image;
    const DynamicEntry* dynamic = nullptr;
    uint64_t dynamic_count = 0;
    DynamicTables tables;
    if ((outcome.error = read_image(elf_header, image, dynamic, dynamic_count)) != BindError::None) return outcome;
    outcome.image_size = image.end - image.start;
    if ((outcome.error = read_dynamic(image, dynamic, dynamic_count, tables)) != BindError::None) return outcome;

    VdsoFunctions bound{};
    // Name of each entry point and where its address goes; the order is the struct's.
    struct Wanted {
        const char* name;
        void* slot;
        const char* version = COKERNEL_VDSO_VERSION;
    };
    const Wanted wanted[] = {
        {"cokernel_executor_state_size", &bound.executor_state_size},
        {"cokernel_executor_state_alignment", &bound.executor_state_alignment},
        {"cokernel_control_block_size", &bound.control_block_size},
        {"cokernel_poll_thread_size", &bound.poll_thread_size},
        {"cokernel_frame_allocator_size", &bound.frame_allocator_size},
        {"cokernel_executor_init", &bound.executor_init},
        {"cokernel_executor_set_hooks", &bound.executor_set_hooks},
        {"cokernel_executor_set_frame_allocator", &bound.executor_set_frame_allocator},
        {"cokernel_poll_thread_init", &bound.poll_thread_init},
        {"cokernel_executor_spawn", &bound.executor_spawn},
        {"cokernel_executor_wake", &bound.executor_wake},
        {"cokernel_executor_set_priority", &bound.executor_set_priority},
        {"cokernel_executor_cancel", &bound.executor_cancel},
        {"cokernel_executor_state_of", &bound.executor_state_of},
        {"cokernel_executor_priority_of", &bound.executor_priority_of},
        {"cokernel_executor_highest_ready", &bound.executor_highest_ready},
        {"cokernel_executor_check_invariants", &bound.executor_check_invariants},
        {"cokernel_coroutine_record_suspension", &bound.coroutine_record_suspension},
        {"cokernel_run_poll_loop", &bound.run_poll_loop},
        {"cokernel_frame_allocator_init", &bound.frame_allocator_init},
        {"cokernel_frame_allocate", &bound.frame_allocate},
        {"cokernel_frame_free", &bound.frame_free},
        {"cokernel_global_priority_should_yield", &bound.global_priority_should_yield},
        {"cokernel_async_call_arm", &bound.async_call_arm, COKERNEL_VDSO_VERSION_1_1},
        {"cokernel_user_interrupt_entry", &bound.user_interrupt_entry, COKERNEL_VDSO_VERSION_1_1},
        {"cokernel_completion_poll", &bound.completion_poll, COKERNEL_VDSO_VERSION_1_1},
        {"cokernel_async_call_size", &bound.async_call_size, COKERNEL_VDSO_VERSION_1_1},
        {"cokernel_user_interrupt_context_size", &bound.user_interrupt_context_size, COKERNEL_VDSO_VERSION_1_1},
        {"cokernel_user_interrupt_upcall_entry", &bound.user_interrupt_upcall_entry, COKERNEL_VDSO_VERSION_1_2},
    };
    static_assert(sizeof(wanted) / sizeof(wanted[0]) == sizeof(VdsoFunctions) / sizeof(void*),
                  "every entry point of VdsoFunctions is bound");
    for (const Wanted& entry : wanted) {
        const void* address = find_function(image, tables, entry.name, entry.version);
        if (address == nullptr) {
            outcome.error = BindError::MissingSymbol;
            outcome.symbol = entry.name;
            return outcome;
        }
        // A function pointer has the size and representation of a data pointer on RISC-V.
        __builtin_memcpy(entry.slot, &address, sizeof(address));
    }
    functions = bound;
    return outcome;
}

const char* bind_error_text(BindError error) {
    switch (error) {
    case BindError::None: return "bound";
    case BindError::NoAuxiliaryEntry: return "no AT_SYSINFO_EHDR in the auxiliary vector";
    case BindError::NotAnElfImage: return "AT_SYSINFO_EHDR does not point at a RISC-V ELF64 image";
    case BindError::MalformedImage: return "a table of the vDSO image lies outside it";
    case BindError::NoDynamicSymbols: return "the vDSO image has no dynamic symbol table";
    case BindError::NoVersionTables: return "the vDSO image has no symbol versions";
    case BindError::MissingSymbol: return "symbol not found at its version (" COKERNEL_VDSO_VERSION " or later)";
    }
    return "unknown error";
}

} // namespace user
