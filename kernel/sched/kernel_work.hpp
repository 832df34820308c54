// The work executor's ready check, inline for the return to user mode (kernel/proc/user_trap.cpp),
// which asks it on every trap: a lock-free peek at the executor's ready bitmap (a read of the
// executor's state, as cokernel_executor_highest_ready makes), not a call. kernel_work_pending
// (scheduler.hpp) is the same answer out of line.
#pragma once

#include "vdso/executor.hpp"

namespace kernel::proc {

// The work executor's state (kernel/sched/switch_coroutine.cpp), set once at boot; null before.
extern const ::vdso::ExecutorState* work_state;

inline bool kernel_work_ready() {
    return work_state != nullptr && ::vdso::executor_ready_above(*work_state, ::vdso::NoPriority);
}

} // namespace kernel::proc
