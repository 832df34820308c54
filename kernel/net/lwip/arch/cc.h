/* lwIP's platform header for the freestanding riscv64 kernel: types from the compiler's own headers,
 * diagnostics and assertions into the kernel log (kernel/net/stack.cpp), random numbers from the
 * kernel's generator. No C library: lwIP's <string.h> and <stdlib.h> are the declarations in
 * kernel/net/lwip/libc/ (the kernel defines them); no stdio, no ctype, no errno. */
#ifndef COKERNEL_LWIP_ARCH_CC_H
#define COKERNEL_LWIP_ARCH_CC_H

#include <stddef.h>
#include <stdint.h>

#define LWIP_NO_INTTYPES_H 1
#define LWIP_NO_CTYPE_H 1
#define LWIP_NO_UNISTD_H 1
typedef long ssize_t;
#define SSIZE_MAX 0x7fffffffffffffffL
#define LWIP_NO_LIMITS_H 0
#define LWIP_PROVIDE_ERRNO 0
#define LWIP_ERRNO_STDINCLUDE 0
#define LWIP_ERRNO_INCLUDE <stddef.h>

#define X8_F "02x"
#define U16_F "u"
#define S16_F "d"
#define X16_F "x"
#define U32_F "u"
#define S32_F "d"
#define X32_F "x"
#define SZT_F "zu"

#define BYTE_ORDER LITTLE_ENDIAN

#ifdef __cplusplus
extern "C" {
#endif
void cokernel_lwip_diagnostic(const char* message);
void cokernel_lwip_assert(const char* message, const char* file, int line);
uint32_t cokernel_lwip_random(void);
#ifdef __cplusplus
}
#endif

/* LWIP_PLATFORM_DIAG((format, ...)) is used only with LWIP_DEBUG, which is off. */
#define LWIP_PLATFORM_DIAG(x) do { } while (0)
#define LWIP_PLATFORM_ASSERT(x) cokernel_lwip_assert((x), __FILE__, __LINE__)
#define LWIP_RAND() cokernel_lwip_random()

#endif
