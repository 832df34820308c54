// ELF64 shared objects (the vDSO): dynamic section, symbol, string and version tables, symbol lookup.
// See elf.hpp for the invariants.
//
// Addresses from the dynamic section are relative to load base 0 and reach the file only through
// translate(), which checks the whole table against the file part of one segment. Walks over chains
// (GNU hash, version definitions) advance strictly through bounded ranges, so none can loop forever.
#include "kernel/exec/elf.hpp"

#include "kernel/exec/elf_layout.hpp"

namespace kernel::exec {

using namespace detail;

namespace {

// The file offset of [address, address + length), if it lies inside the file part of one segment.
Result<uint64_t> translate(const SharedObject& object, uint64_t address, uint64_t length) {
    for (size_t index = 0; index < object.segment_count; ++index) {
        const LoadSegment& segment = object.segments[index];
        if (address < segment.virtual_address) continue;
        const uint64_t inside = address - segment.virtual_address;
        if (inside <= segment.file_size && length <= segment.file_size - inside) return segment.file_offset + inside;
    }
    return Error::Malformed;
}

// The dynamic-section entries this reader uses; a tag that appears twice keeps its last value.
struct DynamicValues {
    bool has_symbols = false, has_strings = false, has_hash = false, has_gnu_hash = false;
    bool has_version_symbols = false, has_version_definitions = false, has_text_relocations = false;
    uint64_t symbols = 0, symbol_entry_size = sizeof(elf::Symbol), strings = 0, string_size = 0;
    uint64_t hash = 0, gnu_hash = 0, version_symbols = 0, version_definitions = 0, version_definition_count = 0;
    uint64_t rela = 0, rela_size = 0, rela_entry_size = 24, rel = 0, rel_size = 0, rel_entry_size = 16;
    uint64_t plt_relocations = 0, plt_relocation_size = 0, plt_relocation_kind = elf::DtRela, relr_size = 0;
};

void record_dynamic_entry(DynamicValues& values, const elf::DynamicEntry& entry) {
    switch (entry.tag) {
    case elf::DtSymbolTable: values.has_symbols = true; values.symbols = entry.value; break;
    case elf::DtSymbolEntrySize: values.symbol_entry_size = entry.value; break;
    case elf::DtStringTable: values.has_strings = true; values.strings = entry.value; break;
    case elf::DtStringSize: values.string_size = entry.value; break;
    case elf::DtHash: values.has_hash = true; values.hash = entry.value; break;
    case elf::DtGnuHash: values.has_gnu_hash = true; values.gnu_hash = entry.value; break;
    case elf::DtVersionSymbols: values.has_version_symbols = true; values.version_symbols = entry.value; break;
    case elf::DtVersionDefinitions:
        values.has_version_definitions = true;
        values.version_definitions = entry.value;
        break;
    case elf::DtVersionDefinitionCount: values.version_definition_count = entry.value; break;
    case elf::DtRela: values.rela = entry.value; break;
    case elf::DtRel: values.rel = entry.value; break;
    case elf::DtJumpRel: values.plt_relocations = entry.value; break;
    case elf::DtRelaSize: values.rela_size = entry.value; break;
    case elf::DtRelaEntrySize: values.rela_entry_size = entry.value; break;
    case elf::DtRelSize: values.rel_size = entry.value; break;
    case elf::DtRelEntrySize: values.rel_entry_size = entry.value; break;
    case elf::DtPltRelSize: values.plt_relocation_size = entry.value; break;
    case elf::DtPltRel: values.plt_relocation_kind = entry.value; break;
    case elf::DtRelrSize: values.relr_size = entry.value; break;
    case elf::DtTextRel: values.has_text_relocations = true; break;
    default: break;
    }
}

Result<DynamicValues> read_dynamic_section(const uint8_t* image, uint64_t size, const ImageLayout& layout,
                                           Diagnostic& diagnostic) {
    if (layout.dynamic_header == 0) return fail(diagnostic, Error::Malformed, "no dynamic section", 0);
    const elf::ProgramHeader& dynamic = layout.dynamic;
    if (!range_inside(dynamic.offset, dynamic.file_size, size))
        return fail(diagnostic, Error::Truncated, "dynamic section outside the file", layout.dynamic_header);
    DynamicValues values;
    for (uint64_t offset = dynamic.offset; dynamic.offset + dynamic.file_size - offset >= sizeof(elf::DynamicEntry);
         offset += sizeof(elf::DynamicEntry)) {
        const auto entry = load_from_image<elf::DynamicEntry>(image, offset);
        if (entry.tag == elf::DtNull) return values;
        record_dynamic_entry(values, entry);
    }
    return fail(diagnostic, Error::Malformed, "dynamic section not terminated", layout.dynamic_header);
}

// Symbols covered by a GNU hash table: the highest symbol index any bucket starts a chain at, then that
// chain walked to its end marker (bit 0 set), plus one. Every chain word read is bounds-checked and the
// index only grows, so the walk ends inside the file or fails.
Result<uint64_t> count_gnu_hash_symbols(const SharedObject& object, uint64_t table, Diagnostic& diagnostic) {
    constexpr uint64_t HeaderSize = 16;
    Result<uint64_t> header = translate(object, table, HeaderSize);
    if (!header) return fail(diagnostic, Error::Malformed, "GNU hash table outside the file", 0);
    const auto bucket_count = load_from_image<uint32_t>(object.image, *header);
    const auto symbol_offset = load_from_image<uint32_t>(object.image, *header + 4);
    const auto bloom_words = load_from_image<uint32_t>(object.image, *header + 8);
    uint64_t buckets = 0, chains = 0;
    Result<uint64_t> bucket_array = Error::Malformed;
    if (add_checked(table + HeaderSize, uint64_t{bloom_words} * 8, buckets) &&
        add_checked(buckets, uint64_t{bucket_count} * 4, chains))
        bucket_array = translate(object, buckets, uint64_t{bucket_count} * 4);
    if (!bucket_array) return fail(diagnostic, Error::Malformed, "GNU hash table outside the file", *header);
    uint64_t highest_start = 0;
    for (uint64_t bucket = 0; bucket < bucket_count; ++bucket) {
        const auto start = load_from_image<uint32_t>(object.image, *bucket_array + bucket * 4);
        if (start > highest_start) highest_start = start;
    }
    if (highest_start == 0) return uint64_t{symbol_offset};  // no hashed symbol
    if (highest_start < symbol_offset)
        return fail(diagnostic, Error::Malformed, "GNU hash bucket below its symbol offset", *bucket_array);
    for (uint64_t index = highest_start;; ++index) {
        uint64_t address = 0;
        Result<uint64_t> word = Error::Malformed;
        if (add_checked(chains, (index - symbol_offset) * 4, address)) word = translate(object, address, 4);
        if (!word) return fail(diagnostic, Error::Malformed, "GNU hash chain outside the file", *bucket_array);
        if ((load_from_image<uint32_t>(object.image, *word) & 1) != 0) return index + 1;
    }
}

Result<uint64_t> count_symbols(const SharedObject& object, const DynamicValues& values, Diagnostic& diagnostic) {
    if (values.has_hash) {
        Result<uint64_t> header = translate(object, values.hash, 8);
        if (!header) return fail(diagnostic, Error::Malformed, "hash table outside the file", 0);
        const auto bucket_count = load_from_image<uint32_t>(object.image, *header);
        const auto chain_count = load_from_image<uint32_t>(object.image, *header + 4);
        if (!translate(object, values.hash, 8 + (uint64_t{bucket_count} + chain_count) * 4))
            return fail(diagnostic, Error::Malformed, "hash table outside the file", *header);
        return uint64_t{chain_count};
    }
    if (values.has_gnu_hash) return count_gnu_hash_symbols(object, values.gnu_hash, diagnostic);
    return fail(diagnostic, Error::Malformed, "no symbol hash table", 0);
}

// True if the string at `offset` of the dynamic string table ends inside the table.
bool string_terminated(const SharedObject& object, uint64_t offset) {
    for (uint64_t position = offset; position < object.string_table_size; ++position)
        if (object.image[object.string_table + position] == '\0') return true;
    return false;
}

// True if the string at `offset` of the dynamic string table equals `text` (bounded by the table).
bool string_equals(const SharedObject& object, uint64_t offset, const char* text) {
    for (uint64_t index = 0;; ++index) {
        if (offset >= object.string_table_size || index >= object.string_table_size - offset) return false;
        const char character = static_cast<char>(object.image[object.string_table + offset + index]);
        if (character != text[index]) return false;
        if (character == '\0') return true;
    }
}

// Visits the version definitions in order: visit(definition, name offset) returns true to stop.
// Each entry and its first auxiliary entry are bounds-checked; entries must advance by at least one
// entry, so the walk is bounded by the file size even for a huge DT_VERDEFNUM.
template <typename Visitor>
Result<bool> walk_version_definitions(const SharedObject& object, Visitor&& visit) {
    uint64_t address = object.version_definitions;
    for (uint64_t count = 0; count < object.version_definition_count; ++count) {
        Result<uint64_t> offset = translate(object, address, sizeof(elf::VersionDefinition));
        if (!offset) return Error::Malformed;
        const auto definition = load_from_image<elf::VersionDefinition>(object.image, *offset);
        if (definition.version != elf::VersionDefinitionCurrent || definition.aux_count == 0) return Error::Malformed;
        uint64_t aux_address = 0;
        if (!add_checked(address, definition.aux_offset, aux_address)) return Error::Malformed;
        Result<uint64_t> aux = translate(object, aux_address, sizeof(elf::VersionDefinitionAux));
        if (!aux) return Error::Malformed;
        const auto name = load_from_image<elf::VersionDefinitionAux>(object.image, *aux).name;
        if (!string_terminated(object, name)) return Error::Malformed;
        if (visit(definition, uint64_t{name})) return true;
        if (count + 1 < object.version_definition_count &&
            (definition.next_offset < sizeof(elf::VersionDefinition) ||
             !add_checked(address, definition.next_offset, address)))
            return Error::Malformed;
    }
    return false;
}

Result<void> locate_tables(SharedObject& object, const DynamicValues& values, Diagnostic& diagnostic) {
    if (!values.has_symbols || !values.has_strings)
        return fail(diagnostic, Error::Malformed, "no dynamic symbol or string table", 0);
    if (values.symbol_entry_size != sizeof(elf::Symbol))
        return fail(diagnostic, Error::Malformed, "bad symbol entry size", 0);
    Result<uint64_t> strings = translate(object, values.strings, values.string_size);
    if (!strings) return fail(diagnostic, Error::Malformed, "string table outside the file", 0);
    object.string_table = *strings;
    object.string_table_size = values.string_size;

    uint64_t count = TRY(count_symbols(object, values, diagnostic));
    object.symbol_count = count;
    Result<uint64_t> symbols = translate(object, values.symbols, count * sizeof(elf::Symbol));
    if (!symbols) return fail(diagnostic, Error::Malformed, "symbol table outside the file", 0);
    object.symbol_table = *symbols;

    if (values.has_version_symbols) {
        Result<uint64_t> versions = translate(object, values.version_symbols, count * sizeof(uint16_t));
        if (!versions) return fail(diagnostic, Error::Malformed, "version symbol table outside the file", 0);
        object.has_version_symbols = true;
        object.version_symbols = *versions;
    }
    if (values.has_version_definitions) {
        object.version_definitions = values.version_definitions;
        object.version_definition_count = values.version_definition_count;
        if (!walk_version_definitions(object, [](const elf::VersionDefinition&, uint64_t) { return false; }))
            return fail(diagnostic, Error::Malformed, "bad version definition", 0);
    }
    return success();
}

uint64_t count_relocations(const DynamicValues& values) {
    const uint64_t plt_entry_size = values.plt_relocation_kind == elf::DtRel ? 16 : 24;
    // Entry sizes of 0 would divide by zero: count such a table by its bytes, which stays nonzero.
    const uint64_t rela = entries_in(values.rela_size, values.rela_entry_size ? values.rela_entry_size : 1);
    const uint64_t rel = entries_in(values.rel_size, values.rel_entry_size ? values.rel_entry_size : 1);
    // Linkers may count the PLT relocations in DT_RELASZ too (JMPREL inside the RELA range): once only.
    const bool plt_in_rela = values.plt_relocations >= values.rela &&
                             values.plt_relocations - values.rela < values.rela_size &&
                             values.plt_relocation_size <= values.rela_size - (values.plt_relocations - values.rela);
    const bool plt_in_rel = values.plt_relocations >= values.rel && values.plt_relocations - values.rel < values.rel_size &&
                            values.plt_relocation_size <= values.rel_size - (values.plt_relocations - values.rel);
    const uint64_t plt = plt_in_rela || plt_in_rel ? 0 : entries_in(values.plt_relocation_size, plt_entry_size);
    const uint64_t relr = entries_in(values.relr_size, 8);
    uint64_t total = 0;
    if (!add_checked(rela, rel, total) || !add_checked(total, plt, total) || !add_checked(total, relr, total))
        return ~uint64_t{0};
    return total;
}

} // namespace

Result<SharedObject> open_shared_object(const void* image, size_t size, Diagnostic& diagnostic) {
    const auto* bytes = static_cast<const uint8_t*>(image);
    elf::FileHeader header = TRY(read_file_header(bytes, size, elf::TypeSharedObject, false, diagnostic));
    ImageLayout layout = TRY(read_layout(bytes, size, header, 0, diagnostic));
    if (layout.interpreter_header != 0)
        return fail(diagnostic, Error::Unsupported, "shared object with an interpreter (PT_INTERP)",
                    layout.interpreter_header);

    SharedObject object;
    object.image = bytes;
    object.size = size;
    object.segment_count = layout.segment_count;
    for (size_t index = 0; index < layout.segment_count; ++index) {
        const LoadSegment& segment = layout.segments[index];
        object.segments[index] = segment;
        const uint64_t end = page_round_up(segment.virtual_address + segment.memory_size);
        if (end > object.highest_address) object.highest_address = end;
    }
    DynamicValues values = TRY(read_dynamic_section(bytes, size, layout, diagnostic));
    if (Result<void> located = locate_tables(object, values, diagnostic); !located) return located.error();
    object.relocation_count = count_relocations(values);
    object.has_text_relocations = values.has_text_relocations;
    return object;
}

namespace {

// True if symbol `index` carries the version named `version` (nullptr: its default or only version).
Result<bool> version_matches(const SharedObject& object, uint64_t index, const char* version) {
    if (!object.has_version_symbols) return version == nullptr;
    const auto version_index = load_from_image<uint16_t>(object.image, object.version_symbols + index * 2);
    const uint16_t definition_index = version_index & static_cast<uint16_t>(~elf::VersionHidden);
    if (definition_index == elf::VersionIndexLocal) return false;
    if (version == nullptr) return (version_index & elf::VersionHidden) == 0;
    return walk_version_definitions(object, [&](const elf::VersionDefinition& definition, uint64_t name) {
        return definition.index == definition_index && string_equals(object, name, version);
    });
}

bool is_exported_definition(const elf::Symbol& symbol) {
    const uint8_t binding = symbol.info >> 4, type = symbol.info & 0xf, visibility = symbol.other & 3;
    return (binding == elf::BindGlobal || binding == elf::BindWeak) &&
           (type == elf::TypeFunction || type == elf::TypeObject) &&
           (visibility == elf::VisibilityDefault || visibility == elf::VisibilityProtected) &&
           symbol.section_index != elf::SectionUndefined && symbol.section_index < elf::SectionReservedStart;
}

} // namespace

Result<uint64_t> find_symbol(const SharedObject& object, const char* name, const char* version) {
    if (object.image == nullptr || name == nullptr) return Error::InvalidArgument;
    for (uint64_t index = 1; index < object.symbol_count; ++index) {
        const auto symbol = load_from_image<elf::Symbol>(object.image, object.symbol_table + index * sizeof(elf::Symbol));
        if (!is_exported_definition(symbol) || !string_equals(object, symbol.name, name)) continue;
        bool matches = TRY(version_matches(object, index, version));
        if (!matches) continue;
        if (segment_containing(object.segments, object.segment_count, symbol.value) == nullptr)
            return Error::Malformed;
        return symbol.value;
    }
    return Error::NotFound;
}

bool has_writable_segment(const SharedObject& object) {
    for (size_t index = 0; index < object.segment_count; ++index)
        if (object.segments[index].write) return true;
    return false;
}

size_t dynamic_relocation_count(const SharedObject& object) {
    return static_cast<size_t>(object.relocation_count);
}

} // namespace kernel::exec
