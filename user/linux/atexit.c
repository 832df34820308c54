/* linux-atexit: leaves main through atexit handlers, which run in reverse order of registration,
 * after stdout is still usable; the exit status is main's. (a0 at entry must be 0: glibc registers
 * a non-zero a0 with atexit too, and would call it here.) */
#include <stdio.h>
#include <stdlib.h>

static void first(void) { printf("linux-atexit: handler 1 (registered first, runs last)\n"); }
static void second(void) { printf("linux-atexit: handler 2\n"); }

int main(void) {
    if (atexit(first) != 0 || atexit(second) != 0) return 1;
    printf("linux-atexit: main returns 7\n");
    return 7;
}
