// BitmapView: word-at-a-time operations over a bitmap that lives in memory someone else owns.
//
// Bit i is bit (i % 64) of word i / 64. The view never allocates; the frame allocator points it at
// its metadata frames. Counting and searching avoid __builtin_ctz/__builtin_popcount because on
// rv64imac without Zbb those become libgcc calls; the de Bruijn and SWAR forms below use only the
// M extension's multiply and run in constant time.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace kernel::mm {

constexpr size_t BitsPerWord = 64;

// Index of the lowest set bit of a non-zero word (de Bruijn multiplication).
constexpr unsigned lowest_set_bit(uint64_t word) {
    constexpr uint64_t DeBruijn = 0x03f79d71b4cb0a89ull;
    constexpr std::array<uint8_t, 64> Positions = [] {
        std::array<uint8_t, 64> table{};
        for (unsigned bit = 0; bit < 64; ++bit) table[((uint64_t{1} << bit) * DeBruijn) >> 58] = uint8_t(bit);
        return table;
    }();
    uint64_t isolated = word & (~word + 1);
    return Positions[(isolated * DeBruijn) >> 58];
}

// Number of set bits in a word (SWAR).
constexpr unsigned count_set_bits(uint64_t word) {
    word = word - ((word >> 1) & 0x5555555555555555ull);
    word = (word & 0x3333333333333333ull) + ((word >> 2) & 0x3333333333333333ull);
    word = (word + (word >> 4)) & 0x0f0f0f0f0f0f0f0full;
    return unsigned((word * 0x0101010101010101ull) >> 56);
}

constexpr size_t words_for_bits(size_t bits) { return (bits + BitsPerWord - 1) / BitsPerWord; }

class BitmapView {
public:
    BitmapView() = default;
    BitmapView(uint64_t* words, size_t bit_count) : words_(words), bit_count_(bit_count) {}

    size_t bit_count() const { return bit_count_; }
    size_t word_count() const { return words_for_bits(bit_count_); }
    uint64_t word(size_t index) const { return words_[index]; }

    bool test(size_t bit) const { return (words_[bit / BitsPerWord] >> (bit % BitsPerWord)) & 1; }
    void set(size_t bit) { words_[bit / BitsPerWord] |= uint64_t{1} << (bit % BitsPerWord); }
    void clear(size_t bit) { words_[bit / BitsPerWord] &= ~(uint64_t{1} << (bit % BitsPerWord)); }

    void clear_all() { __builtin_memset(words_, 0, word_count() * sizeof(uint64_t)); }

    // Sets or clears bits [first, first + count); the range must lie inside the bitmap.
    void set_range(size_t first, size_t count) { update_range(first, count, true); }
    void clear_range(size_t first, size_t count) { update_range(first, count, false); }

    // True when every bit of [first, first + count) has the value `value`.
    bool all_equal(size_t first, size_t count, bool value) const {
        for (size_t bit = first; bit < first + count; ++bit) {
            if (test(bit) != value) return false;
        }
        return true;
    }

    size_t count_set() const {
        size_t total = 0;
        for (size_t index = 0; index < word_count(); ++index) total += count_set_bits(words_[index]);
        return total;
    }

private:
    void update_range(size_t first, size_t count, bool value) {
        size_t bit = first;
        size_t end = first + count;
        while (bit < end) {
            size_t offset = bit % BitsPerWord;
            size_t span = BitsPerWord - offset < end - bit ? BitsPerWord - offset : end - bit;
            uint64_t mask = span == BitsPerWord ? ~uint64_t{0} : ((uint64_t{1} << span) - 1) << offset;
            if (value) words_[bit / BitsPerWord] |= mask;
            else words_[bit / BitsPerWord] &= ~mask;
            bit += span;
        }
    }

    uint64_t* words_ = nullptr;
    size_t bit_count_ = 0;
};

} // namespace kernel::mm
