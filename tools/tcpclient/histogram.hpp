// Latency histogram with logarithmic buckets (the idea of HdrHistogram, our own code): values below
// 128 have a bucket each; above, every power of two is cut into 64 buckets, so a bucket is at most
// 1/64 (1.6%) of its values wide. Constant memory whatever the count, cheap to merge (per connection
// into per level into the total). Exact count, sum, minimum and maximum are kept beside it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace tcpclient {

class LatencyHistogram {
public:
    static constexpr uint32_t ExactBits = 7;                    // values < 2^7 exact
    static constexpr uint64_t MaxValue = (uint64_t(1) << 40) - 1;  // larger values are clamped

    void record(uint64_t value);
    void merge(const LatencyHistogram& other);

    uint64_t count() const { return count_; }
    uint64_t min() const { return count_ ? min_ : 0; }
    uint64_t max() const { return max_; }
    double mean() const { return count_ ? double(sum_) / double(count_) : 0.0; }
    // The smallest recorded value v (to the bucket's precision: its highest value, never above max())
    // such that at least `percent`% of the values are <= v. 0 when empty.
    uint64_t percentile(double percent) const;

    // Buckets, for the distribution figures: index -> [lowest, highest] value.
    size_t bucket_count() const { return counts_.size(); }
    uint64_t bucket_value_count(size_t index) const { return counts_[index]; }
    static size_t bucket_of(uint64_t value);
    static uint64_t bucket_lowest(size_t index);
    static uint64_t bucket_highest(size_t index);

private:
    std::vector<uint64_t> counts_;   // grown on demand up to the highest bucket used
    uint64_t count_ = 0;
    uint64_t sum_ = 0;
    uint64_t min_ = UINT64_MAX;
    uint64_t max_ = 0;
};

}  // namespace tcpclient
