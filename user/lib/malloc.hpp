// The user C library's heap: malloc/free over mmap, and operator new/delete on top (malloc.cpp).
//
// Small requests (up to 2,048 bytes) come from size classes of 16..2,048 bytes (powers of two) carved
// out of 64 KiB mmap'ed chunks; larger ones get their own mapping, returned by free. Every block has
// a 16-byte header naming its class (or its mapping's length). Out of memory returns nullptr; plain
// `new` on out of memory writes a message on fd 2 and exits with 134 (no exceptions); `new (std::nothrow)`
// returns nullptr. Thread-safe (one spin lock); freed small blocks are kept for reuse, never unmapped.
#pragma once

#include <cstddef>

namespace user {

void* malloc(size_t size);
void free(void* memory);
void* calloc(size_t count, size_t size);

} // namespace user
