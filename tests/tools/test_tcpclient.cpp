// tools/tcpclient's pure parts: the protocol (requests, reply verification, line framing), the
// latency histogram against exact sorted samples, the options and the report's aggregation.
#include <catch2/catch.hpp>

#include <algorithm>
#include <random>
#include <regex>

#include "tools/tcpclient/histogram.hpp"
#include "tools/tcpclient/options.hpp"
#include "tools/tcpclient/protocol.hpp"
#include "tools/tcpclient/report.hpp"

using namespace tcpclient;

namespace {

std::string reply_text(uint64_t id, uint32_t level, const std::vector<uint64_t>& c) {
    std::string text = std::to_string(id) + " " + std::to_string(level);
    for (uint64_t value : c) text += " " + std::to_string(value);
    return text;
}

}  // namespace

TEST_CASE("tcpclient: the square of a small matrix") {
    CHECK(square(2, {1, 2, 3, 4}) == std::vector<uint64_t>{7, 10, 15, 22});
    CHECK(square(1, {99}) == std::vector<uint64_t>{9801});
    // The largest entry of any n = 64 product: 64 * 99 * 99.
    std::vector<uint8_t> nines(64 * 64, 99);
    auto c = square(64, nines);
    CHECK(c.size() == 4096);
    CHECK(std::all_of(c.begin(), c.end(), [](uint64_t v) { return v == 627264; }));
}

TEST_CASE("tcpclient: matrices are seeded, in range, and their request text is the protocol's") {
    Matrix one = make_matrix(20, 1), again = make_matrix(20, 1), other = make_matrix(20, 2);
    CHECK(one.a == again.a);
    CHECK(one.a != other.a);
    CHECK(one.a.size() == 400);
    CHECK(std::all_of(one.a.begin(), one.a.end(), [](uint8_t v) { return v < 100; }));
    CHECK(one.c == square(20, one.a));
    // Not all equal: the verification would not notice a swapped reply otherwise.
    CHECK(std::adjacent_find(one.a.begin(), one.a.end(), std::not_equal_to<>()) != one.a.end());

    Matrix small{2, {1, 2, 3, 4}, square(2, {1, 2, 3, 4}), " 2 1 2 3 4\n"};
    CHECK(format_request(7, small) == "7 2 1 2 3 4\n");
    std::string request = format_request(123, one);
    CHECK(request.rfind("123 20 ", 0) == 0);
    CHECK(request.back() == '\n');
    CHECK(std::count(request.begin(), request.end(), ' ') == 401);
}

TEST_CASE("tcpclient: a correct reply is accepted and its level read") {
    auto c = square(2, {1, 2, 3, 4});
    Reply reply = check_reply("5 3 7 10 15 22", 5, c);
    CHECK(reply.verdict == Verdict::Ok);
    CHECK(reply.id == 5);
    CHECK(reply.level == 3);
    CHECK(check_reply(reply_text(18446744073709551615ull, 0, c), 18446744073709551615ull, c).verdict == Verdict::Ok);
}

TEST_CASE("tcpclient: wrong replies are told apart") {
    auto c = square(2, {1, 2, 3, 4});
    CHECK(check_reply("5 0 7 10 15 23", 5, c).verdict == Verdict::WrongValues);
    CHECK(check_reply("5 0 7 10 15", 5, c).verdict == Verdict::WrongCount);
    CHECK(check_reply("5 0 7 10 15 22 0", 5, c).verdict == Verdict::WrongCount);
    CHECK(check_reply("5 0", 5, c).verdict == Verdict::WrongCount);
    Reply other = check_reply("6 0 7 10 15 22", 5, c);
    CHECK(other.verdict == Verdict::WrongId);
    CHECK(other.id == 6);
    CHECK(check_reply("E bad request", 5, c).verdict == Verdict::ErrorReply);
    CHECK(check_reply("E", 5, c).verdict == Verdict::ErrorReply);
    for (const char* malformed : {"", "5", "5 ", "5  0 7 10 15 22", "5 0 7 10 15 22 ", " 5 0 7 10 15 22",
                                  "5 0 7 10 15 x22", "5 0 7 10 015 22", "5 0 7 10 -15 22", "5 0 7\t10 15 22",
                                  "5 0 7 10 15 99999999999999999999999", "Ex", "5 0 7 10 15 22\r"}) {
        INFO("reply '" << malformed << "'");
        CHECK(check_reply(malformed, 5, c).verdict == Verdict::Malformed);
    }
}

TEST_CASE("tcpclient: lines are whole however the bytes arrive") {
    std::string stream = "1 0 7 10 15 22\n2 0 9801\n\n3 1 0\n";
    std::vector<std::string> expected = {"1 0 7 10 15 22", "2 0 9801", "", "3 1 0"};
    for (size_t piece : {1, 2, 3, 7, 100}) {
        LineBuffer buffer;
        std::vector<std::string> lines;
        for (size_t at = 0; at < stream.size(); at += piece) {
            buffer.append(stream.data() + at, std::min(piece, stream.size() - at));
            while (auto line = buffer.next_line()) lines.emplace_back(*line);
        }
        CHECK(lines == expected);
        CHECK(buffer.pending() == 0);
    }
    LineBuffer partial;
    partial.append("12 0 3", 6);
    CHECK_FALSE(partial.next_line());
    CHECK(partial.pending() == 6);
    std::string long_line(MaxLineLength + 1, '1');
    LineBuffer overlong;
    overlong.append(long_line.data(), long_line.size());
    CHECK(overlong.overlong());
}

TEST_CASE("tcpclient: histogram buckets cover every value within 1/64") {
    std::mt19937_64 random(7);
    for (int i = 0; i < 200000; ++i) {
        uint64_t value = random() >> (random() % 64);
        value = std::min(value, LatencyHistogram::MaxValue);
        size_t bucket = LatencyHistogram::bucket_of(value);
        uint64_t low = LatencyHistogram::bucket_lowest(bucket), high = LatencyHistogram::bucket_highest(bucket);
        REQUIRE(low <= value);
        REQUIRE(value <= high);
        REQUIRE(double(high - low) <= double(low) / 64.0 + 1);
    }
    for (uint64_t v = 0; v < 128; ++v) CHECK(LatencyHistogram::bucket_lowest(LatencyHistogram::bucket_of(v)) == v);
    // Consecutive buckets tile the line without gaps.
    for (size_t b = 0; b + 1 < LatencyHistogram::bucket_of(LatencyHistogram::MaxValue); ++b)
        REQUIRE(LatencyHistogram::bucket_highest(b) + 1 == LatencyHistogram::bucket_lowest(b + 1));
}

TEST_CASE("tcpclient: histogram percentiles match exact sorted samples") {
    std::mt19937_64 random(11);
    std::lognormal_distribution<double> latency(8.0, 1.5);   // microseconds, a long tail
    LatencyHistogram histogram;
    std::vector<uint64_t> samples;
    for (int i = 0; i < 100000; ++i) {
        uint64_t value = uint64_t(latency(random));
        histogram.record(value);
        samples.push_back(value);
    }
    std::sort(samples.begin(), samples.end());
    for (double percent : {1.0, 50.0, 90.0, 99.0, 99.9, 100.0}) {
        size_t rank = size_t(std::ceil(percent / 100.0 * samples.size()));
        uint64_t exact = samples[rank - 1];
        uint64_t estimate = histogram.percentile(percent);
        INFO("p" << percent << " exact " << exact << " estimate " << estimate);
        CHECK(estimate >= exact);
        CHECK(double(estimate) <= double(exact) * (1 + 1.0 / 64) + 1);
    }
    CHECK(histogram.max() == samples.back());
    CHECK(histogram.min() == samples.front());
    CHECK(histogram.percentile(100) == samples.back());
    double sum = 0;
    for (auto v : samples) sum += double(v);
    CHECK(histogram.mean() == Approx(sum / samples.size()));
}

TEST_CASE("tcpclient: histograms merge as if recorded together, and empty ones say 0") {
    LatencyHistogram a, b, both;
    for (uint64_t v = 1; v < 5000; v += 3) {
        (v % 2 ? a : b).record(v * 7);
        both.record(v * 7);
    }
    a.merge(b);
    CHECK(a.count() == both.count());
    for (double p : {50.0, 90.0, 99.0, 99.9}) CHECK(a.percentile(p) == both.percentile(p));
    CHECK(a.max() == both.max());
    LatencyHistogram empty;
    CHECK(empty.percentile(99) == 0);
    CHECK(empty.mean() == 0);
    CHECK(empty.max() == 0);
    LatencyHistogram one;
    one.record(12345);
    CHECK(one.percentile(50) == 12345);   // clamped to the only value, not the bucket's top
    LatencyHistogram huge;
    huge.record(UINT64_MAX);
    CHECK(huge.max() == LatencyHistogram::MaxValue);
}

TEST_CASE("tcpclient: options") {
    std::string error;
    auto defaults = parse_options({}, error);
    REQUIRE(defaults);
    CHECK(defaults->host == "127.0.0.1");
    CHECK(defaults->loop == Loop::Closed);
    auto all = parse_options({"--host", "127.0.0.1", "--port", "6201", "--connections", "1024", "--n", "20",
                              "--interval-ms", "50", "--duration", "2.5", "--loop", "open", "--ramp-ms", "5",
                              "--priorities", "8", "--csv", "x.csv", "--seed", "42", "--verbose"},
                             error);
    REQUIRE(all);
    CHECK(all->port == 6201);
    CHECK(all->connections == 1024);
    CHECK(all->n == 20);
    CHECK(all->interval_ms == 50);
    CHECK(all->duration_s == 2.5);
    CHECK(all->loop == Loop::Open);
    CHECK(all->ramp_ms == 5);
    CHECK(all->priorities == 8);
    CHECK(all->csv == "x.csv");
    CHECK(all->seed == 42);
    CHECK(all->verbose);
    for (std::vector<std::string> bad : std::vector<std::vector<std::string>>{
             {"--n", "0"}, {"--n", "65"}, {"--port", "0"}, {"--port", "70000"}, {"--connections", "x"},
             {"--loop", "sideways"}, {"--duration", "0"}, {"--duration", "2s"}, {"--port"}, {"--bogus", "1"},
             {"--loop", "open", "--interval-ms", "0"}, {"stray"}}) {
        INFO(bad[0]);
        CHECK_FALSE(parse_options(bad, error));
        CHECK_FALSE(error.empty());
    }
}

TEST_CASE("tcpclient: the report adds connections into levels and the summary line") {
    Report report;
    report.options.priorities = 3;
    report.window_s = 2;
    for (uint32_t i = 0; i < 4; ++i) {
        ConnectionResult connection;
        connection.index = i;
        connection.ready = i < 3;
        connection.level = i < 3 ? int64_t(i % 2) : -1;
        connection.counts.sent = 10;
        connection.counts.replies = i < 3 ? 9 : 0;
        connection.counts.lost = i < 3 ? 1 : 10;
        connection.counts.late = i;
        for (uint64_t v = 1; v <= connection.counts.replies; ++v) connection.counts.latency.record(v * 100 * (i + 1));
        report.connections.push_back(connection);
    }
    Counts sum = total(report);
    CHECK(sum.sent == 40);
    CHECK(sum.replies == 27);
    CHECK(sum.lost == 13);
    CHECK(sum.late == 6);
    CHECK(sum.on_time_percent() == Approx(100.0 * 21 / 40));
    auto levels = by_level(report);
    REQUIRE(levels.size() == 3);   // 0, 1, and the empty level 2 of --priorities 3
    CHECK(levels[0].first == 2);
    CHECK(levels[0].second.replies == 18);
    CHECK(levels[1].first == 1);
    CHECK(levels[2].first == 0);
    CHECK(ready_count(report) == 3);
    std::string line = summary_line(report);
    CHECK(std::regex_search(line, std::regex("^tcpclient: sent 40 replies 27 wrong 0 lost 13 late 6 mean_us [0-9]+ "
                                             "p50_us [0-9]+ p90_us [0-9]+ p99_us [0-9]+ p999_us [0-9]+ max_us 2700 "
                                             "rps 13.5 ontime_pct 52.50 errors 0 connections 4 ready 3 dropped 0 warmup_wrong 0$")));
    auto lines = level_lines(report);
    REQUIRE(lines.size() == 3);
    CHECK(lines[0].rfind("tcpclient: level 0 connections 2 sent 20 replies 18 ", 0) == 0);
}
