/*
 * Constants that trap.S and C++ share. C++ code uses the typed names built from these
 * (kernel/mm/kernel_stacks.hpp, kernel/arch/riscv/hart.hpp), which static_assert that they agree.
 */
#pragma once

/* The kernel stack area (kernel/mm/kernel_stacks.hpp): 1 GiB of 32 KiB slots, guard = lower 16 KiB. */
#define KERNEL_STACK_AREA_BASE 0xffffffd000000000
#define KERNEL_STACK_AREA_SHIFT 30
#define KERNEL_STACK_SLOT_SHIFT 15
#define KERNEL_STACK_GUARD_SHIFT 14

/* Byte offsets in struct Hart (kernel/arch/riscv/hart.hpp). */
#define HART_KERNEL_STACK_TOP 0
#define HART_TRAP_SCRATCH_T0 8
#define HART_TRAP_SCRATCH_T1 16
#define HART_EMERGENCY_STACK_TOP 24
