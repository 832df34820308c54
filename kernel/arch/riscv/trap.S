/*
 * Supervisor trap vector (stvec, direct mode), and the return to user mode.
 *
 * sscratch tells where a trap came from: 0 while the hart runs kernel code, the current thread's
 * UserContext while it runs user code. The first instruction swaps sp and sscratch; a zero says
 * "from the kernel" and the swap is undone.
 *
 * From the kernel: every register and sepc/sstatus/scause/stval go into a TrapFrame pushed on the
 * current kernel stack; trap_handler(TrapFrame*) runs; the frame is restored and sret returns. The
 * handler may change frame->sepc (to skip an instruction, or to resume a faulting access to user
 * memory at its fixup: user_access.S) and frame->sstatus. The handler runs with sstatus.SUM clear
 * even when the trap interrupted a copy to or from user memory (which runs with SUM set): an
 * interrupt handler never reaches user pages by accident; sret restores the interrupted SUM.
 *
 * From user mode: the registers go into the thread's UserContext (its TrapFrame, then the kernel sp
 * and tp to use), sscratch becomes 0, and user_trap_handler(UserContext*) runs on the thread's
 * kernel stack. It may switch to other threads and come back; when it returns, return_to_user
 * restores the UserContext it returns and srets into user mode.
 *
 * Kernel stack overflow: before the kernel path stores anything through sp it checks where the
 * frame would go. If sp - FRAME_SIZE lies in the guard half of a slot of the kernel stack area
 * (kernel/mm/kernel_stacks.hpp: inside the area and bit 14 of its offset clear), storing the frame
 * there would fault again, forever. Instead the frame is built on the hart's emergency stack (Hart::
 * emergency_stack_top, outside the area) with the faulting sp in it, and kernel_stack_overflow()
 * reports and stops the machine. The check needs two scratch registers before any memory access
 * through sp: t0 and t1 go to Hart::trap_scratch, reached through tp, which in kernel code always
 * holds this hart's Hart record (set before the trap vector is installed, never changed). The cost
 * on the normal path: two stores, eight instructions of arithmetic and branches, two loads.
 *
 * Layouts (kernel/arch/riscv/trap.hpp): TrapFrame = x0..x31 at 8*i (x2 = sp before the trap), then
 * sepc, sstatus, scause, stval: 36 doublewords. UserContext = TrapFrame, kernel_sp, kernel_tp.
 */
#include "kernel/arch/riscv/trap_constants.h"

#define FRAME_SIZE (36 * 8)
#define SSTATUS_SUM 0x40000         /* 1 << 18 */
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
    sd      t0, HART_TRAP_SCRATCH_T0(tp)
    sd      t1, HART_TRAP_SCRATCH_T1(tp)
    li      t0, KERNEL_STACK_AREA_BASE
    sub     t0, sp, t0              /* offset of the frame in the stack area */
    srli    t1, t0, KERNEL_STACK_AREA_SHIFT
    bnez    t1, 1f                  /* not in the area */
    srli    t1, t0, KERNEL_STACK_GUARD_SHIFT
    andi    t1, t1, 1
    beqz    t1, .Lkernel_stack_overflow  /* in a slot's lower (guard) half */
1:  ld      t0, HART_TRAP_SCRATCH_T0(tp)
    ld      t1, HART_TRAP_SCRATCH_T1(tp)
    save_registers
    addi    t0, sp, FRAME_SIZE
    sd      t0, 16(sp)
    save_trap_csrs
    li      t0, SSTATUS_SUM         /* the handler runs without SUM; sret restores it with sstatus */
    csrc    sstatus, t0
    mv      a0, sp
    call    trap_handler
    ld      t0, 32*8(sp)
    csrw    sepc, t0
    ld      t0, 33*8(sp)
    csrw    sstatus, t0
    restore_registers
    addi    sp, sp, FRAME_SIZE
    sret

.Lkernel_stack_overflow:
    /* The frame would land in a guard page: build it on the emergency stack instead, with the sp of
     * the overflowing code, and report. Interrupts are off (the trap cleared SIE). Never returns. */
    addi    t0, sp, FRAME_SIZE      /* the sp at the trap */
    ld      sp, HART_EMERGENCY_STACK_TOP(tp)
    addi    sp, sp, -FRAME_SIZE
    sd      t0, 16(sp)
    ld      t0, HART_TRAP_SCRATCH_T0(tp)
    ld      t1, HART_TRAP_SCRATCH_T1(tp)
    save_registers
    save_trap_csrs
    mv      a0, sp
    call    kernel_stack_overflow   /* (TrapFrame*), [[noreturn]] */
2:  j       2b

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
