// Repeated measurements and their summary, for the in-guest benchmarks (kernel/bench/,
// user/programs/bench/): each repetition gives one value, kept in tenths (one decimal place,
// rounded to the nearest); the summary is the median, the smallest and the largest.
//
//     Repetitions runs;
//     runs.add_per_operation(instructions, operations);   // one repetition
//     Summary s = runs.summary();                          // s.median, s.min, s.max in tenths
//
// Invariant: values_[0, count_) are the repetitions in the order they were added. Freestanding: no
// allocation, no floating point.
#pragma once

#include <cstddef>
#include <cstdint>

namespace kernel::measurement {

constexpr size_t MaxRepetitions = 16;

// Tenths of a unit: 1234 means 123.4.
struct Summary {
    uint64_t median = 0; // the middle value; the mean of the two middle ones (rounded down) for an even count
    uint64_t min = 0;
    uint64_t max = 0;
};

class Repetitions {
public:
    // One repetition: `total` over `operations`, in tenths, rounded to the nearest. False (nothing
    // recorded) when full or when operations is 0.
    constexpr bool add_per_operation(uint64_t total, uint64_t operations) {
        if (operations == 0) return false;
        return add_tenths((total * 10 + operations / 2) / operations);
    }
    // One repetition that is a whole number (a count, bytes).
    constexpr bool add_whole(uint64_t value) { return add_tenths(value * 10); }
    constexpr bool add_tenths(uint64_t tenths) {
        if (count_ == MaxRepetitions) return false;
        values_[count_++] = tenths;
        return true;
    }

    constexpr size_t count() const { return count_; }

    // All zero when nothing was recorded.
    constexpr Summary summary() const {
        if (count_ == 0) return {};
        uint64_t sorted[MaxRepetitions] = {};
        for (size_t i = 0; i < count_; ++i) {
            size_t at = i;
            for (; at > 0 && sorted[at - 1] > values_[i]; --at) sorted[at] = sorted[at - 1];
            sorted[at] = values_[i];
        }
        Summary summary;
        summary.min = sorted[0];
        summary.max = sorted[count_ - 1];
        summary.median = count_ % 2 ? sorted[count_ / 2] : (sorted[count_ / 2 - 1] + sorted[count_ / 2]) / 2;
        return summary;
    }

private:
    uint64_t values_[MaxRepetitions] = {};
    size_t count_ = 0;
};

} // namespace kernel::measurement
