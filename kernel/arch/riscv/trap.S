/*
 * Supervisor trap vector (stvec, direct mode), and the return to user mode.
 *
 * sscratch tells where a trap came from: 0 while the hart runs kernel code, the current thread's
 * UserContext while it runs user code. The first instruction swaps sp and sscratch; a zero says
 * "from the kernel" and the swap is undone.
 *
 * From the kernel: every register and sepc/sstatus/scause/stval go into a TrapFrame pushed on the
 * current kernel stack; trap_handler(TrapFrame*) runs; the frame is restored and sret returns. The
 * handler may change frame->sepc (to skip an instruction) and frame->sstatus.
 *
 * From user mode: the registers go into the thread's UserContext (its TrapFrame, then the kernel sp
 * and tp to use), sscratch becomes 0, and user_trap_handler(UserContext*) runs on the thread's
 * kernel stack. It may switch to other threads and come back; when it returns, return_to_user
 * restores the UserContext it returns and srets into user mode.
 *
 * Layouts (kernel/arch/riscv/trap.hpp): TrapFrame = x0..x31 at 8*i (x2 = sp before the trap), then
 * sepc, sstatus, scause, stval: 36 doublewords. UserContext = TrapFrame, kernel_sp, kernel_tp.
 */
#define FRAME_SIZE (36 * 8)
#define USER_CONTEXT_KERNEL_SP (36 * 8)
#define USER_CONTEXT_KERNEL_TP (37 * 8)

/* Every general register but sp (x2) to or from the TrapFrame at sp. */
.macro save_registers
    .irp n, 1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31
    sd      x\n, \n*8(sp)
    .endr
.endm
.macro save_trap_csrs
    .irp csr, sepc, sstatus, scause, stval
    csrr    t0, \csr
    sd      t0, (32 + .Lcsr_index_\csr)*8(sp)
    .endr
.endm
.set .Lcsr_index_sepc, 0
.set .Lcsr_index_sstatus, 1
.set .Lcsr_index_scause, 2
.set .Lcsr_index_stval, 3
.macro restore_registers
    .irp n, 1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31
    ld      x\n, \n*8(sp)
    .endr
.endm

    .section .text
    .balign 4
    .global trap_vector
trap_vector:
    csrrw   sp, sscratch, sp
    bnez    sp, .Lfrom_user
    csrrw   sp, sscratch, sp        /* from the kernel: sp back, sscratch 0 again */
    addi    sp, sp, -FRAME_SIZE
    save_registers
    addi    t0, sp, FRAME_SIZE
    sd      t0, 16(sp)
    save_trap_csrs
    mv      a0, sp
    call    trap_handler
    ld      t0, 32*8(sp)
    csrw    sepc, t0
    ld      t0, 33*8(sp)
    csrw    sstatus, t0
    restore_registers
    addi    sp, sp, FRAME_SIZE
    sret

.Lfrom_user:
    /* sp = UserContext*, sscratch = user sp */
    save_registers
    csrr    t0, sscratch
    sd      t0, 16(sp)
    csrw    sscratch, zero
    save_trap_csrs
    mv      a0, sp
    ld      tp, USER_CONTEXT_KERNEL_TP(sp)
    ld      sp, USER_CONTEXT_KERNEL_SP(sp)
    mv      s0, zero                /* the backtrace ends here */
    call    user_trap_handler       /* returns the UserContext to resume */
    /* fall through */

/* return_to_user(UserContext*): enters user mode with the context's registers. Never returns. */
    .global return_to_user
return_to_user:
    csrw    sstatus, zero           /* interrupts off until sret (SPIE from the context) */
    mv      sp, a0
    ld      t0, 32*8(sp)
    csrw    sepc, t0
    ld      t0, 33*8(sp)
    csrw    sstatus, t0
    csrw    sscratch, sp
    restore_registers
    ld      sp, 16(sp)
    sret
