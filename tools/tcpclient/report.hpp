// What a run measured, per connection, per priority level and in total, and how it is printed
// (the summary lines scripts/experiment and the tests read) and written (CSV).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "tools/tcpclient/histogram.hpp"
#include "tools/tcpclient/options.hpp"

namespace tcpclient {

// Requests sent in the measured window and what became of them. Every sent request ends as exactly
// one of: a correct reply (replies), a wrong one (wrong), none by the end of the grace time (lost).
// Late counts the correct replies whose latency exceeded the interval.
struct Counts {
    uint64_t sent = 0;
    uint64_t replies = 0;
    uint64_t wrong = 0;
    uint64_t lost = 0;
    uint64_t late = 0;
    uint64_t errors = 0;          // of the wrong: "E ..." replies
    LatencyHistogram latency;     // microseconds, correct replies only

    void merge(const Counts& other);
    // Correct replies within the interval, as a percentage of the requests sent (100 when none sent).
    double on_time_percent() const;
};

struct ConnectionResult {
    uint32_t index = 0;
    bool ready = false;           // it answered its first (warm-up) request, so it was measured
    int64_t level = -1;           // the level its replies carried; -1 if it never answered
    Counts counts;
};

struct Report {
    Options options;
    std::vector<ConnectionResult> connections;
    double window_s = 0;          // the measured window (sending), seconds
    uint32_t dropped = 0;         // connections closed by the server in the window
    uint64_t warmup_wrong = 0;    // wrong replies to warm-up requests (outside the counts)
};

Counts total(const Report& report);
// Per level, from the connections' levels (a connection that never answered has none).
std::map<uint32_t, std::pair<uint32_t, Counts>> by_level(const Report& report);
uint32_t ready_count(const Report& report);

// "sent S replies R wrong W lost X late Y mean_us M p50_us .. p90_us .. p99_us .. p999_us .. max_us .."
std::string counts_fields(const Counts& counts);
std::string summary_line(const Report& report);
std::vector<std::string> level_lines(const Report& report);

// scope,id,level,sent,replies,wrong,lost,late,errors,mean_us,p50_us,p90_us,p99_us,p999_us,max_us
bool write_csv(const Report& report, const std::string& path);
// level,low_us,high_us,count: every non-empty bucket of every level
bool write_histogram_csv(const Report& report, const std::string& path);

}  // namespace tcpclient
