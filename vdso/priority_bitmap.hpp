// PriorityBitmap<Levels>: which priority levels are non-empty, with an O(1) pick of the highest.
//
// Priority 0 is the highest, so the pick is count-trailing-zeros (see bit_scan.hpp).
// Up to 64 levels it is one word. Above 64 it is two-level, as in seL4: bit w of `summary_` is set iff
// word w is non-zero, so the pick is two count-trailing-zeros whatever the number of levels (<= 4096).
//
// Invariants (kept by set/clear; checked by consistent()):
//   * bit p of the words is set iff the owner marked level p non-empty;
//   * two-level: summary bit w set iff words_[w] != 0.
// Concurrency: the words are atomics accessed relaxed. Writers must be serialised by the owner's lock;
// readers may call highest()/empty()/test() without it and get a value that was true at some moment
// (used for lock-free "anything ready?" peeks and for read-only mappings of the global table).
#pragma once

#include <atomic>
#include <cstdint>

#include "vdso/bit_scan.hpp"

namespace vdso {

template <uint32_t Levels>
class PriorityBitmap {
    static_assert(Levels >= 1 && Levels <= 64 * 64, "PriorityBitmap holds 1 to 4096 levels");

public:
    static constexpr uint32_t LevelCount = Levels;
    static constexpr uint32_t NoLevel = Levels; // highest() of an empty bitmap
    static constexpr bool TwoLevel = Levels > 64;
    static constexpr uint32_t WordCount = (Levels + 63) / 64;

    // set, clear and test: level < Levels.
    void set(uint32_t level) {
        const uint32_t word = word_of(level);
        const uint64_t bits = load(words_[word]);
        words_[word].store(bits | bit_of(level), std::memory_order_relaxed);
        if constexpr (TwoLevel) {
            summary_.store(load(summary_) | (uint64_t{1} << word), std::memory_order_relaxed);
        }
    }

    void clear(uint32_t level) {
        const uint32_t word = word_of(level);
        const uint64_t bits = load(words_[word]) & ~bit_of(level);
        words_[word].store(bits, std::memory_order_relaxed);
        if constexpr (TwoLevel) {
            if (bits == 0) {
                summary_.store(load(summary_) & ~(uint64_t{1} << word), std::memory_order_relaxed);
            }
        }
    }

    bool test(uint32_t level) const { return (load(words_[word_of(level)]) & bit_of(level)) != 0; }

    bool empty() const {
        if constexpr (TwoLevel) {
            return load(summary_) == 0;
        } else {
            return load(words_[0]) == 0;
        }
    }

    // The lowest-numbered (most urgent) set level, or NoLevel. Constant time.
    uint32_t highest() const {
        if constexpr (TwoLevel) {
            const uint64_t summary = load(summary_);
            if (summary == 0) return NoLevel;
            const uint32_t word = count_trailing_zeros(summary);
            const uint64_t bits = load(words_[word]);
            // A reader racing a writer may see a summary bit whose word was just emptied.
            if (bits == 0) return NoLevel;
            return word * 64 + count_trailing_zeros(bits);
        } else {
            const uint64_t bits = load(words_[0]);
            return bits == 0 ? NoLevel : count_trailing_zeros(bits);
        }
    }

    // One-word bitmaps: the most urgent set level as a mask (1 << highest()), 0 if none. No count
    // of trailing zeros: callers that only compare with a known level use this instead of highest().
    uint64_t lowest_set_bit() const
        requires(!TwoLevel)
    {
        const uint64_t bits = load(words_[0]);
        return bits & (~bits + 1);
    }

    // True when a level more urgent (numerically lower) than `level` is set; `level` may be NoLevel
    // (then: anything set). Constant time, no count of trailing zeros.
    bool any_more_urgent_than(uint32_t level) const {
        if constexpr (TwoLevel) {
            return highest() < level;
        } else {
            if (level >= 64) return !empty();
            return any_more_urgent_than_level(level);
        }
    }
    // The same for a level that exists (level < Levels): one mask, no branch, on one word.
    bool any_more_urgent_than_level(uint32_t level) const {
        if constexpr (TwoLevel) {
            return highest() < level;
        } else {
            return (load(words_[0]) & ((uint64_t{1} << level) - 1)) != 0;
        }
    }

    // For tests: the two-level summary agrees with the words.
    bool consistent() const {
        if constexpr (TwoLevel) {
            for (uint32_t word = 0; word < WordCount; ++word) {
                const bool summary_bit = (load(summary_) >> word) & 1;
                if (summary_bit != (load(words_[word]) != 0)) return false;
            }
        }
        return true;
    }

private:
    static constexpr uint64_t bit_of(uint32_t level) { return uint64_t{1} << (level % 64); }
    // One word: always 0 (not level / 64 computed on every call).
    static constexpr uint32_t word_of(uint32_t level) { return TwoLevel ? level / 64 : 0; }
    static uint64_t load(const std::atomic<uint64_t>& word) {
        return word.load(std::memory_order_relaxed);
    }

    std::atomic<uint64_t> summary_{0}; // two-level only: bit w <=> words_[w] != 0
    std::atomic<uint64_t> words_[WordCount]{};
};

} // namespace vdso
