// plan_executable: a real static riscv64 program, then one synthetic image per rule it enforces.
#include <catch2/catch.hpp>

#include <cstring>
#include <string>

#include "exec_test_support.hpp"
#include "kernel/exec/elf.hpp"

using namespace kernel;
using namespace kernel::exec;
using namespace exec_test;

namespace {

// Plans `image` expecting failure with `error` and `message`; returns the diagnostic.
Diagnostic expect_refused(const Bytes& image, Error error, const char* message, PlanOptions options = {}) {
    Diagnostic diagnostic;
    Result<LoadPlan> plan = plan_executable(image.data(), image.size(), diagnostic, options);
    REQUIRE_FALSE(plan);
    CHECK(plan.error() == error);
    REQUIRE(diagnostic.message != nullptr);
    CHECK(std::string(diagnostic.message) == message);
    return diagnostic;
}

LoadPlan expect_planned(const Bytes& image, PlanOptions options = {}) {
    Diagnostic diagnostic;
    Result<LoadPlan> plan = plan_executable(image.data(), image.size(), diagnostic, options);
    INFO((diagnostic.message ? diagnostic.message : "") << " at " << diagnostic.offset);
    REQUIRE(plan);
    return *plan;
}

} // namespace

TEST_CASE("a real static riscv64 executable is planned", "[elf][executable]") {
    const Bytes image = read_test_file("program.elf");
    const auto header = read_at<elf::FileHeader>(image, 0);
    const LoadPlan plan = expect_planned(image);

    CHECK(plan.entry == header.entry);
    REQUIRE(plan.segment_count == 2);  // text and data; RISCV_ATTRIBUTES, TLS, GNU_STACK, RELRO are not loaded
    const LoadSegment& text = plan.segments[0];
    const LoadSegment& data = plan.segments[1];
    CHECK(text.read);
    CHECK(text.execute);
    CHECK_FALSE(text.write);
    CHECK(data.read);
    CHECK(data.write);
    CHECK_FALSE(data.execute);
    CHECK(data.memory_size > data.file_size);  // .bss
    CHECK(plan.entry >= text.virtual_address);
    CHECK(plan.entry < text.virtual_address + text.memory_size);
    CHECK(plan.lowest_address == 0x10000);
    CHECK(plan.lowest_address % PageSize == 0);
    CHECK(plan.highest_address % PageSize == 0);
    CHECK(plan.highest_address >= data.virtual_address + data.memory_size);
    for (size_t index = 0; index < plan.segment_count; ++index) {
        const LoadSegment& segment = plan.segments[index];
        CHECK(segment.file_offset + segment.file_size <= image.size());
        CHECK(segment.virtual_address % PageSize == segment.file_offset % PageSize);
    }
    // The program has one __thread variable: its template is noted, inside the data segment's file part.
    REQUIRE(plan.thread_local_template.present);
    CHECK(plan.thread_local_template.file_size == 8);
    CHECK(plan.thread_local_template.virtual_address >= data.virtual_address);
}

TEST_CASE("the synthetic executable is planned exactly", "[elf][executable]") {
    const LoadPlan plan = expect_planned(minimal_executable().build());
    CHECK(plan.entry == 0x10100);
    REQUIRE(plan.segment_count == 2);
    CHECK(plan.segments[0].virtual_address == 0x10000);
    CHECK(plan.segments[0].file_size == 0x1000);
    CHECK(plan.segments[1].virtual_address == 0x11000);
    CHECK(plan.segments[1].file_offset == 0x1000);
    CHECK(plan.segments[1].file_size == 0x100);
    CHECK(plan.segments[1].memory_size == 0x2000);
    CHECK(plan.lowest_address == 0x10000);
    CHECK(plan.highest_address == 0x13000);
    CHECK_FALSE(plan.thread_local_template.present);
}

TEST_CASE("ELF identification and header fields are checked", "[elf][executable]") {
    SECTION("bad magic") {
        Bytes image = minimal_executable().build();
        image[1] = 'X';
        expect_refused(image, Error::Malformed, "not an ELF file");
    }
    SECTION("32-bit class") {
        ElfBuilder builder = minimal_executable();
        builder.header.identification[4] = 1;
        CHECK(expect_refused(builder.build(), Error::Unsupported, "not a 64-bit ELF file").offset == 4);
    }
    SECTION("big-endian") {
        ElfBuilder builder = minimal_executable();
        builder.header.identification[5] = 2;
        expect_refused(builder.build(), Error::Unsupported, "not a little-endian ELF file");
    }
    SECTION("version") {
        ElfBuilder builder = minimal_executable();
        builder.header.version = 2;
        expect_refused(builder.build(), Error::Unsupported, "unknown ELF version");
    }
    SECTION("machine x86-64") {
        ElfBuilder builder = minimal_executable();
        builder.header.machine = 62;
        expect_refused(builder.build(), Error::Unsupported, "not a RISC-V ELF file");
    }
    SECTION("relocatable object") {
        ElfBuilder builder = minimal_executable();
        builder.header.type = 1;
        expect_refused(builder.build(), Error::Unsupported, "wrong ELF file type");
    }
    SECTION("shared object without the option") {
        ElfBuilder builder = minimal_executable();
        builder.header.type = elf::TypeSharedObject;
        expect_refused(builder.build(), Error::Unsupported, "wrong ELF file type");
    }
    SECTION("bad e_ehsize") {
        ElfBuilder builder = minimal_executable();
        builder.header.header_size = 52;
        expect_refused(builder.build(), Error::Malformed, "bad ELF header size");
    }
    SECTION("bad e_phentsize") {
        ElfBuilder builder = minimal_executable();
        builder.header.program_header_entry_size = 32;
        expect_refused(builder.build(), Error::Malformed, "bad program header entry size");
    }
    SECTION("no program headers") {
        ElfBuilder builder = minimal_executable();
        builder.programs.clear();
        expect_refused(builder.build(), Error::Malformed, "no program headers");
    }
    SECTION("shorter than the header") {
        Bytes image = minimal_executable().build();
        image.resize(40);
        expect_refused(image, Error::Truncated, "file shorter than the ELF header");
    }
    SECTION("null image") {
        Diagnostic diagnostic;
        CHECK(plan_executable(nullptr, 100, diagnostic).error() == Error::InvalidArgument);
    }
}

TEST_CASE("program headers must lie inside the file", "[elf][executable]") {
    SECTION("offset past the end") {
        ElfBuilder builder = minimal_executable();
        Bytes image = builder.build();
        auto header = read_at<elf::FileHeader>(image, 0);
        header.program_header_offset = image.size() - 8;
        write_at(image, 0, header);
        expect_refused(image, Error::Truncated, "program headers outside the file");
    }
    SECTION("offset + count * size wraps around") {
        Bytes image = minimal_executable().build();
        auto header = read_at<elf::FileHeader>(image, 0);
        header.program_header_offset = ~uint64_t{0} - 16;
        write_at(image, 0, header);
        expect_refused(image, Error::Truncated, "program headers outside the file");
    }
    SECTION("table runs past the end") {
        Bytes image = minimal_executable().build();
        image.resize(sizeof(elf::FileHeader) + sizeof(elf::ProgramHeader) + 10);
        expect_refused(image, Error::Truncated, "program headers outside the file");
    }
    SECTION("huge entry size") {
        ElfBuilder builder = minimal_executable();
        builder.header.program_header_entry_size = 0xffff;
        expect_refused(builder.build(), Error::Truncated, "program headers outside the file");
    }
    SECTION("PN_XNUM") {
        Bytes image = minimal_executable().build();
        auto header = read_at<elf::FileHeader>(image, 0);
        header.program_header_count = 0xffff;
        write_at(image, 0, header);
        expect_refused(image, Error::Unsupported, "extended program header numbering");
    }
}

TEST_CASE("each loadable segment is checked", "[elf][executable]") {
    ElfBuilder builder = minimal_executable();
    elf::ProgramHeader& data = builder.programs[1];
    const uint64_t data_header = sizeof(elf::FileHeader) + sizeof(elf::ProgramHeader);

    SECTION("file size larger than memory size") {
        data.file_size = 0x3000;
        CHECK(expect_refused(builder.build(), Error::Malformed, "segment file size larger than memory size").offset ==
              data_header);
    }
    SECTION("file data past the end of the file") {
        data.file_size = 0x2001;
        data.memory_size = 0x3000;
        expect_refused(builder.build(), Error::Truncated, "segment outside the file");
    }
    SECTION("offset + file size wraps around") {
        data.offset = ~uint64_t{0} - 0xfff;  // same page offset as the address
        data.file_size = 0x2000;
        data.memory_size = 0x2000;
        expect_refused(builder.build(), Error::Truncated, "segment outside the file");
    }
    SECTION("address + memory size wraps around") {
        data.virtual_address = 0xfffffffffffff000;
        data.memory_size = 0x2000;
        expect_refused(builder.build(), Error::Malformed, "segment address range overflows");
    }
    SECTION("address in the kernel half") {
        data.virtual_address = 0xffffffc000001000;
        expect_refused(builder.build(), Error::Malformed, "segment outside the user address range");
    }
    SECTION("address in the top GiB of the user half (stack and vDSO)") {
        data.virtual_address = UserLimit - 0x1000;
        expect_refused(builder.build(), Error::Malformed, "segment outside the user address range");
    }
    SECTION("ends exactly at the user limit: accepted") {
        data.virtual_address = UserLimit - 0x2000;
        const LoadPlan plan = expect_planned(builder.build());
        CHECK(plan.highest_address == UserLimit);
    }
    SECTION("page 0") {
        data.virtual_address = 0;
        expect_refused(builder.build(), Error::Malformed, "segment below the lowest user address (page 0)");
    }
    SECTION("just below the user base") {
        data.virtual_address = UserBase - 0x1000;
        data.memory_size = 0x1000;
        expect_refused(builder.build(), Error::Malformed, "segment below the lowest user address (page 0)");
    }
    SECTION("address and offset not congruent modulo the page size") {
        data.virtual_address = 0x11100;
        expect_refused(builder.build(), Error::Malformed, "segment address and offset differ modulo the page size");
    }
    SECTION("alignment not a power of two") {
        data.alignment = 0x3000;
        expect_refused(builder.build(), Error::Malformed, "segment alignment not a power of two");
    }
    SECTION("address and offset not congruent modulo the alignment") {
        data.offset = 0x2000;
        data.alignment = 0x2000;
        expect_refused(builder.build(), Error::Malformed, "segment address and offset differ modulo its alignment");
    }
    SECTION("alignment 0 and 1 mean none") {
        data.alignment = 0;
        builder.programs[0].alignment = 1;
        CHECK(expect_planned(builder.build()).segment_count == 2);
    }
    SECTION("no permission at all (neither R, W nor X)") {
        data.flags = 0;
        CHECK(expect_refused(builder.build(), Error::Malformed, "segment with no permission").offset == data_header);
    }
    SECTION("writable and executable") {
        data.flags = elf::FlagRead | elf::FlagWrite | elf::FlagExecute;
        CHECK(expect_refused(builder.build(), Error::Malformed, "writable and executable segment").offset ==
              data_header);
    }
    SECTION("overlapping the previous segment") {
        data.virtual_address = 0x10000 + 0x800;
        data.offset = 0x800;
        expect_refused(builder.build(), Error::Malformed, "segment overlaps another");
    }
    SECTION("sharing a page with the previous segment after rounding") {
        builder.programs[0].file_size = builder.programs[0].memory_size = 0x800;
        data.virtual_address = 0x10000 + 0x800;
        data.offset = 0x800;
        data.memory_size = 0x100;
        expect_refused(builder.build(), Error::Malformed, "segment overlaps another");
    }
    SECTION("overlap regardless of order") {
        std::swap(builder.programs[0], builder.programs[1]);
        builder.programs[0].virtual_address = 0x10000;
        builder.programs[0].offset = 0x1000;
        expect_refused(builder.build(), Error::Malformed, "segment overlaps another");
    }
    SECTION("a zero-sized segment maps nothing and is skipped") {
        builder.programs.push_back(load_segment(0, 0x10000, 0, 0, elf::FlagRead));
        CHECK(expect_planned(builder.build()).segment_count == 2);
    }
    SECTION("no loadable segment") {
        builder.programs.clear();
        builder.programs.push_back({elf::PtGnuStack, elf::FlagRead | elf::FlagWrite, 0, 0, 0, 0, 0, 16});
        expect_refused(builder.build(), Error::Malformed, "no loadable segment");
    }
}

TEST_CASE("segment count is limited to MaxSegments", "[elf][executable]") {
    ElfBuilder builder = minimal_executable();
    builder.programs.pop_back();
    builder.file_size = 0x20000;
    for (uint64_t index = 1; index < MaxSegments; ++index)
        builder.programs.push_back(load_segment(index * 0x1000, 0x10000 + index * 0x1000, 0x10, 0x10, elf::FlagRead));
    CHECK(expect_planned(builder.build()).segment_count == MaxSegments);
    builder.programs.push_back(load_segment(0x10000, 0x20000, 0x10, 0x10, elf::FlagRead));
    expect_refused(builder.build(), Error::Unsupported, "too many loadable segments");
}

TEST_CASE("the entry point must be in an executable segment", "[elf][executable]") {
    ElfBuilder builder = minimal_executable();
    SECTION("in the data segment") {
        builder.header.entry = 0x11000;
        CHECK(expect_refused(builder.build(), Error::Malformed, "entry point not in an executable segment").offset ==
              24);
    }
    SECTION("past the text segment") {
        builder.header.entry = 0x10000 + 0x1000;
        expect_refused(builder.build(), Error::Malformed, "entry point not in an executable segment");
    }
    SECTION("unmapped") {
        builder.header.entry = 0x400000;
        expect_refused(builder.build(), Error::Malformed, "entry point not in an executable segment");
    }
    SECTION("zero") {
        builder.header.entry = 0;
        expect_refused(builder.build(), Error::Malformed, "entry point not in an executable segment");
    }
    SECTION("last byte of the text segment") {
        builder.header.entry = 0x10fff;
        CHECK(expect_planned(builder.build()).entry == 0x10fff);
    }
}

TEST_CASE("dynamic linking and executable stacks are refused", "[elf][executable]") {
    ElfBuilder builder = minimal_executable();
    SECTION("PT_INTERP") {
        builder.programs.push_back({elf::PtInterp, elf::FlagRead, 0x200, 0x10200, 0x10200, 0x20, 0x20, 1});
        const uint64_t header = sizeof(elf::FileHeader) + 2 * sizeof(elf::ProgramHeader);
        CHECK(expect_refused(builder.build(), Error::Unsupported, "dynamically linked executable (PT_INTERP)")
                  .offset == header);
    }
    SECTION("PT_DYNAMIC") {
        builder.programs.push_back({elf::PtDynamic, elf::FlagRead, 0x1000, 0x11000, 0x11000, 0x40, 0x40, 8});
        expect_refused(builder.build(), Error::Unsupported, "dynamic section in a static executable (PT_DYNAMIC)");
    }
    SECTION("executable stack") {
        builder.programs.push_back({elf::PtGnuStack, elf::FlagRead | elf::FlagWrite | elf::FlagExecute, 0, 0, 0, 0, 0, 16});
        expect_refused(builder.build(), Error::Unsupported, "executable stack requested");
    }
    SECTION("non-executable stack is fine") {
        builder.programs.push_back({elf::PtGnuStack, elf::FlagRead | elf::FlagWrite, 0, 0, 0, 0, 0, 16});
        CHECK(expect_planned(builder.build()).segment_count == 2);
    }
    SECTION("unknown types are ignored") {
        builder.programs.push_back({0x70000003, elf::FlagRead, 0x10, 0, 0, 0x10, 0, 1});  // RISCV_ATTRIBUTES
        builder.programs.push_back({4, elf::FlagRead, 0x20, 0x10020, 0x10020, 0x10, 0x10, 4});  // PT_NOTE
        CHECK(expect_planned(builder.build()).segment_count == 2);
    }
}

TEST_CASE("PT_TLS is noted and checked", "[elf][executable]") {
    ElfBuilder builder = minimal_executable();
    SECTION("inside the data segment's file part") {
        builder.programs.push_back({elf::PtTls, elf::FlagRead, 0x1010, 0x11010, 0x11010, 0x20, 0x40, 16});
        const LoadPlan plan = expect_planned(builder.build());
        REQUIRE(plan.thread_local_template.present);
        CHECK(plan.thread_local_template.virtual_address == 0x11010);
        CHECK(plan.thread_local_template.file_offset == 0x1010);
        CHECK(plan.thread_local_template.file_size == 0x20);
        CHECK(plan.thread_local_template.memory_size == 0x40);
        CHECK(plan.thread_local_template.alignment == 16);
    }
    SECTION("template beyond the loaded file data") {
        builder.programs.push_back({elf::PtTls, elf::FlagRead, 0x1200, 0x11200, 0x11200, 0x20, 0x40, 16});
        expect_refused(builder.build(), Error::Malformed, "TLS template outside the loaded file data");
    }
    SECTION("two TLS segments") {
        builder.programs.push_back({elf::PtTls, elf::FlagRead, 0x1010, 0x11010, 0x11010, 0x20, 0x40, 16});
        builder.programs.push_back({elf::PtTls, elf::FlagRead, 0x1010, 0x11010, 0x11010, 0x20, 0x40, 16});
        expect_refused(builder.build(), Error::Malformed, "more than one TLS segment");
    }
    SECTION("file size larger than memory size") {
        builder.programs.push_back({elf::PtTls, elf::FlagRead, 0x1010, 0x11010, 0x11010, 0x40, 0x20, 16});
        expect_refused(builder.build(), Error::Malformed, "bad TLS segment");
    }
}

TEST_CASE("position-independent executables only with the option", "[elf][executable]") {
    ElfBuilder builder = minimal_executable();
    builder.header.type = elf::TypeSharedObject;
    builder.header.entry = 0x100;
    builder.programs[0].virtual_address = 0;
    builder.programs[1].virtual_address = 0x1000;
    builder.programs.push_back({elf::PtDynamic, elf::FlagRead, 0x1000, 0x1000, 0x1000, 0x40, 0x40, 8});
    const Bytes image = builder.build();

    expect_refused(image, Error::Unsupported, "wrong ELF file type");
    PlanOptions options;
    options.accept_position_independent = true;
    options.position_independent_base = 0x400000;
    const LoadPlan plan = expect_planned(image, options);
    CHECK(plan.entry == 0x400100);
    CHECK(plan.segments[0].virtual_address == 0x400000);
    CHECK(plan.segments[1].virtual_address == 0x401000);
    CHECK(plan.lowest_address == 0x400000);

    options.position_independent_base = 0;  // would put the text in page 0
    expect_refused(image, Error::Malformed, "segment below the lowest user address (page 0)", options);
    options.position_independent_base = 0x400800;
    expect_refused(image, Error::InvalidArgument, "load base not page-aligned", options);
    options.position_independent_base = 0xfffffffffffff000;
    expect_refused(image, Error::Malformed, "segment address range overflows", options);
}
