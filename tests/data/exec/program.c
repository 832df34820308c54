/* A tiny static riscv64 user program: test input for kernel/exec/elf.cpp (see README.md). */
static const char message[] = "hello from user space\n";
long counter = 41;            /* .data: a writable segment */
static char buffer[64];       /* .bss: memory size beyond the file size */
__thread long thread_value = 7;  /* .tdata: a PT_TLS template */

static long system_call(long number, long a0, long a1, long a2) {
    register long a7 __asm__("a7") = number;
    register long r0 __asm__("a0") = a0;
    register long r1 __asm__("a1") = a1;
    register long r2 __asm__("a2") = a2;
    __asm__ volatile("ecall" : "+r"(r0) : "r"(a7), "r"(r1), "r"(r2) : "memory");
    return r0;
}

void _start(void) {
    buffer[0] = (char)counter;
    system_call(64, 1, (long)message, sizeof message - 1);  /* write */
    system_call(93, counter + buffer[0] - 82, 0, 0);        /* exit(0) */
    for (;;) {}
}
