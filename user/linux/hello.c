/* linux-hello: an ordinary C program, built with Debian's riscv64-linux-gnu-gcc -static against glibc.
 * Prints its arguments and one environment variable, exits with status 3. */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char** argv) {
    printf("linux-hello: hello from glibc, %d argument(s):", argc);
    for (int i = 0; i < argc; ++i) printf(" %s", argv[i]);
    const char* home = getenv("HOME");
    printf("; HOME=%s\n", home ? home : "(unset)");
    return 3;
}
