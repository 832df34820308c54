// The cpio newc reader: archives made by GNU cpio, synthetic archives (for "./" names and exact
// corruptions), every truncation and seeded random corruptions.
#include <catch2/catch.hpp>

#include <cstdio>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "exec_test_support.hpp"
#include "kernel/exec/cpio.hpp"

using namespace kernel;
using namespace kernel::exec;
using namespace kernel::exec::cpio;
using namespace exec_test;

namespace {

struct Member {
    std::string name;
    uint32_t mode;
    std::string data;
};

constexpr uint32_t FileMode = 0100644, DirectoryMode = 0040755;

// A newc archive as cpio(5) describes it, padded to 512 bytes like GNU cpio's output.
Bytes build_archive(const std::vector<Member>& members, bool with_trailer = true, const char* magic = "070701") {
    Bytes bytes;
    auto append_entry = [&](const std::string& name, uint32_t mode, const std::string& data) {
        char header[111];
        std::snprintf(header, sizeof header, "%s%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X", magic,
                      1u, mode, 0u, 0u, 1u, 0u, static_cast<unsigned>(data.size()), 0u, 0u, 0u, 0u,
                      static_cast<unsigned>(name.size() + 1), 0u);
        bytes.insert(bytes.end(), header, header + 110);
        bytes.insert(bytes.end(), name.begin(), name.end());
        bytes.push_back(0);
        while (bytes.size() % 4 != 0) bytes.push_back(0);
        bytes.insert(bytes.end(), data.begin(), data.end());
        while (bytes.size() % 4 != 0) bytes.push_back(0);
    };
    for (const Member& member : members) append_entry(member.name, member.mode, member.data);
    if (with_trailer) append_entry("TRAILER!!!", 0, "");
    while (bytes.size() % 512 != 0) bytes.push_back(0);
    return bytes;
}

Archive open_or_fail(const Bytes& bytes) {
    Diagnostic diagnostic;
    Result<Archive> archive = Archive::open(bytes.data(), bytes.size(), diagnostic);
    INFO((diagnostic.message ? diagnostic.message : "") << " at " << diagnostic.offset);
    REQUIRE(archive);
    return *archive;
}

Diagnostic expect_refused(const Bytes& bytes, Error error, const char* message) {
    Diagnostic diagnostic;
    Result<Archive> archive = Archive::open(bytes.data(), bytes.size(), diagnostic);
    REQUIRE_FALSE(archive);
    CHECK(archive.error() == error);
    REQUIRE(diagnostic.message != nullptr);
    CHECK(std::string(diagnostic.message) == message);
    return diagnostic;
}

std::string contents(const Entry& entry) { return std::string(reinterpret_cast<const char*>(entry.data), entry.size); }

// A heap copy of exactly `length` bytes, so that AddressSanitizer sees any read past the end.
std::unique_ptr<uint8_t[]> exact_copy(const Bytes& bytes, size_t length) {
    std::unique_ptr<uint8_t[]> copy(new uint8_t[length ? length : 1]);
    std::memcpy(copy.get(), bytes.data(), length);
    return copy;
}

// Every reader operation on an opened archive stays inside it.
void exercise(const Archive& archive, const uint8_t* base, size_t size) {
    auto inside = [&](const void* pointer, size_t length) {
        const auto* bytes = static_cast<const uint8_t*>(pointer);
        return bytes >= base && bytes <= base + size && length <= static_cast<size_t>(base + size - bytes);
    };
    Result<void> walked = archive.for_each_entry([&](const Entry& entry) {
        REQUIRE(inside(entry.name, entry.name_length + 1));
        REQUIRE(entry.name[entry.name_length] == '\0');
        REQUIRE(inside(entry.data, entry.size));
        REQUIRE(entry.next_offset > entry.header_offset);
        return true;
    });
    REQUIRE(walked);
    for (const char* path : {"bin/init", "./etc/motd", "/etc/empty", "missing"}) {
        Result<Entry> entry = archive.find(path);
        if (entry) REQUIRE(inside(entry->data, entry->size));
    }
}

} // namespace

TEST_CASE("an archive made by cpio -o -H newc is read", "[cpio]") {
    const char* file = GENERATE("archive_newc.cpio", "archive_crc.cpio");
    INFO(file);
    const Bytes bytes = read_test_file(file);
    const Archive archive = open_or_fail(bytes);
    const Bytes program = read_test_file("program.elf");

    Result<Entry> init = archive.find("bin/init");
    REQUIRE(init);
    CHECK(init->is_regular_file());
    CHECK_FALSE(init->is_directory());
    CHECK(std::string(init->name) == "bin/init");
    CHECK(init->name_length == 8);
    REQUIRE(init->size == program.size());
    CHECK(std::memcmp(init->data, program.data(), program.size()) == 0);
    CHECK((init->mode & 0777) == 0755);

    REQUIRE(archive.find("etc/motd"));
    CHECK(contents(*archive.find("etc/motd")) == "welcome to cokernel\n");
    CHECK(contents(*archive.find("etc/three_bytes")) == "abc");  // data that needs padding
    CHECK(archive.find("etc/empty")->size == 0);
    CHECK(archive.find("etc/empty")->is_regular_file());
    CHECK(archive.find("empty_directory")->is_directory());
    CHECK(archive.find("etc")->is_directory());
    CHECK_FALSE(archive.find("etc")->is_regular_file());

    SECTION("a leading ./ or / in the path is ignored") {
        CHECK(archive.find("./etc/motd")->size == 20);
        CHECK(archive.find("/etc/motd")->size == 20);
        CHECK(archive.find(".//etc/motd")->size == 20);
    }
    SECTION("absent names and prefixes are not found") {
        CHECK(archive.find("etc/mot").error() == Error::NotFound);
        CHECK(archive.find("etc/motd/").error() == Error::NotFound);
        CHECK(archive.find("motd").error() == Error::NotFound);
        CHECK(archive.find("TRAILER!!!").error() == Error::NotFound);
        CHECK(archive.find(nullptr).error() == Error::InvalidArgument);
    }
    SECTION("for_each_file visits the regular files in order") {
        std::vector<std::string> files;
        REQUIRE(archive.for_each_file([&](const Entry& entry) {
            files.emplace_back(entry.name, entry.name_length);
            return true;
        }));
        CHECK(files == std::vector<std::string>{"bin/init", "etc/empty", "etc/motd", "etc/three_bytes"});
    }
    SECTION("for_each_entry visits directories too, and stops when asked") {
        std::vector<std::string> names;
        REQUIRE(archive.for_each_entry([&](const Entry& entry) {
            names.emplace_back(entry.name);
            return true;
        }));
        CHECK(names == std::vector<std::string>{".", "bin", "bin/init", "empty_directory", "etc", "etc/empty",
                                                "etc/motd", "etc/three_bytes"});
        int visited = 0;
        REQUIRE(archive.for_each_entry([&](const Entry&) { return ++visited < 3; }));
        CHECK(visited == 3);
    }
}

TEST_CASE("names with a leading ./ are found with or without it", "[cpio]") {
    const Bytes bytes = build_archive({{".", DirectoryMode, ""},
                                       {"./bin", DirectoryMode, ""},
                                       {"./bin/init", FileMode | 0111, "\x7f" "ELF..."},
                                       {"./hello.txt", FileMode, "hello"}});
    const Archive archive = open_or_fail(bytes);
    CHECK(contents(*archive.find("bin/init")) == "\x7f" "ELF...");
    CHECK(contents(*archive.find("./bin/init")) == "\x7f" "ELF...");
    CHECK(contents(*archive.find("/hello.txt")) == "hello");
    CHECK(archive.find("bin")->is_directory());
    CHECK(std::string(archive.find("hello.txt")->name) == "./hello.txt");
    CHECK(archive.find(".")->is_directory());
}

TEST_CASE("a later entry of the same name wins", "[cpio]") {
    const Bytes bytes = build_archive({{"a", FileMode, "old"}, {"./a", FileMode, "new!"}});
    const Archive archive = open_or_fail(bytes);
    CHECK(contents(*archive.find("a")) == "new!");
}

TEST_CASE("an empty archive holds only the trailer", "[cpio]") {
    const Bytes bytes = build_archive({});
    const Archive archive = open_or_fail(bytes);
    CHECK(archive.find("anything").error() == Error::NotFound);
    int visited = 0;
    REQUIRE(archive.for_each_entry([&](const Entry&) { return ++visited, true; }));
    CHECK(visited == 0);
}

TEST_CASE("malformed archives are refused with a diagnostic", "[cpio]") {
    const Bytes good = build_archive({{"first", FileMode, "12345"}, {"second", FileMode, "abcdefgh"}});
    const size_t second_header = 124;  // 110 + "first\0" = 116 (aligned), 5 bytes of data padded to 124
    REQUIRE(std::memcmp(good.data() + second_header, "070701", 6) == 0);

    SECTION("missing trailer") {
        const Bytes bytes = build_archive({{"first", FileMode, "12345"}}, false);  // zero padding follows
        CHECK(expect_refused(bytes, Error::Truncated, "cpio archive ends without a trailer").offset == 124);
    }
    SECTION("missing trailer, no padding") {
        Bytes bytes = build_archive({{"first", FileMode, "1234"}}, false);
        bytes.resize(120);  // 116 + 4 bytes of data, no padding needed
        CHECK(expect_refused(bytes, Error::Truncated, "cpio archive ends without a trailer").offset == 120);
    }
    SECTION("empty input") {
        const uint8_t nothing = 0;
        Diagnostic diagnostic;
        CHECK(Archive::open(&nothing, 0, diagnostic).error() == Error::Truncated);
        CHECK(std::string(diagnostic.message) == "cpio archive ends without a trailer");
    }
    SECTION("bad magic") {
        Bytes bytes = good;
        bytes[second_header + 5] = '7';  // 070707: the old portable ASCII format
        CHECK(expect_refused(bytes, Error::Malformed, "bad cpio magic (not newc)").offset == second_header);
    }
    SECTION("bad hex digit") {
        Bytes bytes = good;
        bytes[second_header + 6 + 6 * 8 + 3] = 'g';  // in c_filesize
        CHECK(expect_refused(bytes, Error::Malformed, "bad hex digit in cpio header").offset ==
              second_header + 6 + 6 * 8 + 3);
        bytes[second_header + 6 + 6 * 8 + 3] = ' ';
        expect_refused(bytes, Error::Malformed, "bad hex digit in cpio header");
    }
    SECTION("truncated header") {
        Bytes bytes(good.begin(), good.begin() + second_header + 50);
        CHECK(expect_refused(bytes, Error::Truncated, "truncated cpio header").offset == second_header);
    }
    SECTION("name size zero or one (empty name)") {
        Bytes bytes = good;
        std::memcpy(bytes.data() + 6 + 11 * 8, "00000000", 8);
        expect_refused(bytes, Error::Malformed, "empty cpio name");
        std::memcpy(bytes.data() + 6 + 11 * 8, "00000001", 8);
        expect_refused(bytes, Error::Malformed, "empty cpio name");
    }
    SECTION("name not NUL-terminated at namesize") {
        Bytes bytes = good;
        std::memcpy(bytes.data() + 6 + 11 * 8, "00000005", 8);  // "first" without its NUL
        expect_refused(bytes, Error::Malformed, "cpio name not NUL-terminated at its end");
        std::memcpy(bytes.data() + 6 + 11 * 8, "00000007", 8);  // one byte past the NUL: a NUL inside
        expect_refused(bytes, Error::Malformed, "cpio name not NUL-terminated at its end");
    }
    SECTION("name size past the end") {
        Bytes bytes = good;
        std::memcpy(bytes.data() + 6 + 11 * 8, "FFFFFFFF", 8);
        expect_refused(bytes, Error::Truncated, "truncated cpio name");
    }
    SECTION("file size past the end") {
        Bytes bytes = good;
        std::memcpy(bytes.data() + 6 + 6 * 8, "FFFFFFFF", 8);
        CHECK(expect_refused(bytes, Error::Truncated, "cpio file data outside the archive").offset == 0);
        std::memcpy(bytes.data() + 6 + 6 * 8, "00000200", 8);  // inside the buffer, then no header at 0x278
        Diagnostic diagnostic;
        CHECK_FALSE(Archive::open(bytes.data(), bytes.size(), diagnostic));
    }
    SECTION("null archive") {
        Diagnostic diagnostic;
        CHECK(Archive::open(nullptr, 10, diagnostic).error() == Error::InvalidArgument);
    }
    SECTION("read_entry refuses unaligned and past-the-end offsets") {
        const Archive archive = open_or_fail(good);
        CHECK(archive.read_entry(2).error() == Error::InvalidArgument);
        CHECK(archive.read_entry(good.size()).error() == Error::Truncated);
        CHECK(archive.read_entry(~uint64_t{3}).error() == Error::Truncated);
        REQUIRE(archive.read_entry(0));
        CHECK(archive.read_entry(0)->next_offset == second_header);
    }
}

TEST_CASE("every truncation of a real archive fails cleanly until the trailer is complete", "[cpio][robustness]") {
    const Bytes bytes = read_test_file("archive_newc.cpio");
    // The trailer's header and name end the archive proper; GNU cpio pads what follows to 512 bytes.
    size_t trailer_end = 0;
    for (size_t offset = 0; offset + 10 <= bytes.size(); ++offset)
        if (std::memcmp(bytes.data() + offset, "TRAILER!!!", 10) == 0) trailer_end = offset + 11;
    REQUIRE(trailer_end != 0);
    for (size_t length = 0; length <= bytes.size(); ++length) {
        const auto copy = exact_copy(bytes, length);
        Diagnostic diagnostic;
        Result<Archive> archive = Archive::open(copy.get(), length, diagnostic);
        INFO("length " << length);
        if (length < trailer_end) {
            REQUIRE_FALSE(archive);
            REQUIRE(diagnostic.message != nullptr);
            REQUIRE(diagnostic.offset <= length);
        } else {
            REQUIRE(archive);
            exercise(*archive, copy.get(), length);
        }
    }
}

TEST_CASE("seeded random corruptions of archives never fault or loop", "[cpio][robustness]") {
    const char* file = GENERATE("archive_newc.cpio", "archive_crc.cpio");
    const Bytes original = read_test_file(file);
    std::mt19937_64 random(0x5eed + original.size());
    const char replacements[] = {'0', '1', '3', '4', '7', '8', 'F', 'f', 'g', 'x', '\0', ' ', '!', '/'};
    // Headers sit in the first ~0x300 bytes and after bin/init's data; corrupt anywhere, mostly ASCII.
    int accepted = 0;
    for (int round = 0; round < 4000; ++round) {
        Bytes bytes = original;
        const int changes = 1 + static_cast<int>(random() % 4);
        for (int change = 0; change < changes; ++change) {
            const size_t position = random() % bytes.size();
            bytes[position] = random() % 2 ? static_cast<uint8_t>(replacements[random() % sizeof replacements])
                                           : static_cast<uint8_t>(random());
        }
        const size_t length = random() % 8 == 0 ? random() % (bytes.size() + 1) : bytes.size();
        const auto copy = exact_copy(bytes, length);
        Diagnostic diagnostic;
        Result<Archive> archive = Archive::open(copy.get(), length, diagnostic);
        if (archive) {
            ++accepted;
            exercise(*archive, copy.get(), length);
        } else {
            REQUIRE(diagnostic.message != nullptr);
        }
    }
    INFO("accepted: " << accepted);
    SUCCEED();
}
