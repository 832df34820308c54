// uintrtest's handler: what it records at each delivery, its assembly entry, and the assembly helpers
// the cases call (each with a label where a delivery's uepc can be recognised).
#include "user/programs/uintrtest/uintrtest.hpp"

namespace uintrtest {
HandlerArea areas[3];
} // namespace uintrtest

using namespace uintrtest;

extern "C" {
unsigned long uintr_sp_at_ecall;

// Called by uintr_entry on the handler stack with the interrupted registers and the thread's record.
void uintr_handler(unsigned long* saved, Record* record) {
    if (record->depth++ != 0) ++record->nested_entries;
    unsigned long index = record->deliveries;
    Delivery delivery;
    delivery.uepc = csr_read<Uepc>();
    delivery.ucause = csr_read<Ucause>();
    delivery.utval = csr_read<Utval>();
    delivery.ustatus = csr_read<Ustatus>();
    delivery.uip = csr_read<Uip>();
    for (int i = 0; i < 32; ++i) delivery.registers[i] = saved[i];
    delivery.spins = record->spins;
    if (index < MaxLog) record->log[index] = delivery;
    if (delivery.uepc == reinterpret_cast<unsigned long>(uintr_after_waiting_call)) {
        record->on_return = delivery;
        ++record->on_return_count;
    }
    csr_clear<Uip>(SoftwareInterrupt);  // as on hardware: pending until the handler clears it
    if (record->raise_in_handler) {
        record->raise_in_handler = 0;
        record->nested_raise_result = user::raise_user_interrupt(0);  // UIE is 0: taken after uret
        record->uip_after_nested_raise = csr_read<Uip>();
    }
    __atomic_store_n(&record->deliveries, index + 1, __ATOMIC_RELEASE);
    --record->depth;
}
}

// The handler entry: swaps sp with uscratch (the record, the top of the handler stack), saves every
// register, calls uintr_handler, restores them, swaps sp back and returns with uret (0x00200073,
// written as a word: the assembler no longer knows the N extension's names).
asm(R"(
    .text
    .balign 4
    .globl uintr_entry
uintr_entry:
    csrrw   sp, 0x040, sp
    addi    sp, sp, -256
    .irp n, 1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31
    sd      x\n, \n*8(sp)
    .endr
    csrr    t0, 0x040
    sd      t0, 16(sp)
    sd      zero, 0(sp)
    mv      a0, sp
    addi    a1, sp, 256
    call    uintr_handler
    .irp n, 1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31
    ld      x\n, \n*8(sp)
    .endr
    addi    sp, sp, 256
    csrrw   sp, 0x040, sp
    .4byte  0x00200073

/* raise_with_patterns(after[32]): every register but sp, a0 and a7 holds pattern(n) = 0x5a5a5a5a00000000 + n,
   then raise_user_interrupt(0) (a7 = 1032, a0 = 0); right after the ecall (uintr_after_ecall) every register
   is stored into after[]. The callee-saved ones, gp and tp are restored before returning. */
    .globl raise_with_patterns
raise_with_patterns:
    addi    sp, sp, -384
    sd      a0, 256(sp)
    sd      ra, 264(sp)
    sd      gp, 272(sp)
    sd      tp, 280(sp)
    .irp n, 8, 9, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27
    sd      x\n, (288 + (\n - 8) * 8)(sp)
    .endr
    la      t0, uintr_sp_at_ecall
    sd      sp, 0(t0)
    .irp n, 1, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 14, 15, 16, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31
    li      x\n, 0x5a5a5a5a00000000 + \n
    .endr
    li      a0, 0
    li      a7, 1032
    ecall
    .globl uintr_after_ecall
uintr_after_ecall:
    .irp n, 1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31
    sd      x\n, \n*8(sp)
    .endr
    sd      zero, 0(sp)
    sd      zero, 16(sp)
    ld      a0, 256(sp)
    li      t0, 0
1:  add     t1, sp, t0
    ld      t2, 0(t1)
    add     t1, a0, t0
    sd      t2, 0(t1)
    addi    t0, t0, 8
    li      t1, 256
    blt     t0, t1, 1b
    ld      ra, 264(sp)
    ld      gp, 272(sp)
    ld      tp, 280(sp)
    .irp n, 8, 9, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27
    ld      x\n, (288 + (\n - 8) * 8)(sp)
    .endr
    addi    sp, sp, 384
    ret

/* Set ustatus.UIE (uie.USIE); an interrupt pending and enabled by it is taken at the next instruction. */
    .globl uintr_unmask_status
uintr_unmask_status:
    csrsi   0x000, 1
    .globl uintr_after_unmask_status
uintr_after_unmask_status:
    ret
    .globl uintr_unmask_uie
uintr_unmask_uie:
    csrsi   0x004, 1
    .globl uintr_after_unmask_uie
uintr_after_unmask_uie:
    ret

/* waiting_call(number, a0, a1, a2): the system call `number` with three arguments. The instruction
   after its ecall (uintr_after_waiting_call) is reached only on the call's return, so a delivery whose
   uepc is there was taken on that return. */
    .globl waiting_call
waiting_call:
    mv      a7, a0
    mv      a0, a1
    mv      a1, a2
    mv      a2, a3
    li      a3, 0
    li      a4, 0
    li      a5, 0
    ecall
    .globl uintr_after_waiting_call
uintr_after_waiting_call:
    ret
)");
