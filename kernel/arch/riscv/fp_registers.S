/*
 * fp_save_registers(FpRegisters* to), fp_load_registers(const FpRegisters* from)
 *
 * Store or load f0..f31 (as doubles: 64 bits each, so single-precision values keep their NaN boxing)
 * and fcsr. The kernel is assembled for rv64imac; only these routines enable F and D for the
 * assembler, so no other kernel code can use the unit by accident. Each first turns the unit on
 * (sstatus.FS = Dirty): with FS Off every instruction below would trap. Layout: fp_registers.hpp.
 * Clobbers t0 only. Call only on a hart with F and D (kernel/sched/fp_state.hpp decides).
 */
    .section .text
    .option push
    .option arch, +d

    .global fp_save_registers
fp_save_registers:
    li      t0, 3 << 13
    csrs    sstatus, t0
    .irp n, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31
    fsd     f\n, \n*8(a0)
    .endr
    frcsr   t0
    sd      t0, 32*8(a0)
    ret

    .global fp_load_registers
fp_load_registers:
    li      t0, 3 << 13
    csrs    sstatus, t0
    .irp n, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31
    fld     f\n, \n*8(a0)
    .endr
    ld      t0, 32*8(a0)
    fscsr   t0
    ret

    .option pop
