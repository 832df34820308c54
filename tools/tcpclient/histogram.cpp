#include "tools/tcpclient/histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace tcpclient {

namespace {
constexpr uint64_t Exact = uint64_t(1) << LatencyHistogram::ExactBits;   // 128
constexpr uint64_t Half = Exact / 2;                                    // 64 buckets per power of two
}  // namespace

// Value v with bit width b > ExactBits: shift = b - ExactBits, the top ExactBits bits of v
// (mantissa, in [64, 128)) pick one of 64 buckets of the power of two [2^(b-1), 2^b).
size_t LatencyHistogram::bucket_of(uint64_t value) {
    value = std::min(value, MaxValue);
    if (value < Exact) return size_t(value);
    uint32_t shift = uint32_t(std::bit_width(value)) - ExactBits;
    uint64_t mantissa = value >> shift;
    return size_t(Exact + (shift - 1) * Half + (mantissa - Half));
}

uint64_t LatencyHistogram::bucket_lowest(size_t index) {
    if (index < Exact) return index;
    uint64_t shift = (index - Exact) / Half + 1;
    uint64_t mantissa = (index - Exact) % Half + Half;
    return mantissa << shift;
}

uint64_t LatencyHistogram::bucket_highest(size_t index) {
    if (index < Exact) return index;
    uint64_t shift = (index - Exact) / Half + 1;
    return bucket_lowest(index) + (uint64_t(1) << shift) - 1;
}

void LatencyHistogram::record(uint64_t value) {
    value = std::min(value, MaxValue);
    size_t index = bucket_of(value);
    if (index >= counts_.size()) counts_.resize(index + 1, 0);
    ++counts_[index];
    ++count_;
    sum_ += value;
    min_ = std::min(min_, value);
    max_ = std::max(max_, value);
}

void LatencyHistogram::merge(const LatencyHistogram& other) {
    if (other.counts_.size() > counts_.size()) counts_.resize(other.counts_.size(), 0);
    for (size_t i = 0; i < other.counts_.size(); ++i) counts_[i] += other.counts_[i];
    count_ += other.count_;
    sum_ += other.sum_;
    min_ = std::min(min_, other.min_);
    max_ = std::max(max_, other.max_);
}

uint64_t LatencyHistogram::percentile(double percent) const {
    if (count_ == 0) return 0;
    // The rank of the value asked for, 1..count.
    uint64_t rank = uint64_t(std::ceil(percent / 100.0 * double(count_)));
    rank = std::clamp<uint64_t>(rank, 1, count_);
    uint64_t seen = 0;
    for (size_t i = 0; i < counts_.size(); ++i) {
        seen += counts_[i];
        if (seen >= rank) return std::clamp(bucket_highest(i), min_, max_);
    }
    return max_;
}

}  // namespace tcpclient
