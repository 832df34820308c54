// ELF64 executable planning, and the header and program-header checks shared with the shared-object
// reader (elf_shared_object.cpp). See elf.hpp for the invariants.
//
// Every read of the image goes through load_from_image() after a range_inside() check; every sum of
// two values read from the image is made with add_checked() (or compared as a difference) so that no
// wrap-around can pass a bounds check.
#include "kernel/exec/elf.hpp"

#include <bit>

#include "kernel/exec/elf_layout.hpp"

namespace kernel::exec {

static_assert(std::endian::native == std::endian::little, "ELF fields are read in native byte order");

namespace detail {

namespace {

using elf::ProgramHeader;

// The checks every PT_LOAD must pass wherever it is loaded; `base` is added to its address.
Result<LoadSegment> check_load_segment(const ProgramHeader& program, uint64_t header_offset, uint64_t size,
                                       uint64_t base, Diagnostic& diagnostic) {
    if (program.file_size > program.memory_size)
        return fail(diagnostic, Error::Malformed, "segment file size larger than memory size", header_offset);
    if (!range_inside(program.offset, program.file_size, size))
        return fail(diagnostic, Error::Truncated, "segment outside the file", header_offset);
    uint64_t start = 0, end = 0;
    if (!add_checked(program.virtual_address, base, start) || !add_checked(start, program.memory_size, end) ||
        end > ~uint64_t{0} - (PageSize - 1))
        return fail(diagnostic, Error::Malformed, "segment address range overflows", header_offset);
    if (!is_power_of_two_or_zero(program.alignment))
        return fail(diagnostic, Error::Malformed, "segment alignment not a power of two", header_offset);
    if (start % PageSize != program.offset % PageSize)
        return fail(diagnostic, Error::Malformed, "segment address and offset differ modulo the page size",
                    header_offset);
    if (program.alignment > 1 && program.virtual_address % program.alignment != program.offset % program.alignment)
        return fail(diagnostic, Error::Malformed, "segment address and offset differ modulo its alignment",
                    header_offset);
    const bool write = (program.flags & elf::FlagWrite) != 0, execute = (program.flags & elf::FlagExecute) != 0;
    // A page no access can reach is no program's: refused here (-ENOEXEC), not later by the mapping.
    if ((program.flags & (elf::FlagRead | elf::FlagWrite | elf::FlagExecute)) == 0)
        return fail(diagnostic, Error::Malformed, "segment with no permission", header_offset);
    if (write && execute)
        return fail(diagnostic, Error::Malformed, "writable and executable segment", header_offset);
    return LoadSegment{start, program.memory_size, program.offset, program.file_size,
                       (program.flags & elf::FlagRead) != 0, write, execute};
}

// Adds `segment` unless its pages meet the pages of one already in `layout`.
Result<void> add_segment(ImageLayout& layout, const LoadSegment& segment, uint64_t header_offset,
                         Diagnostic& diagnostic) {
    if (layout.segment_count == MaxSegments)
        return fail(diagnostic, Error::Unsupported, "too many loadable segments", header_offset);
    const uint64_t first = page_round_down(segment.virtual_address);
    const uint64_t last = page_round_up(segment.virtual_address + segment.memory_size);
    for (size_t index = 0; index < layout.segment_count; ++index) {
        const LoadSegment& other = layout.segments[index];
        const uint64_t other_first = page_round_down(other.virtual_address);
        const uint64_t other_last = page_round_up(other.virtual_address + other.memory_size);
        if (first < other_last && other_first < last)
            return fail(diagnostic, Error::Malformed, "segment overlaps another", header_offset);
    }
    layout.segment_headers[layout.segment_count] = header_offset;
    layout.segments[layout.segment_count++] = segment;
    return success();
}

Result<void> note_thread_local_template(ImageLayout& layout, const ProgramHeader& program, uint64_t header_offset,
                                        uint64_t size, uint64_t base, Diagnostic& diagnostic) {
    if (layout.thread_local_template.present)
        return fail(diagnostic, Error::Malformed, "more than one TLS segment", header_offset);
    uint64_t start = 0, end = 0;
    if (program.file_size > program.memory_size || !range_inside(program.offset, program.file_size, size) ||
        !is_power_of_two_or_zero(program.alignment) || !add_checked(program.virtual_address, base, start) ||
        !add_checked(start, program.memory_size, end))
        return fail(diagnostic, Error::Malformed, "bad TLS segment", header_offset);
    layout.thread_local_template = {true, start, program.memory_size, program.offset, program.file_size,
                                    program.alignment};
    layout.thread_local_header = header_offset;
    return success();
}

} // namespace

Result<elf::FileHeader> read_file_header(const uint8_t* image, uint64_t size, uint16_t expected_type,
                                         bool accept_shared_object, Diagnostic& diagnostic) {
    if (image == nullptr) return fail(diagnostic, Error::InvalidArgument, "image pointer is null", 0);
    if (size < 4) return fail(diagnostic, Error::Truncated, "file shorter than the ELF header", 0);
    if (__builtin_memcmp(image, "\x7f" "ELF", 4) != 0)
        return fail(diagnostic, Error::Malformed, "not an ELF file", 0);
    if (size < sizeof(elf::FileHeader))
        return fail(diagnostic, Error::Truncated, "file shorter than the ELF header", 0);
    const auto header = load_from_image<elf::FileHeader>(image, 0);
    if (header.identification[4] != elf::ClassElf64)
        return fail(diagnostic, Error::Unsupported, "not a 64-bit ELF file", 4);
    if (header.identification[5] != elf::DataLittleEndian)
        return fail(diagnostic, Error::Unsupported, "not a little-endian ELF file", 5);
    if (header.identification[6] != elf::VersionCurrent || header.version != elf::VersionCurrent)
        return fail(diagnostic, Error::Unsupported, "unknown ELF version", 6);
    if (header.machine != elf::MachineRiscV)
        return fail(diagnostic, Error::Unsupported, "not a RISC-V ELF file", 18);
    if (header.type != expected_type && !(accept_shared_object && header.type == elf::TypeSharedObject))
        return fail(diagnostic, Error::Unsupported, "wrong ELF file type", 16);
    if (header.header_size != sizeof(elf::FileHeader))
        return fail(diagnostic, Error::Malformed, "bad ELF header size", 52);
    if (header.program_header_count == 0)
        return fail(diagnostic, Error::Malformed, "no program headers", 56);
    if (header.program_header_count == elf::ExtendedNumbering)
        return fail(diagnostic, Error::Unsupported, "extended program header numbering", 56);
    if (header.program_header_entry_size < sizeof(ProgramHeader))
        return fail(diagnostic, Error::Malformed, "bad program header entry size", 54);
    const uint64_t table_size = uint64_t{header.program_header_count} * header.program_header_entry_size;
    if (!range_inside(header.program_header_offset, table_size, size))
        return fail(diagnostic, Error::Truncated, "program headers outside the file", 32);
    return header;
}

Result<ImageLayout> read_layout(const uint8_t* image, uint64_t size, const elf::FileHeader& header, uint64_t base,
                                Diagnostic& diagnostic) {
    ImageLayout layout;
    layout.header = header;
    for (uint64_t index = 0; index < header.program_header_count; ++index) {
        const uint64_t offset = header.program_header_offset + index * header.program_header_entry_size;
        const auto program = load_from_image<ProgramHeader>(image, offset);
        switch (program.type) {
        case elf::PtLoad: {
            LoadSegment segment = TRY(check_load_segment(program, offset, size, base, diagnostic));
            if (segment.memory_size == 0) break;  // maps nothing
            if (Result<void> added = add_segment(layout, segment, offset, diagnostic); !added) return added.error();
            break;
        }
        case elf::PtInterp: layout.interpreter_header = offset; break;
        case elf::PtDynamic:
            if (layout.dynamic_header != 0)
                return fail(diagnostic, Error::Malformed, "more than one dynamic segment", offset);
            layout.dynamic_header = offset;
            layout.dynamic = program;
            break;
        case elf::PtGnuStack:
            layout.executable_stack = (program.flags & elf::FlagExecute) != 0;
            layout.stack_header = offset;
            break;
        case elf::PtTls:
            if (Result<void> noted = note_thread_local_template(layout, program, offset, size, base, diagnostic);
                !noted)
                return noted.error();
            break;
        default: break;  // PT_NOTE, PT_PHDR, PT_GNU_RELRO, PT_RISCV_ATTRIBUTES, ...: nothing to do
        }
    }
    if (layout.segment_count == 0) return fail(diagnostic, Error::Malformed, "no loadable segment", 0);
    return layout;
}

const LoadSegment* segment_containing(const LoadSegment* segments, size_t count, uint64_t address) {
    for (size_t index = 0; index < count; ++index)
        if (address >= segments[index].virtual_address &&
            address - segments[index].virtual_address < segments[index].memory_size)
            return &segments[index];
    return nullptr;
}

} // namespace detail

using namespace detail;

// ---- executables ----

Result<LoadPlan> plan_executable(const void* image, size_t size, Diagnostic& diagnostic, PlanOptions options) {
    const auto* bytes = static_cast<const uint8_t*>(image);
    Result<elf::FileHeader> header =
        read_file_header(bytes, size, elf::TypeExecutable, options.accept_position_independent, diagnostic);
    if (!header) return header.error();
    const bool position_independent = header->type == elf::TypeSharedObject;
    const uint64_t base = position_independent ? options.position_independent_base : 0;
    if (base % PageSize != 0)
        return fail(diagnostic, Error::InvalidArgument, "load base not page-aligned", 0);

    ImageLayout layout = TRY(read_layout(bytes, size, *header, base, diagnostic));
    if (layout.interpreter_header != 0)
        return fail(diagnostic, Error::Unsupported, "dynamically linked executable (PT_INTERP)",
                    layout.interpreter_header);
    if (layout.dynamic_header != 0 && !position_independent)
        return fail(diagnostic, Error::Unsupported, "dynamic section in a static executable (PT_DYNAMIC)",
                    layout.dynamic_header);
    if (layout.executable_stack)
        return fail(diagnostic, Error::Unsupported, "executable stack requested", layout.stack_header);

    LoadPlan plan;
    plan.lowest_address = ~uint64_t{0};
    for (size_t index = 0; index < layout.segment_count; ++index) {
        const LoadSegment& segment = layout.segments[index];
        const uint64_t end = segment.virtual_address + segment.memory_size;  // checked in check_load_segment
        if (segment.virtual_address < UserBase)
            return fail(diagnostic, Error::Malformed, "segment below the lowest user address (page 0)",
                        layout.segment_headers[index]);
        if (end > UserLimit)
            return fail(diagnostic, Error::Malformed, "segment outside the user address range",
                        layout.segment_headers[index]);
        plan.segments[index] = segment;
        if (page_round_down(segment.virtual_address) < plan.lowest_address)
            plan.lowest_address = page_round_down(segment.virtual_address);
        if (page_round_up(end) > plan.highest_address) plan.highest_address = page_round_up(end);
    }
    plan.segment_count = layout.segment_count;

    uint64_t entry = 0;
    const LoadSegment* entry_segment = nullptr;
    if (add_checked(header->entry, base, entry))
        entry_segment = segment_containing(plan.segments, plan.segment_count, entry);
    if (entry_segment == nullptr || !entry_segment->execute)
        return fail(diagnostic, Error::Malformed, "entry point not in an executable segment", 24);
    plan.entry = entry;

    const ThreadLocalTemplate& tls = layout.thread_local_template;
    if (tls.present && tls.file_size > 0) {
        const LoadSegment* holder = segment_containing(plan.segments, plan.segment_count, tls.virtual_address);
        const uint64_t inside = holder == nullptr ? 0 : tls.virtual_address - holder->virtual_address;
        if (holder == nullptr || inside > holder->file_size || tls.file_size > holder->file_size - inside ||
            tls.file_offset != holder->file_offset + inside)
            return fail(diagnostic, Error::Malformed, "TLS template outside the loaded file data",
                        layout.thread_local_header);
    }
    plan.thread_local_template = tls;

    plan.program_header_count = header->program_header_count;
    plan.program_header_entry_size = header->program_header_entry_size;
    const uint64_t table_size = uint64_t{header->program_header_count} * header->program_header_entry_size;
    for (size_t index = 0; index < plan.segment_count; ++index) {
        const LoadSegment& segment = plan.segments[index];
        if (header->program_header_offset < segment.file_offset ||
            header->program_header_offset - segment.file_offset > segment.file_size ||
            table_size > segment.file_size - (header->program_header_offset - segment.file_offset))
            continue;
        plan.program_header_address = segment.virtual_address + (header->program_header_offset - segment.file_offset);
        break;
    }
    return plan;
}

} // namespace kernel::exec
