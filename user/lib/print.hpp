// Minimal console output for user programs (until the user runtime brings {fmt}).
#pragma once

#include <cstddef>

#include "user/lib/syscall.hpp"

namespace user {

inline size_t length(const char* text) {
    size_t n = 0;
    while (text[n]) ++n;
    return n;
}

inline void print(const char* text) { write(1, text, length(text)); }

inline void print(long value) {
    char digits[24];
    size_t n = 0;
    bool negative = value < 0;
    unsigned long magnitude = negative ? 0ul - static_cast<unsigned long>(value) : static_cast<unsigned long>(value);
    do {
        digits[sizeof(digits) - 1 - n++] = static_cast<char>('0' + magnitude % 10);
        magnitude /= 10;
    } while (magnitude);
    if (negative) digits[sizeof(digits) - 1 - n++] = '-';
    write(1, digits + sizeof(digits) - n, n);
}

inline void print(int value) { print(static_cast<long>(value)); }

// Prints every argument in turn: say("pid ", pid, "\n").
template <typename... Parts>
void say(Parts... parts) {
    (print(parts), ...);
}

} // namespace user
