// The kernel's binding to the vDSO: function pointers to the entry points of vdso/vdso_api.h inside
// the kernel-half mapping of the image (KernelVdsoBase + the symbol's offset, found at boot in the
// image's dynamic symbol table at version COKERNEL_1.0). The kernel never links the executor itself:
// every executor operation it performs runs the very machine code processes run.
//
// Invariant after vdso_binding::init(): every pointer is non-null and lies inside
// [KernelVdsoBase, KernelVdsoBase + vdso_binding::mapped_size()).
#pragma once

#include <cstddef>
#include <cstdint>

#include "abi/result.hpp"
#include "kernel/exec/elf.hpp"
#include "vdso/vdso_api.h"

namespace kernel::vdso_binding {

struct ExecutorFunctions {
    decltype(&cokernel_executor_state_size) executor_state_size;
    decltype(&cokernel_executor_state_alignment) executor_state_alignment;
    decltype(&cokernel_control_block_size) control_block_size;
    decltype(&cokernel_executor_init) executor_init;
    decltype(&cokernel_executor_set_hooks) executor_set_hooks;
    decltype(&cokernel_executor_spawn) executor_spawn;
    decltype(&cokernel_executor_fetch) executor_fetch;
    decltype(&cokernel_executor_finish) executor_finish;
    decltype(&cokernel_executor_wake) executor_wake;
    decltype(&cokernel_executor_set_priority) executor_set_priority;
    decltype(&cokernel_executor_cancel) executor_cancel;
    decltype(&cokernel_executor_state_of) executor_state_of;
    decltype(&cokernel_executor_highest_ready) executor_highest_ready;
    decltype(&cokernel_executor_check_invariants) executor_check_invariants;
    decltype(&cokernel_coroutine_record_suspension) coroutine_record_suspension;
    decltype(&cokernel_poll_once) poll_once;
    decltype(&cokernel_run_until_idle) run_until_idle;
};

// One entry point the kernel binds: its name in the image and where its address goes.
struct BoundSymbol {
    const char* name;
    uint64_t offset;  // st_value: offset from the image's base, recorded at boot
};

// Bound by vdso_binding::init(); reading them before is a bug (they are null). Inline: every
// kernel coroutine's suspension and every poll of an executor goes through them.
extern ExecutorFunctions bound_functions;
inline const ExecutorFunctions& executor_functions() { return bound_functions; }
// The symbols behind executor_functions(), with the offsets found at boot.
const BoundSymbol* bound_symbols(size_t& count);

// The kernel's own executor (the kernel counts as one address space): its state, in kernel heap
// memory, over KernelCoroutineCapacity control blocks. Its poll loop is every hart's scheduler loop;
// the switch coroutines (kernel/sched/switch_coroutine.cpp) live in it.
constexpr uint32_t KernelCoroutineCapacity = 256;
extern void* switch_executor_state;  // set once by vdso_binding::init()
inline void* switch_executor() { return switch_executor_state; }

// An executor in kernel heap memory, for a kernel subsystem or a test of its own: state and
// `capacity` control blocks. NoMemory when the heap cannot hold it.
struct OwnedExecutor {
    void* state = nullptr;
    void* blocks = nullptr;
};
Result<OwnedExecutor> create_executor(uint32_t capacity);
void destroy_executor(OwnedExecutor& executor);  // only when no coroutine is left in it

// Called by vdso_binding::init(): binds every entry point (panics naming a missing one) and creates the
// switch executor.
void bind_kernel_entry_points(const exec::SharedObject& object, uint64_t base);

} // namespace kernel::vdso_binding
