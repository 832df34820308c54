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

// The value of the leading decimal digits of `text` (0 if there are none).
inline long parse_decimal(const char* text) {
    long value = 0;
    for (; *text >= '0' && *text <= '9'; ++text) value = value * 10 + (*text - '0');
    return value;
}

// Decimal text of a non-negative number, in `buffer` (at least 21 bytes); returns buffer.
inline const char* decimal_text(unsigned long value, char* buffer) {
    char digits[21];
    int n = 0;
    do digits[n++] = static_cast<char>('0' + value % 10);
    while ((value /= 10) != 0);
    for (int i = 0; i < n; ++i) buffer[i] = digits[n - 1 - i];
    buffer[n] = '\0';
    return buffer;
}

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
