/* What lwIP uses of <string.h>, for its freestanding build: the kernel defines them (kernel/rt/). */
#ifndef COKERNEL_LWIP_STRING_H
#define COKERNEL_LWIP_STRING_H
#include <stddef.h>
void* memcpy(void* destination, const void* source, size_t count);
void* memmove(void* destination, const void* source, size_t count);
void* memset(void* destination, int value, size_t count);
int memcmp(const void* a, const void* b, size_t count);
size_t strlen(const char* text);
int strncmp(const char* a, const char* b, size_t count);
#endif
