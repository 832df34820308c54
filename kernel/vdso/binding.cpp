#include "kernel/vdso/binding.hpp"

#include "kernel/console/log.hpp"
#include "kernel/mm/memory.hpp"
#include "kernel/vdso/vdso.hpp"

namespace kernel::vdso_binding {

ExecutorFunctions bound_functions{};
void* switch_executor_state = nullptr;

namespace {

constexpr size_t MaxBoundSymbols = sizeof(ExecutorFunctions) / sizeof(void (*)());

BoundSymbol symbols[MaxBoundSymbols] = {};
size_t symbol_count = 0;

// Resolves `name` at COKERNEL_1.0 and points `slot` at it inside the mapping at `base`. The symbol
// must lie in the executable part of the mapped span: anything else means the image and vdso_api.h
// disagree, and the kernel would jump into data.
template <typename Function>
void bind(Function& slot, const char* name, const exec::SharedObject& object, uint64_t base) {
    auto offset = exec::find_symbol(object, name, COKERNEL_VDSO_VERSION);
    if (!offset) panic("vdso: entry point {}@{}: {}", name, COKERNEL_VDSO_VERSION, error_name(offset.error()));
    bool executable = false;
    for (size_t i = 0; i < object.segment_count; ++i) {
        const exec::LoadSegment& segment = object.segments[i];
        if (segment.execute && *offset >= segment.virtual_address &&
            *offset < segment.virtual_address + segment.memory_size)
            executable = true;
    }
    if (!executable || *offset >= mapped_size()) panic("vdso: entry point {} at {:#x} is not code", name, *offset);
    if (symbol_count == MaxBoundSymbols) panic("vdso: more entry points than ExecutorFunctions has");
    symbols[symbol_count++] = BoundSymbol{name, *offset};
    slot = reinterpret_cast<Function>(base + *offset);
}

void create_switch_executor() {
    auto executor = create_executor(KernelCoroutineCapacity);
    if (!executor) panic("vdso: no memory for the switch executor");
    switch_executor_state = executor->state;
}

} // namespace

void bind_kernel_entry_points(const exec::SharedObject& object, uint64_t base) {
    bind(bound_functions.executor_state_size, "cokernel_executor_state_size", object, base);
    bind(bound_functions.executor_state_alignment, "cokernel_executor_state_alignment", object, base);
    bind(bound_functions.control_block_size, "cokernel_control_block_size", object, base);
    bind(bound_functions.executor_init, "cokernel_executor_init", object, base);
    bind(bound_functions.executor_set_hooks, "cokernel_executor_set_hooks", object, base);
    bind(bound_functions.executor_spawn, "cokernel_executor_spawn", object, base);
    bind(bound_functions.executor_fetch, "cokernel_executor_fetch", object, base);
    bind(bound_functions.executor_finish, "cokernel_executor_finish", object, base);
    bind(bound_functions.executor_wake, "cokernel_executor_wake", object, base);
    bind(bound_functions.executor_set_priority, "cokernel_executor_set_priority", object, base);
    bind(bound_functions.executor_cancel, "cokernel_executor_cancel", object, base);
    bind(bound_functions.executor_state_of, "cokernel_executor_state_of", object, base);
    bind(bound_functions.executor_highest_ready, "cokernel_executor_highest_ready", object, base);
    bind(bound_functions.executor_check_invariants, "cokernel_executor_check_invariants", object, base);
    bind(bound_functions.coroutine_record_suspension, "cokernel_coroutine_record_suspension", object, base);
    bind(bound_functions.poll_once, "cokernel_poll_once", object, base);
    bind(bound_functions.run_until_idle, "cokernel_run_until_idle", object, base);
    if (symbol_count != MaxBoundSymbols) panic("vdso: {} of {} entry points bound", symbol_count, MaxBoundSymbols);
    create_switch_executor();
}


const BoundSymbol* bound_symbols(size_t& count) {
    count = symbol_count;
    return symbols;
}


Result<OwnedExecutor> create_executor(uint32_t capacity) {
    const ExecutorFunctions& bound = executor_functions();
    size_t state_alignment = bound.executor_state_alignment();
    size_t block_size = bound.control_block_size();
    OwnedExecutor executor;
    executor.state = mm::heap().allocate(bound.executor_state_size(), state_alignment < 16 ? 16 : state_alignment);
    executor.blocks = mm::heap().allocate(capacity * block_size, block_size);
    if (!executor.state || !executor.blocks || bound.executor_init(executor.state, executor.blocks, capacity) != 0) {
        destroy_executor(executor);
        return Error::NoMemory;
    }
    return executor;
}

void destroy_executor(OwnedExecutor& executor) {
    if (executor.state) mm::heap().free(executor.state);
    if (executor.blocks) mm::heap().free(executor.blocks);
    executor = {};
}

} // namespace kernel::vdso_binding
