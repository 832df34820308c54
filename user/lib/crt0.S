/*
 * User program entry. The kernel starts a program with sp at argc, followed by argv[], NULL,
 * envp[], NULL and the auxiliary vector (Linux RISC-V ABI); it also passes argc in a0 and argv in a1.
 * _start calls main(argc, argv) and exits with its return value.
 */
    .section .text.start, "ax"
    .global _start
_start:
    mv      s0, zero
    mv      ra, zero
    call    main
    li      a7, 93          /* exit */
    ecall
1:  j       1b
