// Formatted output for user programs: print/println with {fmt} 9 format strings, to fd 1
// (eprintln to fd 2).
//
//     user::println("{} coroutines ran on {} threads", count, threads);
//
// {fmt} is header-only, configured as in the kernel (toolchain/flags.cmake: no floating point, no
// locale). This header is the only include of {fmt} in user code, so every program gets the same
// settings; its error paths (which would throw) end with a message on fd 2 and exit status 134
// (fmt_support.cpp). A line longer than MaxLine bytes is cut and marked "[...]", never silently.
#pragma once

#include "user/lib/syscall.hpp" // first: <cerrno> would turn its Errno names into macros

#include <cstddef>

namespace user {
[[noreturn]] void fmt_failure(const char* file, int line, const char* message);
}

#define FMT_THROW(exception) ::user::fmt_failure(__FILE__, __LINE__, "format error")
#define FMT_ASSERT(condition, message) \
    ((condition) ? (void)0 : ::user::fmt_failure(__FILE__, __LINE__, (message)))

#include <fmt/format.h>

#include "user/lib/syscall.hpp"

namespace user {

constexpr size_t MaxLine = 512;

inline void write_formatted(int fd, fmt::string_view format, fmt::format_args args, bool newline) {
    char buffer[MaxLine + 1];
    const size_t room = MaxLine;
    auto result = fmt::vformat_to_n(buffer, room, format, args);
    size_t length = result.size < room ? result.size : room;
    if (result.size > room) __builtin_memcpy(buffer + room - 5, "[...]", 5);
    if (newline) buffer[length++] = '\n';
    write(fd, buffer, length);
}

template <typename... Args>
void print(fmt::format_string<Args...> format, Args&&... args) {
    write_formatted(1, format, fmt::make_format_args(args...), false);
}

template <typename... Args>
void println(fmt::format_string<Args...> format, Args&&... args) {
    write_formatted(1, format, fmt::make_format_args(args...), true);
}

template <typename... Args>
void eprintln(fmt::format_string<Args...> format, Args&&... args) {
    write_formatted(2, format, fmt::make_format_args(args...), true);
}

} // namespace user
