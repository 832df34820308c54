// The kernel command line (/chosen/bootargs): space-separated `key=value` or bare `key` tokens.
//
//     BootArgs args("selftest=timer,ipi quiet");
//     args.value("selftest")  -> "timer,ipi"        args.has("quiet") -> true
//     list_contains("timer,ipi", "ipi") -> true
#pragma once

#include <string_view>

namespace kernel {

class BootArgs {
public:
    constexpr explicit BootArgs(std::string_view line) : line_(line) {}

    // Value of the first `key=value` token; "" for a bare `key` or when absent (see has()).
    constexpr std::string_view value(std::string_view key) const {
        std::string_view found;
        find(key, found);
        return found;
    }
    constexpr bool has(std::string_view key) const {
        std::string_view ignored;
        return find(key, ignored);
    }

private:
    constexpr bool find(std::string_view key, std::string_view& value) const {
        size_t position = 0;
        while (position < line_.size()) {
            while (position < line_.size() && line_[position] == ' ') ++position;
            size_t end = position;
            while (end < line_.size() && line_[end] != ' ') ++end;
            std::string_view token = line_.substr(position, end - position);
            position = end;
            if (token.empty()) continue;
            size_t equals = token.find('=');
            std::string_view name = token.substr(0, equals);
            if (name != key) continue;
            value = equals == std::string_view::npos ? std::string_view{} : token.substr(equals + 1);
            return true;
        }
        return false;
    }

    std::string_view line_;
};

// Whether a comma-separated list contains `item` as one whole element.
constexpr bool list_contains(std::string_view list, std::string_view item) {
    size_t position = 0;
    while (position <= list.size()) {
        size_t comma = list.find(',', position);
        if (comma == std::string_view::npos) comma = list.size();
        if (list.substr(position, comma - position) == item) return true;
        position = comma + 1;
    }
    return false;
}

} // namespace kernel
