// Formatted kernel output: print() and println() with {fmt} format strings.
//
//     kernel::println("hart {} online, {} ticks", hart.hart_id, ticks);
//
// Formatting goes to a stack buffer (no allocation); a line longer than the buffer is cut and marked
// with "[...]", never silently.
#pragma once

#include <cstddef>
#include <utility>

#include "kernel/console/console.hpp"
#include "kernel/console/fmt.hpp"

namespace kernel {

constexpr size_t MaxLogLine = 512;

inline void write_formatted(fmt::string_view format, fmt::format_args args, bool newline) {
    char buffer[MaxLogLine];
    const size_t room = sizeof(buffer) - 1;
    auto result = fmt::vformat_to_n(buffer, room, format, args);
    size_t length = result.size < room ? result.size : room;
    if (result.size > room) {
        constexpr char marker[] = "[...]";
        for (size_t i = 0; i < sizeof(marker) - 1; ++i) buffer[room - 5 + i] = marker[i];
    }
    if (newline) buffer[length++] = '\n';
    console::write(buffer, length);
}

template <typename... Args>
void print(fmt::format_string<Args...> format, Args&&... args) {
    write_formatted(format, fmt::make_format_args(args...), false);
}

template <typename... Args>
void println(fmt::format_string<Args...> format, Args&&... args) {
    write_formatted(format, fmt::make_format_args(args...), true);
}

// Stops the whole machine after printing the message: for broken invariants, never for errors a
// caller can handle.
[[noreturn]] void panic_message(const char* message);

template <typename... Args>
[[noreturn]] void panic(fmt::format_string<Args...> format, Args&&... args) {
    char buffer[MaxLogLine];
    auto result = fmt::format_to_n(buffer, sizeof(buffer) - 1, format, std::forward<Args>(args)...);
    buffer[result.size < sizeof(buffer) - 1 ? result.size : sizeof(buffer) - 1] = '\0';
    panic_message(buffer);
}

} // namespace kernel
