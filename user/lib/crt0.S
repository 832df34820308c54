/*
 * User program entry. The kernel starts a program with sp at argc, followed by argv[], NULL,
 * envp[], NULL and the auxiliary vector (Linux RISC-V ABI). _start hands that stack pointer to
 * start_program (start.cpp), which binds the vDSO and runs main or async_main; it never returns.
 */
    .section .text.start, "ax"
    .global _start
_start:
    mv      s0, zero
    mv      ra, zero
    mv      a0, sp
    andi    sp, sp, -16
    call    start_program
1:  j       1b
