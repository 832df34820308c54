#include "tools/tcpclient/report.hpp"

#include <cstdio>
#include <fstream>

namespace tcpclient {

void Counts::merge(const Counts& other) {
    sent += other.sent;
    replies += other.replies;
    wrong += other.wrong;
    lost += other.lost;
    late += other.late;
    errors += other.errors;
    latency.merge(other.latency);
}

double Counts::on_time_percent() const {
    if (sent == 0) return 100.0;
    return 100.0 * double(replies - late) / double(sent);
}

Counts total(const Report& report) {
    Counts sum;
    for (const auto& connection : report.connections) sum.merge(connection.counts);
    return sum;
}

std::map<uint32_t, std::pair<uint32_t, Counts>> by_level(const Report& report) {
    std::map<uint32_t, std::pair<uint32_t, Counts>> levels;
    for (uint32_t level = 0; level < report.options.priorities; ++level) levels[level];
    for (const auto& connection : report.connections) {
        if (connection.level < 0) continue;
        auto& [count, counts] = levels[uint32_t(connection.level)];
        ++count;
        counts.merge(connection.counts);
    }
    return levels;
}

uint32_t ready_count(const Report& report) {
    uint32_t ready = 0;
    for (const auto& connection : report.connections) ready += connection.ready;
    return ready;
}

std::string counts_fields(const Counts& counts) {
    char line[512];
    const auto& latency = counts.latency;
    std::snprintf(line, sizeof line,
                  "sent %llu replies %llu wrong %llu lost %llu late %llu mean_us %.0f p50_us %llu p90_us %llu "
                  "p99_us %llu p999_us %llu max_us %llu",
                  (unsigned long long)counts.sent, (unsigned long long)counts.replies,
                  (unsigned long long)counts.wrong, (unsigned long long)counts.lost,
                  (unsigned long long)counts.late, latency.mean(), (unsigned long long)latency.percentile(50),
                  (unsigned long long)latency.percentile(90), (unsigned long long)latency.percentile(99),
                  (unsigned long long)latency.percentile(99.9), (unsigned long long)latency.max());
    return line;
}

std::string summary_line(const Report& report) {
    Counts sum = total(report);
    char tail[256];
    double rps = report.window_s > 0 ? double(sum.replies) / report.window_s : 0;
    std::snprintf(tail, sizeof tail,
                  " rps %.1f ontime_pct %.2f errors %llu connections %u ready %u dropped %u warmup_wrong %llu", rps,
                  sum.on_time_percent(), (unsigned long long)sum.errors, unsigned(report.connections.size()),
                  ready_count(report), report.dropped, (unsigned long long)report.warmup_wrong);
    return "tcpclient: " + counts_fields(sum) + tail;
}

std::vector<std::string> level_lines(const Report& report) {
    std::vector<std::string> lines;
    for (const auto& [level, entry] : by_level(report)) {
        const auto& [connections, counts] = entry;
        double rps = report.window_s > 0 ? double(counts.replies) / report.window_s : 0;
        char tail[128];
        std::snprintf(tail, sizeof tail, " rps %.1f ontime_pct %.2f", rps, counts.on_time_percent());
        lines.push_back("tcpclient: level " + std::to_string(level) + " connections " + std::to_string(connections) +
                        " " + counts_fields(counts) + tail);
    }
    return lines;
}

namespace {

void csv_row(std::ofstream& out, const char* scope, const std::string& id, int64_t level, const Counts& counts) {
    const auto& latency = counts.latency;
    char row[512];
    std::snprintf(row, sizeof row, "%s,%s,%lld,%llu,%llu,%llu,%llu,%llu,%llu,%.1f,%llu,%llu,%llu,%llu,%llu\n", scope,
                  id.c_str(), (long long)level, (unsigned long long)counts.sent,
                  (unsigned long long)counts.replies, (unsigned long long)counts.wrong,
                  (unsigned long long)counts.lost, (unsigned long long)counts.late,
                  (unsigned long long)counts.errors, latency.mean(), (unsigned long long)latency.percentile(50),
                  (unsigned long long)latency.percentile(90), (unsigned long long)latency.percentile(99),
                  (unsigned long long)latency.percentile(99.9), (unsigned long long)latency.max());
    out << row;
}

}  // namespace

bool write_csv(const Report& report, const std::string& path) {
    std::ofstream out(path);
    if (!out) return false;
    out << "scope,id,level,sent,replies,wrong,lost,late,errors,mean_us,p50_us,p90_us,p99_us,p999_us,max_us\n";
    csv_row(out, "total", "all", -1, total(report));
    for (const auto& [level, entry] : by_level(report)) csv_row(out, "level", std::to_string(level), level, entry.second);
    for (const auto& connection : report.connections)
        csv_row(out, "connection", std::to_string(connection.index), connection.level, connection.counts);
    return bool(out);
}

bool write_histogram_csv(const Report& report, const std::string& path) {
    std::ofstream out(path);
    if (!out) return false;
    out << "level,low_us,high_us,count\n";
    for (const auto& [level, entry] : by_level(report)) {
        const auto& latency = entry.second.latency;
        for (size_t i = 0; i < latency.bucket_count(); ++i) {
            if (latency.bucket_value_count(i) == 0) continue;
            out << level << ',' << LatencyHistogram::bucket_lowest(i) << ',' << LatencyHistogram::bucket_highest(i)
                << ',' << latency.bucket_value_count(i) << '\n';
        }
    }
    return bool(out);
}

}  // namespace tcpclient
