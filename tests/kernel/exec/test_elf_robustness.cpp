// Robustness of the ELF readers: every truncation and thousands of seeded random corruptions of real
// images must end in a value or an error, never a fault (ASan/UBSan check every read), and every plan
// that is accepted must still satisfy the invariants stated in elf.hpp.
#include <catch2/catch.hpp>

#include <memory>
#include <random>

#include "exec_test_support.hpp"
#include "kernel/exec/elf.hpp"

using namespace kernel;
using namespace kernel::exec;
using namespace exec_test;

namespace {

// A heap copy of exactly `length` bytes, so that AddressSanitizer sees any read past the end.
struct ExactCopy {
    std::unique_ptr<uint8_t[]> bytes;
    size_t length;
    ExactCopy(const uint8_t* source, size_t count) : bytes(new uint8_t[count ? count : 1]), length(count) {
        std::memcpy(bytes.get(), source, count);
    }
};

void check_plan_invariants(const LoadPlan& plan, size_t image_size) {
    REQUIRE(plan.segment_count >= 1);
    REQUIRE(plan.segment_count <= MaxSegments);
    bool entry_found = false;
    for (size_t index = 0; index < plan.segment_count; ++index) {
        const LoadSegment& segment = plan.segments[index];
        REQUIRE(segment.memory_size > 0);
        REQUIRE(segment.file_size <= segment.memory_size);
        REQUIRE(segment.file_offset <= image_size);
        REQUIRE(segment.file_size <= image_size - segment.file_offset);
        REQUIRE(segment.virtual_address >= UserBase);
        REQUIRE(segment.virtual_address + segment.memory_size <= UserLimit);
        REQUIRE(segment.virtual_address % PageSize == segment.file_offset % PageSize);
        REQUIRE_FALSE((segment.write && segment.execute));
        REQUIRE(segment.virtual_address >= plan.lowest_address);
        REQUIRE(segment.virtual_address + segment.memory_size <= plan.highest_address);
        if (segment.execute && plan.entry >= segment.virtual_address &&
            plan.entry < segment.virtual_address + segment.memory_size)
            entry_found = true;
        for (size_t other = 0; other < index; ++other) {
            const LoadSegment& before = plan.segments[other];
            const uint64_t first = segment.virtual_address & ~(PageSize - 1);
            const uint64_t last = (segment.virtual_address + segment.memory_size + PageSize - 1) & ~(PageSize - 1);
            const uint64_t before_first = before.virtual_address & ~(PageSize - 1);
            const uint64_t before_last = (before.virtual_address + before.memory_size + PageSize - 1) & ~(PageSize - 1);
            REQUIRE((last <= before_first || before_last <= first));
        }
    }
    REQUIRE(entry_found);
}

// Runs every reader over `image`; returns true if anything accepted it.
bool exercise(const uint8_t* image, size_t size) {
    bool accepted = false;
    Diagnostic diagnostic;
    Result<LoadPlan> plan = plan_executable(image, size, diagnostic);
    if (plan) {
        check_plan_invariants(*plan, size);
        accepted = true;
    } else {
        REQUIRE(diagnostic.message != nullptr);
    }
    Result<SharedObject> object = open_shared_object(image, size, diagnostic);
    if (object) {
        accepted = true;
        for (const char* name : {"cokernel_yield", "cokernel_poll", "cokernel_abi_version", "cokernel_counter",
                                 "cokernel_missing"}) {
            for (const char* version : {static_cast<const char*>(nullptr), "COKERNEL_1.0", "COKERNEL_1.1"}) {
                Result<uint64_t> value = find_symbol(*object, name, version);
                if (!value) continue;
                bool inside = false;
                for (size_t index = 0; index < object->segment_count; ++index)
                    inside |= *value >= object->segments[index].virtual_address &&
                              *value - object->segments[index].virtual_address < object->segments[index].memory_size;
                REQUIRE(inside);
            }
        }
        (void)has_writable_segment(*object);
        (void)dynamic_relocation_count(*object);
    } else {
        REQUIRE(diagnostic.message != nullptr);
    }
    return accepted;
}

} // namespace

TEST_CASE("every truncation of a real ELF image fails cleanly", "[elf][robustness]") {
    const char* file = GENERATE("program.elf", "clean_sysv.so", "clean_gnu.so", "writable.so");
    INFO(file);
    const Bytes image = read_test_file(file);
    REQUIRE(exercise(image.data(), image.size()));
    size_t accepted_truncations = 0;
    for (size_t length = 0; length < image.size(); ++length) {
        const ExactCopy copy(image.data(), length);
        if (exercise(copy.bytes.get(), copy.length)) ++accepted_truncations;
    }
    // Only trailing bytes that no segment covers (section headers, .riscv.attributes) may go.
    INFO("accepted truncations: " << accepted_truncations);
    CHECK(accepted_truncations < image.size());
}

TEST_CASE("seeded random corruptions of real ELF images never fault", "[elf][robustness]") {
    const char* file = GENERATE("program.elf", "clean_sysv.so", "clean_gnu.so", "writable.so");
    INFO(file);
    const Bytes original = read_test_file(file);
    std::mt19937_64 random(0xc0ffee + original.size());
    const uint64_t interesting[] = {0, 1, 0x7f, 0x80, 0xff, 0xffff, 0x1000, 0x10000, 0x7fffffff, 0xffffffff,
                                    0xfffffffffffff000, ~uint64_t{0}, 0x3fc0000000, 0x8000000000000000};
    // Most corruptions go where the parsers look: the headers, program headers and dynamic tables.
    const size_t hot_size = std::min<size_t>(original.size(), 0x400);
    int accepted = 0;
    for (int round = 0; round < 3000; ++round) {
        Bytes image = original;
        const int changes = 1 + static_cast<int>(random() % 6);
        for (int change = 0; change < changes; ++change) {
            const size_t limit = random() % 4 == 0 ? image.size() : hot_size;
            const size_t position = random() % limit;
            switch (random() % 3) {
            case 0: image[position] = static_cast<uint8_t>(random()); break;
            case 1: image[position] ^= static_cast<uint8_t>(1u << (random() % 8)); break;
            default: {
                const size_t aligned = position & ~size_t{7};
                if (aligned + 8 <= image.size())
                    write_at(image, aligned, interesting[random() % (sizeof interesting / sizeof interesting[0])]);
            }
            }
        }
        const size_t length = random() % 8 == 0 ? random() % (image.size() + 1) : image.size();
        const ExactCopy copy(image.data(), length);
        if (exercise(copy.bytes.get(), copy.length)) ++accepted;
    }
    INFO("accepted corruptions: " << accepted);
    SUCCEED();
}

TEST_CASE("seeded random synthetic executables keep the plan invariants", "[elf][robustness]") {
    std::mt19937_64 random(20240601);
    const uint64_t addresses[] = {0, 0x1000, 0x10000, 0x11000, 0x10800, UserLimit - 0x1000, UserLimit,
                                  0xffffffc000000000, ~uint64_t{0} - 0xfff};
    int accepted = 0;
    for (int round = 0; round < 3000; ++round) {
        ElfBuilder builder = minimal_executable();
        builder.file_size = 0x2000 + random() % 0x2000;
        builder.programs.resize(1 + random() % 5);
        for (elf::ProgramHeader& program : builder.programs) {
            program.type = random() % 6 == 0 ? static_cast<uint32_t>(random() % 8) : elf::PtLoad;
            program.flags = static_cast<uint32_t>(random() % 8);
            program.offset = (random() % 4) * 0x800;
            program.virtual_address = addresses[random() % (sizeof addresses / sizeof addresses[0])] + (random() % 3) * 0x800;
            program.file_size = (random() % 4) * 0x600;
            program.memory_size = program.file_size + (random() % 3) * 0x1000;
            program.alignment = uint64_t{1} << (random() % 16);
        }
        builder.header.entry = builder.programs[random() % builder.programs.size()].virtual_address + random() % 0x1000;
        const Bytes image = builder.build();
        Diagnostic diagnostic;
        Result<LoadPlan> plan = plan_executable(image.data(), image.size(), diagnostic);
        if (plan) {
            ++accepted;
            check_plan_invariants(*plan, image.size());
        } else {
            REQUIRE(diagnostic.message != nullptr);
        }
    }
    INFO("accepted: " << accepted);
    CHECK(accepted > 0);
}
