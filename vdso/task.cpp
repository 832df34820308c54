// The non-template parts of the coroutine types.
#include "vdso/task.hpp"

namespace vdso {

void release_cancelled_root(void*, void* owner) {
    auto& promise = *static_cast<PromiseBase*>(owner);
    finish_root(promise, JoinCancelled);
    release_root(promise);
}

void install_task_hooks(ExecutorState& executor) {
    executor.hooks.release_cancelled = &release_cancelled_root;
    executor.hooks.release_cancelled_context = nullptr;
}

CancelStatus cancel(ExecutorState& executor, CoroutineId id) {
    const CancelOutcome outcome = executor_cancel(executor, id);
    if (outcome.status == CancelStatus::Cancelled && outcome.owner != nullptr &&
        executor.hooks.release_cancelled != nullptr) {
        executor.hooks.release_cancelled(executor.hooks.release_cancelled_context, outcome.owner);
    }
    return outcome.status;
}

} // namespace vdso
