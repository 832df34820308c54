/*
 * The kernel's direct access to user memory (AddressSpace's copies and checks, kernel/proc/
 * address_space.cpp; docs/architecture.md, "User memory access").
 *
 * Two leaf functions reach user addresses with sstatus.SUM set, so the MMU itself checks U, R and W
 * with the current satp: a load from a page without R (or not mapped) raises a load page fault, a
 * store or AMO to a page without W a store/AMO page fault. Each sets SUM on entry and clears it on
 * every way out; nothing else in the kernel runs with SUM (trap.S clears it for a trap taken in the
 * kernel and restores it with sstatus on the way back).
 *
 * The fault-fixup table: the pcs where such a fault may happen are known. Each range of them has an
 * entry { begin, end, fixup } in the section `user_access_fixups` (kernel.ld gathers the entries
 * between __user_access_fixups_start and __user_access_fixups_end). The kernel's trap handler,
 * for a load/store page fault or access fault taken in supervisor mode at a pc in [begin, end),
 * resumes at `fixup` instead of stopping the kernel (trap.cpp, user_access_fixup); the fixup clears
 * SUM and returns the failure. Any other kernel fault still ends in report_fatal_trap. The handler
 * restores every register from the trap frame, so the fixup finds the loop's registers as they were
 * at the faulting instruction.
 *
 * Neither function may be called with an address outside the user half: the caller checks the range
 * (with SUM, a supervisor access to a kernel page would not fault).
 */
#define SSTATUS_SUM 0x40000          /* 1 << 18 */
#define PAGE_SIZE 4096

/* A fault at a pc in [begin, end) resumes at fixup. */
.macro user_access_fixup begin, end, fixup
    .pushsection user_access_fixups, "a"
    .balign 8
    .dword \begin, \end, \fixup
    .popsection
.endm

    .section .text
/*
 * size_t user_access_copy(void* destination, const void* source, size_t size)
 *
 * Copies size bytes; one of the two is a user address. Returns 0, or the bytes not copied if an
 * access faulted (the bytes before the faulting doubleword or byte are copied). Doublewords when
 * destination and source are equally aligned and size is at least 8 (bytes up to the boundary
 * first), bytes otherwise: no misaligned access. a3 holds the destination's end throughout, so the count left is a3 - a0 at any
 * instruction, the fixup's answer too.
 */
    .balign 4
    .global user_access_copy
user_access_copy:
    li      t6, SSTATUS_SUM
    add     a3, a0, a2              /* end of the destination */
    csrs    sstatus, t6
.Lcopy_begin:
    li      t0, 8
    bltu    a2, t0, .Lcopy_bytes    /* less than a doubleword: byte by byte */
    xor     t0, a0, a1
    andi    t0, t0, 7
    bnez    t0, .Lcopy_bytes        /* differently aligned: byte by byte */
    andi    t2, a3, -8              /* end of the last whole doubleword */
.Lcopy_head:                        /* bytes up to an 8-byte boundary */
    andi    t0, a0, 7
    beqz    t0, .Lcopy_words
    beq     a0, a3, .Lcopy_done
    lbu     t1, 0(a1)
    sb      t1, 0(a0)
    addi    a0, a0, 1
    addi    a1, a1, 1
    j       .Lcopy_head
.Lcopy_words:
    bgeu    a0, t2, .Lcopy_bytes
1:  ld      t1, 0(a1)
    sd      t1, 0(a0)
    addi    a0, a0, 8
    addi    a1, a1, 8
    bltu    a0, t2, 1b
.Lcopy_bytes:
    beq     a0, a3, .Lcopy_done
2:  lbu     t1, 0(a1)
    sb      t1, 0(a0)
    addi    a0, a0, 1
    addi    a1, a1, 1
    bne     a0, a3, 2b
.Lcopy_end:
.Lcopy_done:                        /* also the fixup: a0 is where the copy stopped */
    csrc    sstatus, t6
    sub     a0, a3, a0
    ret
    user_access_fixup .Lcopy_begin, .Lcopy_end, .Lcopy_done

/*
 * int user_access_probe(uint64_t first_page, uint64_t last_page, int write)
 *
 * 0 if every page of [first_page, last_page] (page-aligned, first <= last) can be read (write == 0)
 * or written (write != 0) by a load or store under SUM now, -1 at the first that cannot. The read
 * probe loads a byte of each page; the write probe is `amoor.w zero, zero, (page)`: an atomic OR
 * with 0 changes no bit, even against another hart's stores to the same word, and like a store it
 * needs W (an AMO also needs R, which every writable page has: W without R is reserved).
 */
    .balign 4
    .global user_access_probe
user_access_probe:
    li      t6, SSTATUS_SUM
    li      t3, PAGE_SIZE
    csrs    sstatus, t6
.Lprobe_begin:
    bnez    a2, .Lprobe_write
1:  lbu     t0, 0(a0)
    add     a0, a0, t3
    bgeu    a1, a0, 1b
    j       .Lprobe_passed
.Lprobe_write:
    amoor.w zero, zero, (a0)
    add     a0, a0, t3
    bgeu    a1, a0, .Lprobe_write
.Lprobe_end:
.Lprobe_passed:
    csrc    sstatus, t6
    li      a0, 0
    ret
.Lprobe_fault:
    csrc    sstatus, t6
    li      a0, -1
    ret
    user_access_fixup .Lprobe_begin, .Lprobe_end, .Lprobe_fault
