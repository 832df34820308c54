// The executor functions that the shared coroutine types (vdso/task.hpp, vdso/event.cpp,
// vdso/task.cpp) call, defined in a process as calls through the bound vDSO. The process links no
// executor code of its own: every queue operation runs the vDSO's machine code, on the process's
// ExecutorState. After a spawn or a wake that made a coroutine ready, idle poll threads are signalled.
//
// Invariant relied on: the only ExecutorState in a process is the base of its Runtime (runtime.hpp).
#include "user/lib/runtime.hpp"

namespace vdso {

namespace {

const user::VdsoFunctions& bound() { return user::vdso_functions(); }
user::Runtime& runtime_of(ExecutorState& state) { return static_cast<user::Runtime&>(state); }
Error error_of(int code) { return static_cast<Error>(-code); }

} // namespace

Result<CoroutineId> executor_spawn(ExecutorState& state, void* resume_address, void* owner, uint32_t priority,
                                   CoroutineRef* publish) {
    static_assert(sizeof(CoroutineRef) == sizeof(cokernel_coroutine_ref));
    uint64_t id = 0;
    const int status = bound().executor_spawn(&state, resume_address, owner, priority,
                                              reinterpret_cast<cokernel_coroutine_ref*>(publish), &id);
    if (status != 0) return error_of(status);
    user::Runtime& runtime = runtime_of(state);
    user::signal_work(runtime);
    user::publish_priority(runtime);
    return CoroutineId{id};
}

WakeStatus executor_wake(ExecutorState& state, CoroutineId id) {
    const auto status = static_cast<WakeStatus>(bound().executor_wake(&state, id.value));
    if (status == WakeStatus::Woken) user::signal_work(runtime_of(state));
    return status;
}

Result<void> executor_set_priority(ExecutorState& state, CoroutineId id, uint32_t priority) {
    const int status = bound().executor_set_priority(&state, id.value, priority);
    if (status != 0) return error_of(status);
    return kernel::success();
}

CancelOutcome executor_cancel(ExecutorState& state, CoroutineId id) {
    CancelOutcome outcome{};
    outcome.status = static_cast<CancelStatus>(bound().executor_cancel(&state, id.value, &outcome.owner));
    return outcome;
}

Result<CoroutineState> executor_state_of(ExecutorState& state, CoroutineId id) {
    const int value = bound().executor_state_of(&state, id.value);
    if (value < 0) return error_of(value);
    return static_cast<CoroutineState>(value);
}

Result<uint32_t> executor_priority_of(ExecutorState& state, CoroutineId id) {
    const int value = bound().executor_priority_of(&state, id.value);
    if (value < 0) return error_of(value);
    return static_cast<uint32_t>(value);
}

bool executor_check_invariants(ExecutorState& state) { return bound().executor_check_invariants(&state) == 1; }

void* frame_allocate(FrameAllocator& allocator, std::size_t size) { return bound().frame_allocate(&allocator, size); }

void frame_free(void* frame) { bound().frame_free(frame); }

} // namespace vdso
