/*
 * cokernel_user_interrupt_entry: the user-space interrupt handler of every process (utvec points
 * here; uscratch holds the thread's UserInterruptContext, vdso/completion.hpp).
 *
 * An interrupt can arrive between any two instructions of the interrupted code, so everything the C
 * calling convention lets a callee clobber (ra, t0-t6, a0-a7) is saved on the interrupted stack
 * (the RISC-V psABI has no red zone, and compiled code keeps sp 16-byte aligned) and restored
 * before uret, which returns to uepc with UIE restored from UPIE. Callee-saved registers, sp, gp
 * and tp are preserved by the C++ handler itself. CSRs are named by number: the assembler no
 * longer knows the N extension's names.
 */
    .section .text
    .global cokernel_user_interrupt_entry
    .type cokernel_user_interrupt_entry, @function
    .balign 4
cokernel_user_interrupt_entry:
    addi    sp, sp, -128
    sd      ra, 0(sp)
    sd      t0, 8(sp)
    sd      t1, 16(sp)
    sd      t2, 24(sp)
    sd      a0, 32(sp)
    sd      a1, 40(sp)
    sd      a2, 48(sp)
    sd      a3, 56(sp)
    sd      a4, 64(sp)
    sd      a5, 72(sp)
    sd      a6, 80(sp)
    sd      a7, 88(sp)
    sd      t3, 96(sp)
    sd      t4, 104(sp)
    sd      t5, 112(sp)
    sd      t6, 120(sp)
    csrr    a0, 0x040           /* uscratch */
    call    vdso_user_interrupt_dispatch
    ld      ra, 0(sp)
    ld      t0, 8(sp)
    ld      t1, 16(sp)
    ld      t2, 24(sp)
    ld      a0, 32(sp)
    ld      a1, 40(sp)
    ld      a2, 48(sp)
    ld      a3, 56(sp)
    ld      a4, 64(sp)
    ld      a5, 72(sp)
    ld      a6, 80(sp)
    ld      a7, 88(sp)
    ld      t3, 96(sp)
    ld      t4, 104(sp)
    ld      t5, 112(sp)
    ld      t6, 120(sp)
    addi    sp, sp, 128
    .word   0x00200073          /* uret */
    .size cokernel_user_interrupt_entry, . - cokernel_user_interrupt_entry

/*
 * cokernel_user_interrupt_upcall_entry: the handler for threads whose deliveries are upcalls
 * (user_interrupt_upcall(UpcallOn), docs/user-interrupts.md "Upcall delivery"; utvec points here).
 * The kernel has saved ra, t0-t6 and a0-a7, cleared uip.USIP and put uscratch (the thread's
 * UserInterruptContext) in a0: no CSR is touched here, so there is no emulated trap. UpcallReturn
 * restores those registers and returns as uret does: the one trap of the handler. sp is the
 * interrupted code's (16-byte aligned); the C++ handler preserves the callee-saved registers.
 */
    .global cokernel_user_interrupt_upcall_entry
    .type cokernel_user_interrupt_upcall_entry, @function
    .balign 4
cokernel_user_interrupt_upcall_entry:
    call    vdso_user_interrupt_upcall_dispatch
    li      a0, 2               /* cokernel::abi::UpcallReturn */
    li      a7, 1044            /* user_interrupt_upcall */
    ecall
    unimp                       /* not reached: UpcallReturn fails only outside an upcall */
    .size cokernel_user_interrupt_upcall_entry, . - cokernel_user_interrupt_upcall_entry
