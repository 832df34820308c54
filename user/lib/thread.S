/*
 * long spawn_thread(int (*entry)(void*), void* argument, void* stack_top, int* child_tid)
 *
 * Creates a thread of this process with clone(CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND |
 * CLONE_THREAD | CLONE_SYSVSEM | CLONE_CHILD_CLEARTID | CLONE_CHILD_SETTID). The new thread starts on
 * stack_top, calls entry(argument) and ends with exit(its result); the kernel then zeroes *child_tid
 * and wakes futex waiters on it, which is how join works. Returns the new thread's id (or -errno).
 * In assembly because the child returns from the ecall on a stack with no frames of the caller's.
 */
    .section .text
    .global spawn_thread
spawn_thread:
    /* The child finds entry and argument on its new stack. */
    addi    a2, a2, -16
    sd      a0, 0(a2)
    sd      a1, 8(a2)
    mv      a4, a3              /* child_tid */
    li      a0, 0x1250f00       /* flags: VM FS FILES SIGHAND THREAD SYSVSEM CHILD_CLEARTID CHILD_SETTID */
    mv      a1, a2              /* stack */
    li      a2, 0               /* parent_tid */
    li      a3, 0               /* tls */
    li      a7, 220             /* clone */
    ecall
    bnez    a0, 1f              /* the caller (a0 = tid or -errno) returns */
    ld      t0, 0(sp)
    ld      a0, 8(sp)
    addi    sp, sp, 16
    mv      s0, zero
    jalr    t0
    li      a7, 93              /* exit: this thread only */
    ecall
1:  ret
