/* A tiny riscv64 shared object shaped like the vDSO: test input for kernel/exec/elf.cpp (README.md).
 * Built twice: "clean" (linker script vdso.lds: one read-execute segment, no relocations) and, with
 * -DWITH_WRITABLE_DATA and the default layout, "writable" (a .data variable and an undefined reference). */
long cokernel_yield(long value) { return value + 1; }
long cokernel_spawn(long value) { return value * 2; }
const long cokernel_abi_version = 3;
/* Two versions of one name: the old one is hidden (name@VERSION), the new one the default. */
long cokernel_poll_v1(void) { return 10; }
long cokernel_poll_v2(void) { return 11; }
__asm__(".symver cokernel_poll_v1, cokernel_poll@COKERNEL_1.0");
__asm__(".symver cokernel_poll_v2, cokernel_poll@@COKERNEL_1.1");
/* Not in the version script's global list: becomes local. */
long cokernel_internal_helper(long value) { return value - 1; }
#ifdef WITH_WRITABLE_DATA
long cokernel_counter = 5;
extern long cokernel_missing(long); /* undefined: must never be returned */
long cokernel_count(void) { return cokernel_missing(++cokernel_counter); }
#endif
