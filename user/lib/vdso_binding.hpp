// Binding the vDSO from user space: find its ELF header through the auxiliary vector
// (AT_SYSINFO_EHDR) and resolve every cokernel_* entry point this runtime uses, by name and by
// version COKERNEL_1.0, from the image's dynamic symbol table (vdso/vdso_api.h is the interface).
//
// The reader trusts nothing in the image: every table it follows must lie inside the extent of the
// image's PT_LOAD segments, and every string must end inside DT_STRTAB/DT_STRSZ. It shares no code
// with the kernel's ELF loader (kernel/exec/) on purpose: it runs in the process, on memory the
// process can only read.
#pragma once

#include <cstddef>
#include <cstdint>

#include "abi/abi.hpp"

#include "vdso/vdso_api.h"

namespace user {

constexpr uint64_t AuxNull = 0;
constexpr uint64_t AuxSysinfoElfHeader = 33; // AT_SYSINFO_EHDR
using cokernel::abi::AuxPriorityTable;          // project: the global priority table, read-only

// Every entry point of the vDSO the user runtime calls. All non-null after a successful bind.
struct VdsoFunctions {
    size_t (*executor_state_size)();
    size_t (*executor_state_alignment)();
    size_t (*control_block_size)();
    size_t (*poll_thread_size)();
    size_t (*frame_allocator_size)();
    int (*executor_init)(void* state, void* blocks, uint32_t capacity);
    void (*executor_set_hooks)(void* state, const cokernel_executor_hooks* hooks);
    void (*executor_set_frame_allocator)(void* state, void* allocator);
    void (*poll_thread_init)(void* thread);
    int (*executor_spawn)(void* state, void* resume_address, void* owner, uint32_t priority,
                          cokernel_coroutine_ref* publish, uint64_t* id);
    int (*executor_wake)(void* state, uint64_t id);
    int (*executor_set_priority)(void* state, uint64_t id, uint32_t priority);
    int (*executor_cancel)(void* state, uint64_t id, void** owner);
    int (*executor_state_of)(void* state, uint64_t id);
    int (*executor_priority_of)(void* state, uint64_t id);
    uint32_t (*executor_highest_ready)(const void* state);
    int (*executor_check_invariants)(void* state);
    void (*coroutine_record_suspension)(void* block, void* resume_address, uint32_t reason,
                                        cokernel_arm_function arm, void* arm_context);
    int (*run_poll_loop)(void* state, void* thread);
    int (*frame_allocator_init)(void* allocator, void* memory, size_t memory_size, size_t block_size);
    void* (*frame_allocate)(void* allocator, size_t size);
    void (*frame_free)(void* frame);
    int (*global_priority_should_yield)(const void* table, uint32_t process);
    // COKERNEL_1.1
    void (*async_call_arm)(void* call, void* executor, uint64_t id);
    void (*user_interrupt_entry)();
    uint32_t (*completion_poll)(void* context);
    size_t (*async_call_size)();
    size_t (*user_interrupt_context_size)();
    // COKERNEL_1.2
    void (*user_interrupt_upcall_entry)();
};

enum class BindError {
    None,
    NoAuxiliaryEntry,   // no AT_SYSINFO_EHDR in the auxiliary vector
    NotAnElfImage,      // bad magic, class, machine or header sizes
    MalformedImage,     // a table or string outside the image
    NoDynamicSymbols,   // no PT_DYNAMIC, DT_SYMTAB, DT_STRTAB or symbol count
    NoVersionTables,    // DT_VERSYM or DT_VERDEF missing
    MissingSymbol,      // a cokernel_* name absent, undefined, or not at its version
};

struct BindOutcome {
    BindError error = BindError::None;
    const char* symbol = nullptr; // the missing name, for MissingSymbol
    uintptr_t image = 0;          // the vDSO's address in this process
    size_t image_size = 0;        // extent of its PT_LOAD segments (0 if not read that far)
};

// The value of `type` in the auxiliary vector (pairs ending at AT_NULL), or 0.
uint64_t auxiliary_value(const uint64_t* auxiliary_vector, uint64_t type);

// Fills `functions` from the image at `elf_header` (0: none). Leaves it untouched on failure.
BindOutcome bind_vdso(uintptr_t elf_header, VdsoFunctions& functions);

const char* bind_error_text(BindError error);

} // namespace user
