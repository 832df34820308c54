// The vDSO's exported C entry points (vdso/vdso_api.h): thin wrappers over the executor's C++
// functions. Built only into the vDSO image (vdso/CMakeLists.txt), where everything else is hidden
// and only these names are exported, with version COKERNEL_1.0 (vdso/vdso.map).
//
// Invariant kept here: nothing in this file has static storage, and no function takes the address of
// another function, so the image needs no dynamic relocation (the build checks it).
#include "vdso/vdso_api.h"

#include <cstddef>
#include <new>

#include "vdso/completion.hpp"
#include "vdso/executor.hpp"
#include "vdso/frame_allocator.hpp"
#include "vdso/global_priority.hpp"
#include "vdso/poll_loop.hpp"

#define COKERNEL_EXPORT extern "C" __attribute__((visibility("default")))

namespace {

using namespace vdso;

// The C mirrors must keep the C++ layouts: they are reinterpreted, never converted field by field.
static_assert(sizeof(cokernel_coroutine_ref) == sizeof(CoroutineRef));
static_assert(offsetof(CoroutineRef, block) == offsetof(cokernel_coroutine_ref, block));
static_assert(offsetof(CoroutineRef, id) == offsetof(cokernel_coroutine_ref, id));
static_assert(sizeof(cokernel_fetched) == sizeof(FetchedCoroutine));
static_assert(offsetof(FetchedCoroutine, id) == offsetof(cokernel_fetched, id));
static_assert(sizeof(cokernel_executor_hooks) == sizeof(ExecutorHooks));
static_assert(offsetof(ExecutorHooks, should_yield_hart) == offsetof(cokernel_executor_hooks, should_yield_hart));
static_assert(offsetof(ExecutorHooks, idle) == offsetof(cokernel_executor_hooks, idle));
static_assert(offsetof(ExecutorHooks, release_cancelled_context) ==
              offsetof(cokernel_executor_hooks, release_cancelled_context));
static_assert(static_cast<int>(CoroutineState::Ready) == COKERNEL_STATE_READY &&
              static_cast<int>(CoroutineState::Exited) == COKERNEL_STATE_EXITED);
static_assert(static_cast<int>(SuspendReason::Exit) == COKERNEL_SUSPEND_EXIT);
static_assert(static_cast<int>(WakeStatus::Stale) == COKERNEL_WAKE_STALE);
static_assert(static_cast<int>(CancelStatus::Stale) == COKERNEL_CANCEL_STALE);
static_assert(static_cast<int>(PollOutcome::Stopped) == COKERNEL_POLL_STOPPED);
static_assert(PriorityLevels == COKERNEL_PRIORITY_LEVELS && NoPriority == COKERNEL_NO_PRIORITY);
static_assert(-static_cast<int>(Error::NotFound) == COKERNEL_ERROR_NOT_FOUND);

ExecutorState& executor(void* state) { return *static_cast<ExecutorState*>(state); }
PollThread* poll_thread(void* thread) { return static_cast<PollThread*>(thread); }
int error_code(Error error) { return -static_cast<int>(error); }
int status_code(const Result<void>& result) { return result ? 0 : error_code(result.error()); }

FetchedCoroutine to_fetched(cokernel_fetched fetched) {
    return FetchedCoroutine{static_cast<ControlBlock*>(fetched.block), CoroutineId{fetched.id}};
}
cokernel_fetched to_c(FetchedCoroutine fetched) { return cokernel_fetched{fetched.block, fetched.id.value}; }

bool is_aligned(const void* pointer, std::size_t alignment) {
    return reinterpret_cast<std::uintptr_t>(pointer) % alignment == 0;
}

} // namespace

COKERNEL_EXPORT size_t cokernel_executor_state_size(void) { return sizeof(ExecutorState); }
COKERNEL_EXPORT size_t cokernel_executor_state_alignment(void) { return alignof(ExecutorState); }
COKERNEL_EXPORT size_t cokernel_control_block_size(void) { return sizeof(ControlBlock); }
COKERNEL_EXPORT size_t cokernel_poll_thread_size(void) { return sizeof(PollThread); }
COKERNEL_EXPORT size_t cokernel_frame_allocator_size(void) { return sizeof(FrameAllocator); }

COKERNEL_EXPORT int cokernel_executor_init(void* state, void* blocks, uint32_t capacity) {
    if (state == nullptr || !is_aligned(state, alignof(ExecutorState)) || blocks == nullptr ||
        !is_aligned(blocks, alignof(ControlBlock)))
        return COKERNEL_ERROR_INVALID_ARGUMENT;
    auto* constructed = new (state) ExecutorState;
    return status_code(executor_init(*constructed, static_cast<ControlBlock*>(blocks), capacity));
}

COKERNEL_EXPORT void cokernel_executor_set_hooks(void* state, const cokernel_executor_hooks* hooks) {
    ExecutorHooks& target = executor(state).hooks;
    target.highest_priority_changed = hooks->highest_priority_changed;
    target.highest_priority_context = hooks->highest_priority_context;
    target.should_yield_hart = hooks->should_yield_hart;
    target.should_yield_context = hooks->should_yield_context;
    target.idle = hooks->idle;
    target.idle_context = hooks->idle_context;
    target.release_cancelled = hooks->release_cancelled;
    target.release_cancelled_context = hooks->release_cancelled_context;
}

COKERNEL_EXPORT void cokernel_executor_set_frame_allocator(void* state, void* allocator) {
    executor(state).frames = static_cast<FrameAllocator*>(allocator);
}

COKERNEL_EXPORT void cokernel_poll_thread_init(void* thread) { new (thread) PollThread; }

COKERNEL_EXPORT int cokernel_executor_spawn(void* state, void* resume_address, void* owner, uint32_t priority,
                                            cokernel_coroutine_ref* publish, uint64_t* id) {
    auto spawned = executor_spawn(executor(state), resume_address, owner, priority,
                                  reinterpret_cast<CoroutineRef*>(publish));
    if (!spawned) return error_code(spawned.error());
    if (id != nullptr) *id = spawned->value;
    return 0;
}

COKERNEL_EXPORT cokernel_fetched cokernel_executor_fetch(void* state, void* thread) {
    return to_c(executor_fetch(executor(state), poll_thread(thread)));
}

COKERNEL_EXPORT void* cokernel_executor_finish(void* state, void* thread, cokernel_fetched ran) {
    return executor_finish(executor(state), poll_thread(thread), to_fetched(ran));
}

COKERNEL_EXPORT cokernel_fetched cokernel_executor_finish_and_fetch(void* state, void* thread, cokernel_fetched ran,
                                                                    void** cancelled_owner) {
    return to_c(executor_finish_and_fetch(executor(state), poll_thread(thread), to_fetched(ran), cancelled_owner));
}

COKERNEL_EXPORT int cokernel_executor_wake(void* state, uint64_t id) {
    return static_cast<int>(executor_wake(executor(state), CoroutineId{id}));
}

COKERNEL_EXPORT int cokernel_executor_set_priority(void* state, uint64_t id, uint32_t priority) {
    return status_code(executor_set_priority(executor(state), CoroutineId{id}, priority));
}

COKERNEL_EXPORT int cokernel_executor_cancel(void* state, uint64_t id, void** owner) {
    const CancelOutcome outcome = executor_cancel(executor(state), CoroutineId{id});
    if (owner != nullptr) *owner = outcome.owner;
    return static_cast<int>(outcome.status);
}

COKERNEL_EXPORT int cokernel_executor_state_of(void* state, uint64_t id) {
    auto coroutine_state = executor_state_of(executor(state), CoroutineId{id});
    return coroutine_state ? static_cast<int>(*coroutine_state) : error_code(coroutine_state.error());
}

COKERNEL_EXPORT int cokernel_executor_priority_of(void* state, uint64_t id) {
    auto priority = executor_priority_of(executor(state), CoroutineId{id});
    return priority ? static_cast<int>(*priority) : error_code(priority.error());
}

COKERNEL_EXPORT uint32_t cokernel_executor_highest_ready(const void* state) {
    return executor_highest_ready(*static_cast<const ExecutorState*>(state));
}

COKERNEL_EXPORT int cokernel_executor_check_invariants(void* state) {
    return executor_check_invariants(executor(state)) ? 1 : 0;
}

COKERNEL_EXPORT void cokernel_coroutine_record_suspension(void* block, void* resume_address, uint32_t reason,
                                                          cokernel_arm_function arm, void* arm_context) {
    ControlBlock& control = *static_cast<ControlBlock*>(block);
    control.resume_address = resume_address;
    control.suspend_reason = static_cast<SuspendReason>(reason);
    // Same calling convention: ArmFunction takes ExecutorState* and CoroutineId (one uint64_t, passed
    // in an integer register) where the C type says void* and uint64_t. The cast through void (*)()
    // says so to -Wcast-function-type.
    control.arm = reinterpret_cast<ArmFunction>(reinterpret_cast<void (*)()>(arm));
    control.arm_context = arm_context;
}

COKERNEL_EXPORT int cokernel_poll_once(void* state, void* thread) {
    return static_cast<int>(poll_once(executor(state), poll_thread(thread)));
}

COKERNEL_EXPORT int cokernel_run_until_idle(void* state, void* thread, uint64_t* resumed) {
    return static_cast<int>(run_until_idle(executor(state), poll_thread(thread), resumed));
}

COKERNEL_EXPORT int cokernel_run_poll_loop(void* state, void* thread) {
    return static_cast<int>(run_poll_loop(executor(state), poll_thread(thread)));
}

COKERNEL_EXPORT int cokernel_frame_allocator_init(void* allocator, void* memory, size_t memory_size,
                                                  size_t block_size) {
    auto* constructed = new (allocator) FrameAllocator;
    return status_code(frame_allocator_init(*constructed, memory, memory_size, block_size));
}

COKERNEL_EXPORT void* cokernel_frame_allocate(void* allocator, size_t size) {
    return frame_allocate(*static_cast<FrameAllocator*>(allocator), size);
}

COKERNEL_EXPORT void cokernel_frame_free(void* frame) { frame_free(frame); }

COKERNEL_EXPORT uint32_t cokernel_global_priority_highest(const void* table) {
    return global_priority_highest(*static_cast<const GlobalPriorityTable*>(table));
}

COKERNEL_EXPORT int cokernel_global_priority_should_yield(const void* table, uint32_t process) {
    return global_priority_should_yield(*static_cast<const GlobalPriorityTable*>(table), process) ? 1 : 0;
}

COKERNEL_EXPORT uint32_t cokernel_completion_poll(void* context) {
    return completion_poll(*static_cast<UserInterruptContext*>(context));
}

COKERNEL_EXPORT size_t cokernel_async_call_size(void) { return sizeof(AsyncCall); }
COKERNEL_EXPORT size_t cokernel_user_interrupt_context_size(void) { return sizeof(UserInterruptContext); }
