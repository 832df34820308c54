/* What lwIP uses of <stdlib.h> (netif_find's atoi), for its freestanding build: defined in
 * kernel/net/stack.cpp. */
#ifndef COKERNEL_LWIP_STDLIB_H
#define COKERNEL_LWIP_STDLIB_H
int atoi(const char* text);
#endif
