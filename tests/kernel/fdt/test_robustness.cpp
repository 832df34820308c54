// Robustness: truncated and corrupted real blobs must give an error with a diagnostic, never a crash,
// an out-of-bounds read (AddressSanitizer is on for this target) or a hang.
#include <catch2/catch.hpp>

#include <random>

#include "tests/kernel/fdt/fdt_test_support.hpp"

using namespace kernel::fdt;
using namespace fdt_test;

namespace {

const char* const dumped_trees[] = {"virt-smp4.dtb", "virt-smp1.dtb", "sifive_u-smp2.dtb",
                                    "virt-smp2-bootargs-initrd.dtb", "virt-smp2-after-opensbi.dtb",
                                    "sifive_u-smp2-after-opensbi.dtb"};

// The end of the last block the header names: bytes past it are free space a blob may lose.
size_t end_of_blocks(const Bytes& blob) {
    const size_t strings_end = get_be32(blob, 12) + get_be32(blob, 32);
    const size_t struct_end = get_be32(blob, 8) + get_be32(blob, 36);
    return std::max(strings_end, struct_end);
}

} // namespace

TEST_CASE("every truncation of a real blob is reported, never read past") {
    for (const char* file : dumped_trees) {
        INFO(file);
        const Bytes blob = load_dtb(file);
        REQUIRE(blob.size() > 100);
        for (size_t length = 0; length < blob.size(); ++length) {
            INFO("length " << length);
            ExactBuffer buffer(blob, length);
            Diagnostic diagnostic;
            kernel::Result<uint32_t> header = validate_header(buffer.bytes.get(), length, diagnostic);
            REQUIRE_FALSE(header);
            REQUIRE(diagnostic.message != nullptr);
            ParseOutcome outcome = parse(blob, length);
            REQUIRE_FALSE(outcome.result);
            REQUIRE(outcome.diagnostic.message != nullptr);
        }
    }
}

TEST_CASE("a blob whose totalsize claims less than its blocks is reported") {
    for (const char* file : dumped_trees) {
        INFO(file);
        const Bytes original = load_dtb(file);
        const size_t needed = end_of_blocks(original);
        for (size_t length = 0; length < original.size(); ++length) {
            INFO("totalsize " << length);
            Bytes blob(original.begin(), original.begin() + std::max<size_t>(length, 40));
            put_be32(blob, 4, uint32_t(length));
            ParseOutcome outcome = parse(blob, blob.size());
            if (length >= needed) {
                CHECK(outcome.result);
            } else {
                REQUIRE_FALSE(outcome.result);
                REQUIRE(outcome.diagnostic.message != nullptr);
            }
        }
    }
}

TEST_CASE("every shortened size_dt_struct and size_dt_strings is reported") {
    for (const char* file : dumped_trees) {
        INFO(file);
        const Bytes original = load_dtb(file);
        const uint32_t struct_size = get_be32(original, 36);
        for (uint32_t size = 0; size < struct_size; ++size) {
            Bytes blob = original;
            put_be32(blob, 36, size);
            ParseOutcome outcome = parse(blob);
            INFO("size_dt_struct " << size);
            REQUIRE_FALSE(outcome.result);
            REQUIRE(outcome.diagnostic.message != nullptr);
        }
        const uint32_t strings_size = get_be32(original, 32);
        for (uint32_t size = 0; size < strings_size; ++size) {
            Bytes blob = original;
            put_be32(blob, 32, size);
            ParseOutcome outcome = parse(blob);
            INFO("size_dt_strings " << size);
            // Cutting unused strings off the end is harmless; cutting a used one is an error.
            if (!outcome.result) REQUIRE(outcome.diagnostic.message != nullptr);
        }
        Bytes blob = original;
        put_be32(blob, 32, 0);
        CHECK_FALSE(parse(blob).result);
    }
}

TEST_CASE("random corruption of the structure and strings blocks never crashes or hangs") {
    std::mt19937 random(20240611);
    size_t failures = 0, successes = 0;
    for (const char* file : dumped_trees) {
        const Bytes original = load_dtb(file);
        const uint32_t struct_begin = get_be32(original, 8);
        const size_t body = original.size() - struct_begin;
        for (int round = 0; round < 2000; ++round) {
            Bytes blob = original;
            const int corruptions = 1 + int(random() % 8);
            for (int corruption = 0; corruption < corruptions; ++corruption) {
                const size_t position = struct_begin + random() % body;
                switch (random() % 4) {
                case 0: blob[position] = uint8_t(random()); break;      // any byte
                case 1: blob[position] ^= uint8_t(1u << (random() % 8)); break;  // one bit
                case 2: blob[position] = 0; break;                      // early terminators
                default: {                                              // a whole aligned word
                    const uint32_t interesting[] = {1, 2, 3, 4, 9, 0, 0xffffffff, 0x7ffffffc, uint32_t(random())};
                    const size_t word = position & ~size_t{3};
                    if (word + 4 <= blob.size()) put_be32(blob, word, interesting[random() % 9]);
                }
                }
            }
            ParseOutcome outcome = parse(blob);
            if (outcome.result) {
                ++successes;
                REQUIRE(outcome.info->hart_count >= 1);
                REQUIRE(outcome.info->memory_count >= 1);
            } else {
                ++failures;
                INFO(file << " round " << round);
                REQUIRE(outcome.diagnostic.message != nullptr);
            }
        }
    }
    CHECK(failures > 0);
    CHECK(successes > 0);
}

TEST_CASE("random corruption of the header never crashes") {
    std::mt19937 random(7);
    const Bytes original = load_dtb("virt-smp4.dtb");
    for (int round = 0; round < 3000; ++round) {
        Bytes blob = original;
        const size_t field = 4 + 4 * (random() % 9);
        const uint32_t values[] = {0, 1, 3, 8, 40, 0x38, uint32_t(original.size()), uint32_t(original.size() - 4),
                                   0xfffffff8, 0x80000000, uint32_t(random())};
        put_be32(blob, field, values[random() % 11]);
        ParseOutcome outcome = parse(blob);
        if (!outcome.result) REQUIRE(outcome.diagnostic.message != nullptr);
    }
}

TEST_CASE("garbage after a valid header never crashes") {
    std::mt19937 random(99);
    for (int round = 0; round < 500; ++round) {
        FdtBuilder builder;
        const int words = int(random() % 64);
        for (int word = 0; word < words; ++word) builder.word(random() % 5 == 0 ? uint32_t(random()) : 1 + random() % 9);
        builder.string("name", "x");
        Bytes blob = builder.finish(random() % 2 == 0);
        ParseOutcome outcome = parse(blob);
        if (!outcome.result) REQUIRE(outcome.diagnostic.message != nullptr);
    }
}
