// The C library functions the compiler may call on its own (for struct copies, zeroing, and
// __builtin_mem* that it does not expand inline). Byte loops: simple and correct; the kernel does
// not copy much.
//
// GCC must not turn these loops into calls to themselves: -fno-tree-loop-distribute-patterns.
#include <cstddef>
#include <cstdint>

#define KERNEL_NO_LOOP_TO_CALL __attribute__((optimize("no-tree-loop-distribute-patterns")))

extern "C" {

KERNEL_NO_LOOP_TO_CALL void* memcpy(void* destination, const void* source, size_t count) {
    auto* d = static_cast<unsigned char*>(destination);
    auto* s = static_cast<const unsigned char*>(source);
    for (size_t i = 0; i < count; ++i) d[i] = s[i];
    return destination;
}

KERNEL_NO_LOOP_TO_CALL void* memmove(void* destination, const void* source, size_t count) {
    auto* d = static_cast<unsigned char*>(destination);
    auto* s = static_cast<const unsigned char*>(source);
    if (d < s) {
        for (size_t i = 0; i < count; ++i) d[i] = s[i];
    } else {
        for (size_t i = count; i > 0; --i) d[i - 1] = s[i - 1];
    }
    return destination;
}

KERNEL_NO_LOOP_TO_CALL void* memset(void* destination, int value, size_t count) {
    auto* d = static_cast<unsigned char*>(destination);
    for (size_t i = 0; i < count; ++i) d[i] = static_cast<unsigned char>(value);
    return destination;
}

KERNEL_NO_LOOP_TO_CALL int memcmp(const void* a, const void* b, size_t count) {
    auto* x = static_cast<const unsigned char*>(a);
    auto* y = static_cast<const unsigned char*>(b);
    for (size_t i = 0; i < count; ++i)
        if (x[i] != y[i]) return x[i] < y[i] ? -1 : 1;
    return 0;
}

KERNEL_NO_LOOP_TO_CALL size_t strlen(const char* text) {
    size_t length = 0;
    while (text[length]) ++length;
    return length;
}

KERNEL_NO_LOOP_TO_CALL void* memchr(const void* s, int c, size_t count) {
    auto* p = static_cast<const unsigned char*>(s);
    for (size_t i = 0; i < count; ++i)
        if (p[i] == static_cast<unsigned char>(c)) return const_cast<unsigned char*>(p + i);
    return nullptr;
}

} // extern "C"
