// open_shared_object / find_symbol on real riscv64 shared objects shaped like the vDSO.
#include <catch2/catch.hpp>

#include <string>

#include "exec_test_support.hpp"
#include "kernel/exec/elf.hpp"

using namespace kernel;
using namespace kernel::exec;
using namespace exec_test;

namespace {

SharedObject open_or_fail(const Bytes& image) {
    Diagnostic diagnostic;
    Result<SharedObject> object = open_shared_object(image.data(), image.size(), diagnostic);
    INFO((diagnostic.message ? diagnostic.message : "") << " at " << diagnostic.offset);
    REQUIRE(object);
    return *object;
}

// The value readelf would show for `name`, found independently of find_symbol through the raw symbol table.
uint64_t expect_symbol(const SharedObject& object, const char* name, const char* version) {
    Result<uint64_t> value = find_symbol(object, name, version);
    INFO(name << "@" << (version ? version : "(any)"));
    REQUIRE(value);
    return *value;
}

} // namespace

TEST_CASE("clean shared objects open, with either hash table style", "[elf][shared]") {
    const char* file = GENERATE("clean_sysv.so", "clean_gnu.so");
    INFO(file);
    const Bytes image = read_test_file(file);
    const SharedObject object = open_or_fail(image);

    CHECK(object.segment_count == 1);
    CHECK(object.segments[0].virtual_address == 0);
    CHECK(object.segments[0].file_offset == 0);
    CHECK(object.segments[0].execute);
    CHECK(object.highest_address % PageSize == 0);
    CHECK(object.symbol_count == 9);  // null, .rodata section, 5 functions/objects, 2 version names
    CHECK(object.has_version_symbols);
    CHECK(object.version_definition_count == 3);  // the base (file name), COKERNEL_1.0, COKERNEL_1.1
    CHECK_FALSE(has_writable_segment(object));
    CHECK(dynamic_relocation_count(object) == 0);
}

TEST_CASE("find_symbol by name and by version", "[elf][shared]") {
    const char* file = GENERATE("clean_sysv.so", "clean_gnu.so");
    INFO(file);
    const Bytes image = read_test_file(file);
    const SharedObject object = open_or_fail(image);

    const uint64_t yield = expect_symbol(object, "cokernel_yield", nullptr);
    CHECK(expect_symbol(object, "cokernel_yield", "COKERNEL_1.0") == yield);
    const uint64_t spawn = expect_symbol(object, "cokernel_spawn", "COKERNEL_1.0");
    CHECK(spawn != yield);
    CHECK(yield < object.segments[0].memory_size);
    const uint64_t version = expect_symbol(object, "cokernel_abi_version", "COKERNEL_1.0");  // STT_OBJECT
    CHECK(version < object.segments[0].memory_size);
    // The data symbol really holds the constant 3 at that offset (file offset == address here).
    CHECK(read_at<int64_t>(image, version) == 3);

    SECTION("a symbol with two versions: the default one unless the old one is asked for") {
        const uint64_t current = expect_symbol(object, "cokernel_poll", nullptr);
        CHECK(expect_symbol(object, "cokernel_poll", "COKERNEL_1.1") == current);
        const uint64_t old = expect_symbol(object, "cokernel_poll", "COKERNEL_1.0");
        CHECK(old != current);
    }
    SECTION("a wrong version fails") {
        CHECK(find_symbol(object, "cokernel_yield", "COKERNEL_1.1").error() == Error::NotFound);
        CHECK(find_symbol(object, "cokernel_yield", "COKERNEL_2.0").error() == Error::NotFound);
        CHECK(find_symbol(object, "cokernel_yield", "").error() == Error::NotFound);
        CHECK(find_symbol(object, "cokernel_yield", "COKERNEL_1.").error() == Error::NotFound);
    }
    SECTION("absent, local and special symbols are not returned") {
        CHECK(find_symbol(object, "cokernel_internal_helper", nullptr).error() == Error::NotFound);  // local: *
        CHECK(find_symbol(object, "cokernel_missing", nullptr).error() == Error::NotFound);
        CHECK(find_symbol(object, "COKERNEL_1.0", nullptr).error() == Error::NotFound);  // SHN_ABS version symbol
        CHECK(find_symbol(object, ".rodata", nullptr).error() == Error::NotFound);       // section symbol
        CHECK(find_symbol(object, "", nullptr).error() == Error::NotFound);              // the null symbol
        CHECK(find_symbol(object, "cokernel_yiel", nullptr).error() == Error::NotFound);
        CHECK(find_symbol(object, "cokernel_yield_", nullptr).error() == Error::NotFound);
        CHECK(find_symbol(object, nullptr, nullptr).error() == Error::InvalidArgument);
    }
}

TEST_CASE("a shared object with writable data and relocations is reported as such", "[elf][shared]") {
    const Bytes image = read_test_file("writable.so");
    const SharedObject object = open_or_fail(image);
    CHECK(object.segment_count == 2);
    CHECK(has_writable_segment(object));
    CHECK(dynamic_relocation_count(object) == 2);  // R_RISCV_64 for the counter, JUMP_SLOT for the import
    CHECK(expect_symbol(object, "cokernel_counter", "COKERNEL_1.0") >= object.segments[1].virtual_address);
    CHECK(expect_symbol(object, "cokernel_count", nullptr) < object.segments[0].memory_size);
    // cokernel_missing is an undefined import: never returned as a definition.
    CHECK(find_symbol(object, "cokernel_missing", nullptr).error() == Error::NotFound);
}

TEST_CASE("open_shared_object refuses executables and malformed dynamic sections", "[elf][shared]") {
    Diagnostic diagnostic;
    SECTION("an executable is not a shared object") {
        const Bytes image = read_test_file("program.elf");
        CHECK(open_shared_object(image.data(), image.size(), diagnostic).error() == Error::Unsupported);
        CHECK(std::string(diagnostic.message) == "wrong ELF file type");
    }
    SECTION("a shared object is not an executable") {
        const Bytes image = read_test_file("clean_gnu.so");
        CHECK(plan_executable(image.data(), image.size(), diagnostic).error() == Error::Unsupported);
    }

    Bytes image = read_test_file("clean_gnu.so");
    auto patch_dynamic = [&](int64_t tag, uint64_t value) {
        const size_t offset = find_dynamic_entry(image, tag);
        REQUIRE(offset != 0);
        write_at(image, offset + 8, value);
    };
    auto refused_with = [&](const char* message) {
        Result<SharedObject> object = open_shared_object(image.data(), image.size(), diagnostic);
        REQUIRE_FALSE(object);
        REQUIRE(diagnostic.message != nullptr);
        CHECK(std::string(diagnostic.message) == message);
    };
    SECTION("symbol table outside the file") {
        patch_dynamic(elf::DtSymbolTable, 0x100000);
        refused_with("symbol table outside the file");
    }
    SECTION("string table size past the segment") {
        patch_dynamic(elf::DtStringSize, 0x100000);
        refused_with("string table outside the file");
    }
    SECTION("GNU hash table outside the file") {
        patch_dynamic(elf::DtGnuHash, ~uint64_t{0} - 4);
        refused_with("GNU hash table outside the file");
    }
    SECTION("version symbols outside the file") {
        patch_dynamic(elf::DtVersionSymbols, image.size() - 2);
        refused_with("version symbol table outside the file");
    }
    SECTION("huge version definition count") {
        patch_dynamic(elf::DtVersionDefinitionCount, ~uint64_t{0});
        refused_with("bad version definition");
    }
    SECTION("version definition name outside the string table") {
        const uint64_t definitions = read_at<uint64_t>(image, find_dynamic_entry(image, elf::DtVersionDefinitions) + 8);
        const auto definition = read_at<elf::VersionDefinition>(image, definitions);  // address == file offset here
        write_at<uint32_t>(image, definitions + definition.aux_offset, 0xffffff);
        refused_with("bad version definition");
    }
    SECTION("version symbol index without a definition") {
        const uint64_t versions = read_at<uint64_t>(image, find_dynamic_entry(image, elf::DtVersionSymbols) + 8);
        const SharedObject before = open_or_fail(image);
        for (uint64_t index = 1; index < before.symbol_count; ++index) write_at<uint16_t>(image, versions + index * 2, 9);
        const SharedObject object = open_or_fail(image);
        CHECK(find_symbol(object, "cokernel_yield", "COKERNEL_1.0").error() == Error::NotFound);
        CHECK(find_symbol(object, "cokernel_yield", nullptr));  // default (not hidden) version 9
    }
    SECTION("bad symbol entry size") {
        patch_dynamic(elf::DtSymbolEntrySize, 16);
        refused_with("bad symbol entry size");
    }
    SECTION("dynamic section without DT_NULL") {
        const size_t program = find_program_header(image, elf::PtDynamic);
        auto dynamic = read_at<elf::ProgramHeader>(image, program);
        const size_t null_entry = find_dynamic_entry(image, elf::DtNull);
        dynamic.file_size = null_entry - dynamic.offset;  // cut off at the terminator
        write_at(image, program, dynamic);
        refused_with("dynamic section not terminated");
    }
    SECTION("no hash table at all") {
        write_at<int64_t>(image, find_dynamic_entry(image, elf::DtGnuHash), 0x6fffffff);  // an unknown tag
        refused_with("no symbol hash table");
    }
    SECTION("no dynamic section") {
        const size_t program = find_program_header(image, elf::PtDynamic);
        write_at<uint32_t>(image, program, 4);  // now a PT_NOTE
        refused_with("no dynamic section");
    }
    SECTION("a dynamic relocation entry counts even with a bogus entry size") {
        patch_dynamic(elf::DtRelaSize, 24);
        patch_dynamic(elf::DtRelaEntrySize, 0);
        const SharedObject object = open_or_fail(image);
        CHECK(dynamic_relocation_count(object) == 24);
    }
}

TEST_CASE("a versioned lookup in an object without version tables fails", "[elf][shared]") {
    Bytes image = read_test_file("clean_sysv.so");
    // Turn DT_VERSYM and DT_VERDEF into unknown tags: the object is then unversioned.
    write_at<int64_t>(image, find_dynamic_entry(image, elf::DtVersionSymbols), 0x6fffffff);
    write_at<int64_t>(image, find_dynamic_entry(image, elf::DtVersionDefinitions), 0x6fffffff);
    const SharedObject object = open_or_fail(image);
    CHECK_FALSE(object.has_version_symbols);
    CHECK(find_symbol(object, "cokernel_yield", nullptr));
    CHECK(find_symbol(object, "cokernel_yield", "COKERNEL_1.0").error() == Error::NotFound);
}
