#include <catch2/catch.hpp>

#include <random>
#include <set>

#include "vdso/bit_scan.hpp"
#include "vdso/priority_bitmap.hpp"

using namespace vdso;

static_assert(count_trailing_zeros_debruijn(1) == 0);
static_assert(count_trailing_zeros_debruijn(uint64_t{1} << 63) == 63);
static_assert(count_trailing_zeros_debruijn(0xf0) == 4);

TEST_CASE("ctz: de Bruijn and instruction paths agree on every single bit", "[vdso][bit_scan]") {
    for (unsigned bit = 0; bit < 64; ++bit) {
        const uint64_t word = uint64_t{1} << bit;
        CHECK(count_trailing_zeros_debruijn(word) == bit);
        CHECK(count_trailing_zeros_instruction(word) == bit);
        CHECK(count_trailing_zeros(word) == bit);
    }
}

TEST_CASE("ctz: de Bruijn and instruction paths agree on random words", "[vdso][bit_scan]") {
    std::mt19937_64 random(42);
    for (int round = 0; round < 100000; ++round) {
        uint64_t word = random() >> (random() % 64);
        if (word == 0) word = 1;
        REQUIRE(count_trailing_zeros_debruijn(word) == count_trailing_zeros_instruction(word));
    }
}

template <uint32_t Levels>
void check_bitmap_against_model(uint64_t seed) {
    PriorityBitmap<Levels> bitmap;
    std::set<uint32_t> model;
    std::mt19937_64 random(seed);
    REQUIRE(bitmap.empty());
    REQUIRE(bitmap.highest() == Levels);
    for (int step = 0; step < 20000; ++step) {
        const uint32_t level = random() % Levels;
        if (random() % 2) {
            bitmap.set(level);
            model.insert(level);
        } else {
            bitmap.clear(level);
            model.erase(level);
        }
        REQUIRE(bitmap.consistent());
        REQUIRE(bitmap.empty() == model.empty());
        REQUIRE(bitmap.highest() == (model.empty() ? Levels : *model.begin()));
        REQUIRE(bitmap.test(level) == (model.count(level) == 1));
        const uint32_t highest = model.empty() ? Levels : *model.begin();
        const uint32_t probe = random() % (Levels + 1); // NoLevel included
        REQUIRE(bitmap.any_more_urgent_than(probe) == (highest < probe));
        if constexpr (!PriorityBitmap<Levels>::TwoLevel) {
            REQUIRE(bitmap.lowest_set_bit() == (model.empty() ? 0 : uint64_t{1} << highest));
        }
    }
}

TEST_CASE("PriorityBitmap: one level word matches a set model", "[vdso][bitmap]") {
    check_bitmap_against_model<64>(1);
    check_bitmap_against_model<8>(2);
}

TEST_CASE("PriorityBitmap: two-level bitmap matches a set model", "[vdso][bitmap]") {
    STATIC_REQUIRE(PriorityBitmap<4096>::TwoLevel);
    STATIC_REQUIRE(!PriorityBitmap<64>::TwoLevel);
    check_bitmap_against_model<65>(3);
    check_bitmap_against_model<256>(4);
    check_bitmap_against_model<4096>(5);
}

TEST_CASE("PriorityBitmap: highest is the lowest-numbered level", "[vdso][bitmap]") {
    PriorityBitmap<4096> bitmap;
    bitmap.set(4095);
    CHECK(bitmap.highest() == 4095);
    bitmap.set(64);
    CHECK(bitmap.highest() == 64);
    bitmap.set(63);
    CHECK(bitmap.highest() == 63);
    bitmap.clear(63);
    bitmap.clear(64);
    CHECK(bitmap.highest() == 4095);
    bitmap.clear(4095);
    CHECK(bitmap.empty());
}
