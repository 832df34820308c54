#include "tools/tcpclient/options.hpp"

#include <charconv>
#include <cstdlib>

#include "tools/tcpclient/protocol.hpp"

namespace tcpclient {

namespace {

template <typename T>
bool parse_unsigned(const std::string& text, T& value, uint64_t low, uint64_t high) {
    uint64_t parsed = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), parsed);
    if (error != std::errc() || end != text.data() + text.size() || parsed < low || parsed > high) return false;
    value = T(parsed);
    return true;
}

}  // namespace

const char* usage() {
    return "usage: tcpclient [--host 127.0.0.1] [--port P] [--connections C] [--n N] [--interval-ms I]\n"
           "                 [--duration S] [--loop closed|open] [--ramp-ms R] [--priorities L]\n"
           "                 [--csv FILE] [--histogram-csv FILE] [--seed X] [--grace-ms G]\n"
           "                 [--connect-timeout S] [--cpu K] [--verbose]\n";
}

std::optional<Options> parse_options(const std::vector<std::string>& arguments, std::string& error) {
    Options options;
    for (size_t i = 0; i < arguments.size(); ++i) {
        const std::string& option = arguments[i];
        if (option == "--verbose") {
            options.verbose = true;
            continue;
        }
        if (i + 1 >= arguments.size()) {
            error = option.rfind("--", 0) == 0 ? option + " needs a value" : "unknown argument " + option;
            return std::nullopt;
        }
        const std::string& value = arguments[++i];
        bool ok = true;
        if (option == "--host") options.host = value, ok = !value.empty();
        else if (option == "--port") ok = parse_unsigned(value, options.port, 1, 65535);
        else if (option == "--connections") ok = parse_unsigned(value, options.connections, 1, 65536);
        else if (option == "--n") ok = parse_unsigned(value, options.n, 1, MaxOrder);
        else if (option == "--interval-ms") ok = parse_unsigned(value, options.interval_ms, 0, 3600 * 1000);
        else if (option == "--ramp-ms") ok = parse_unsigned(value, options.ramp_ms, 0, 60 * 1000);
        else if (option == "--priorities") ok = parse_unsigned(value, options.priorities, 0, 64);
        else if (option == "--seed") ok = parse_unsigned(value, options.seed, 0, UINT64_MAX);
        else if (option == "--grace-ms") ok = parse_unsigned(value, options.grace_ms, 0, 3600 * 1000);
        else if (option == "--connect-timeout") ok = parse_unsigned(value, options.connect_timeout_s, 1, 3600);
        else if (option == "--cpu") ok = parse_unsigned(value, options.cpu, 0, 4095);
        else if (option == "--csv") options.csv = value;
        else if (option == "--histogram-csv") options.histogram_csv = value;
        else if (option == "--duration") {
            char* end = nullptr;
            options.duration_s = std::strtod(value.c_str(), &end);
            ok = end && *end == '\0' && !value.empty() && options.duration_s > 0 && options.duration_s <= 86400;
        } else if (option == "--loop") {
            if (value == "closed") options.loop = Loop::Closed;
            else if (value == "open") options.loop = Loop::Open;
            else ok = false;
        } else {
            error = "unknown option " + option;
            return std::nullopt;
        }
        if (!ok) {
            error = "bad value '" + value + "' for " + option;
            return std::nullopt;
        }
    }
    if (options.loop == Loop::Open && options.interval_ms == 0) {
        error = "--loop open needs --interval-ms above 0";
        return std::nullopt;
    }
    return options;
}

}  // namespace tcpclient
