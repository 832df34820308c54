// The built vDSO image (riscv build: vdso/vdso.so) read with the kernel's own ELF reader: every name of
// vdso/vdso.map is exported as a function at COKERNEL_1.0, nothing else is exported, and the image is
// hermetic (one R-X segment at 0, nothing writable, no dynamic relocation).
#include <catch2/catch.hpp>

#include <cstring>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "kernel/exec/elf.hpp"
#include "vdso/vdso_api.h"

using namespace kernel;
using namespace kernel::exec;

namespace {

std::vector<uint8_t> read_file(const char* path) {
    std::ifstream file(path, std::ios::binary);
    INFO("reading " << path << " (built by the riscv external project)");
    REQUIRE(file);
    return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
}

// The names between "global:" and "local:" of the version script.
std::set<std::string> exported_names_in_version_script() {
    std::ifstream file(VDSO_VERSION_SCRIPT);
    REQUIRE(file);
    std::stringstream text;
    text << file.rdbuf();
    std::string script = text.str();
    size_t start = script.find("global:");
    size_t end = script.find("local:");
    REQUIRE(start != std::string::npos);
    REQUIRE(end != std::string::npos);
    std::set<std::string> names;
    std::stringstream list(script.substr(start + 7, end - start - 7));
    for (std::string name; std::getline(list, name, ';');) {
        name.erase(0, name.find_first_not_of(" \n\t"));
        name.erase(name.find_last_not_of(" \n\t") + 1);
        if (!name.empty()) names.insert(name);
    }
    return names;
}

SharedObject open_image(const std::vector<uint8_t>& image) {
    Diagnostic diagnostic;
    Result<SharedObject> object = open_shared_object(image.data(), image.size(), diagnostic);
    INFO((diagnostic.message ? diagnostic.message : "") << " at " << diagnostic.offset);
    REQUIRE(object);
    return *object;
}

// Global function symbols of .dynsym, read directly from the table open_shared_object located.
std::set<std::string> exported_functions(const SharedObject& object) {
    std::set<std::string> names;
    for (uint64_t i = 1; i < object.symbol_count; ++i) {
        elf::Symbol symbol;
        std::memcpy(&symbol, object.image + object.symbol_table + i * sizeof(symbol), sizeof(symbol));
        if ((symbol.info >> 4) != elf::BindGlobal || symbol.section_index == elf::SectionUndefined) continue;
        if ((symbol.info & 0xf) != elf::TypeFunction) continue;
        names.insert(reinterpret_cast<const char*>(object.image + object.string_table + symbol.name));
    }
    return names;
}

} // namespace

TEST_CASE("the vDSO image is hermetic: one R-X segment at 0, nothing writable, no relocation", "[vdso][image]") {
    const std::vector<uint8_t> image = read_file(VDSO_IMAGE);
    const SharedObject object = open_image(image);
    CHECK_FALSE(has_writable_segment(object));
    CHECK(dynamic_relocation_count(object) == 0);
    CHECK_FALSE(object.has_text_relocations);
    REQUIRE(object.segment_count == 1);
    CHECK(object.segments[0].virtual_address == 0);
    CHECK(object.segments[0].file_offset == 0);
    CHECK(object.segments[0].file_size == object.segments[0].memory_size);
    CHECK(object.segments[0].execute);
    CHECK_FALSE(object.segments[0].write);
    CHECK(object.has_version_symbols);
}

TEST_CASE("every name of vdso.map is a function at COKERNEL_1.0, and nothing else is exported", "[vdso][image]") {
    const std::vector<uint8_t> image = read_file(VDSO_IMAGE);
    const SharedObject object = open_image(image);
    const std::set<std::string> names = exported_names_in_version_script();
    CHECK(names.size() >= 20);
    for (const std::string& name : names) {
        INFO(name);
        Result<uint64_t> versioned = find_symbol(object, name.c_str(), COKERNEL_VDSO_VERSION);
        REQUIRE(versioned);
        CHECK(*versioned >= object.segments[0].virtual_address);
        CHECK(*versioned < object.segments[0].virtual_address + object.segments[0].memory_size);
        Result<uint64_t> default_version = find_symbol(object, name.c_str(), nullptr);
        REQUIRE(default_version);
        CHECK(*default_version == *versioned);
        CHECK_FALSE(find_symbol(object, name.c_str(), "COKERNEL_0.9"));
    }
    CHECK(exported_functions(object) == names);
    // Internal C++ functions stay hidden.
    CHECK_FALSE(find_symbol(object, "_ZN4vdso13executor_initERNS_13ExecutorStateEPNS_12ControlBlockEj", nullptr));
}
