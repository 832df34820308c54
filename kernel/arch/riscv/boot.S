/*
 * Kernel entry: from OpenSBI to C++ in the higher half.
 *
 * OpenSBI (fw_jump) enters _start in S mode, MMU off, at physical 0x80200000 with
 *     a0 = hart id, a1 = physical address of the flattened device tree.
 * Other harts start at _secondary_start through SBI HSM hart_start with
 *     a0 = hart id, a1 = opaque = virtual address of that hart's Hart record.
 *
 * Both turn on the boot page table (below), jump to the higher half, set up a stack and call C++;
 * secondary harts switch to the kernel page table before they touch their stack.
 * Until then only pc-relative addressing is used (lla), so the code runs at its physical address.
 */

#define SATP_MODE_SV39 (8 << 60)

/* Leaf PTE flags: V R W X G A D (the A and D bits preset, so no hardware update is needed). */
#define PTE_KERNEL_RWX 0xef
#define PTE_KERNEL_RW  0xe7
#define GIGAPAGE(index, flags) (((index) << 28) | (flags))

    .section .text.boot, "ax"
    .global _start
_start:
    /* Only one hart boots the kernel. Under load, OpenSBI may send a hart that had not yet reached its
     * HSM stopped state here as well: that hart stops itself through SBI HSM (hart_stop), so that the
     * kernel can start it later like any other secondary hart. */
    lla     t0, boot_lottery
    li      t1, 1
    amoswap.w t1, t1, (t0)
    bnez    t1, .Lnot_the_boot_hart
    csrw    sie, zero
    csrw    sscratch, zero
    lla     t0, boot_page_table
    srli    t0, t0, 12
    li      t1, SATP_MODE_SV39
    or      t0, t0, t1
    sfence.vma
    csrw    satp, t0
    sfence.vma
    /* Jump to the higher-half address of .Lboot_high, an absolute value stored by the linker. */
    lla     t0, .Lboot_high_address
    ld      t0, 0(t0)
    jr      t0
.Lboot_high:
    lla     sp, boot_stack_top
    /* Zero .bss (nothing in C++ has run yet). */
    lla     t0, __bss_start
    lla     t1, __bss_end
1:  bgeu    t0, t1, 2f
    sd      zero, 0(t0)
    addi    t0, t0, 8
    j       1b
2:  mv      tp, zero
    mv      s0, zero            /* end of the frame-pointer chain */
    mv      ra, zero
    call    kernel_main         /* (hart id, device-tree physical address); never returns */
3:  wfi
    j       3b

.Lnot_the_boot_hart:
    /* hart_stop does not return when it succeeds; while the firmware still has this hart in a state
     * it cannot stop from, try again after a pause. */
    li      a7, 0x48534d        /* SBI HSM */
    li      a6, 1               /* hart_stop */
    ecall
    li      t0, 1000000
5:  addi    t0, t0, -1
    bnez    t0, 5b
    j       .Lnot_the_boot_hart

    .global _secondary_start
_secondary_start:
    csrw    sie, zero
    csrw    sscratch, zero
    lla     t0, boot_page_table
    srli    t0, t0, 12
    li      t1, SATP_MODE_SV39
    or      t0, t0, t1
    sfence.vma
    csrw    satp, t0
    sfence.vma
    lla     t0, .Lsecondary_high_address
    ld      t0, 0(t0)
    jr      t0
.Lsecondary_high:
    /* The hart's stack lies in the kernel stack area, which only the kernel page table maps: switch
     * to it first (mm::init stored its satp value before any secondary hart was started). */
    lla     t0, kernel_page_table_satp
    ld      t0, 0(t0)
    sfence.vma
    csrw    satp, t0
    sfence.vma
    /* a1 is the Hart record; its first field is the top of this hart's kernel stack. */
    ld      sp, 0(a1)
    mv      tp, a1
    mv      s0, zero
    mv      ra, zero
    call    secondary_main      /* (hart id, Hart*); never returns */
4:  wfi
    j       4b

/* call_on_stack(top, continuation): moves to the stack ending at `top` and calls continuation()
 * there, with an empty frame-pointer chain (s0 = ra = 0). Never returns; nothing of the old stack is
 * kept. Used by the boot hart to leave boot_stack for a guarded stack (kernel/arch/riscv/hart.cpp). */
    .section .text
    .global call_on_stack
call_on_stack:
    mv      sp, a0
    mv      s0, zero
    mv      ra, zero
    jr      a1

    .section .text.boot, "ax"
    .balign 8
.Lboot_high_address:
    .dword  .Lboot_high
.Lsecondary_high_address:
    .dword  .Lsecondary_high

/*
 * The boot page table: Sv39 root with 1 GiB leaves only.
 *   entry 2        0x0000000080000000 -> 0x80000000  identity, so the jump after csrw satp works
 *   entries 256+i  0xffffffc000000000 + i GiB -> i GiB, i < 64: the direct map of physical memory
 *   entry 510      0xffffffff80000000 -> 0x80000000  the kernel image in the higher half
 * kernel_main replaces it with a page table that maps each kernel section with its own permissions.
 */
    .section .data.boot_page_table, "aw"
    .balign 4096
    .global boot_page_table
boot_page_table:
    .dword  0, 0
    .dword  GIGAPAGE(2, PTE_KERNEL_RWX)
    .fill   253, 8, 0
    .set    gigabyte, 0
    .rept   64
    .dword  GIGAPAGE(gigabyte, PTE_KERNEL_RW)
    .set    gigabyte, gigabyte + 1
    .endr
    .fill   510 - 256 - 64, 8, 0
    .dword  GIGAPAGE(2, PTE_KERNEL_RWX)
    .dword  0

    .section .data
    .balign 4
boot_lottery:                   /* in .data, not .bss: the winner zeroes .bss */
    .word   0

    .section .bss
    .balign 16
boot_stack:
    .space  16384
    .global boot_stack_top
boot_stack_top:
