// tcpclient's command line (docs/experiments.md, "The client").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tcpclient {

enum class Loop { Closed, Open };

struct Options {
    std::string host = "127.0.0.1";
    uint16_t port = 6201;
    uint32_t connections = 1;
    uint32_t n = 1;
    uint32_t interval_ms = 100;
    double duration_s = 5;
    Loop loop = Loop::Closed;
    uint32_t ramp_ms = 10;          // between two connections' opening
    uint32_t priorities = 0;        // levels the server was given (0: none, every reply at level 0)
    std::string csv;                // per total, level and connection
    std::string histogram_csv;      // the latency distribution per level
    uint64_t seed = 1;
    uint32_t grace_ms = 2000;       // after the last send, how long replies may still come
    uint32_t connect_timeout_s = 60;  // for every connection to answer its first request
    int cpu = -1;                   // pin the client to this host CPU
    bool verbose = false;
};

// Parses argv (without argv[0]); nullopt and a message in `error` on a bad option.
std::optional<Options> parse_options(const std::vector<std::string>& arguments, std::string& error);
const char* usage();

}  // namespace tcpclient
