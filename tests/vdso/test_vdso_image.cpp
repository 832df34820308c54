// The built vDSO image (riscv build: vdso/vdso.so) read with the kernel's own ELF reader: every name of
// vdso/vdso.map is exported as a function at its version node, nothing else is exported, and the image is
// hermetic (one R-X segment at 0, nothing writable, no dynamic relocation).
#include <catch2/catch.hpp>

#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
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

// Every exported name of the version script with its version node. The script is a list of
// `NODE { global: a; b; [local: *;] } [PARENT];` (comments removed first).
std::map<std::string, std::string> exported_names_in_version_script() {
    std::ifstream file(VDSO_VERSION_SCRIPT);
    REQUIRE(file);
    std::stringstream text;
    text << file.rdbuf();
    std::string script = text.str();
    for (size_t comment; (comment = script.find("/*")) != std::string::npos;)
        script.erase(comment, script.find("*/", comment) + 2 - comment);
    auto trim = [](std::string word) {
        word.erase(0, word.find_first_not_of(" \n\t"));
        word.erase(word.find_last_not_of(" \n\t") + 1);
        return word;
    };
    std::map<std::string, std::string> names;
    size_t position = 0;
    for (size_t open; (open = script.find('{', position)) != std::string::npos;) {
        size_t close = script.find('}', open);
        REQUIRE(close != std::string::npos);
        size_t node_start = script.rfind(';', open);
        std::string node = trim(script.substr(node_start == std::string::npos ? 0 : node_start + 1,
                                              open - (node_start == std::string::npos ? 0 : node_start + 1)));
        std::string body = script.substr(open + 1, close - open - 1);
        size_t global = body.find("global:");
        REQUIRE(global != std::string::npos);
        size_t local = body.find("local:");
        std::stringstream list(body.substr(global + 7, (local == std::string::npos ? body.size() : local) - global - 7));
        for (std::string name; std::getline(list, name, ';');)
            if (!trim(name).empty()) names[trim(name)] = node;
        position = script.find(';', close) + 1;
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

TEST_CASE("every name of vdso.map is a function at its version, and nothing else is exported", "[vdso][image]") {
    const std::vector<uint8_t> image = read_file(VDSO_IMAGE);
    const SharedObject object = open_image(image);
    const std::map<std::string, std::string> names = exported_names_in_version_script();
    CHECK(names.size() >= 20);
    CHECK(names.at("cokernel_executor_spawn") == COKERNEL_VDSO_VERSION);
    CHECK(names.at("cokernel_user_interrupt_entry") == COKERNEL_VDSO_VERSION_1_1);
    CHECK(names.at("cokernel_user_interrupt_upcall_entry") == COKERNEL_VDSO_VERSION_1_2);
    std::set<std::string> all;
    for (const auto& [name, version] : names) {
        INFO(name << " at " << version);
        all.insert(name);
        Result<uint64_t> versioned = find_symbol(object, name.c_str(), version.c_str());
        REQUIRE(versioned);
        CHECK(*versioned >= object.segments[0].virtual_address);
        CHECK(*versioned < object.segments[0].virtual_address + object.segments[0].memory_size);
        Result<uint64_t> default_version = find_symbol(object, name.c_str(), nullptr);
        REQUIRE(default_version);
        CHECK(*default_version == *versioned);
        CHECK_FALSE(find_symbol(object, name.c_str(), "COKERNEL_0.9"));
    }
    CHECK(exported_functions(object) == all);
    // Internal C++ functions stay hidden.
    CHECK_FALSE(find_symbol(object, "_ZN4vdso13executor_initERNS_13ExecutorStateEPNS_12ControlBlockEj", nullptr));
    CHECK_FALSE(find_symbol(object, "vdso_async_call_arm", nullptr));
}
