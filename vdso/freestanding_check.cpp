// Compiled only in the riscv64 build, as an object library nothing links: proves that the coroutine
// templates (Task, spawn/JoinHandle, yield, events, binding) instantiate with the kernel's
// freestanding flags. The host tests instantiate the same templates for real.
#include "vdso/event.hpp"
#include "vdso/task.hpp"

namespace vdso::freestanding_check {

Task<int> child(ExecutorState&, int value) {
    co_await yield_now();
    co_return value * 2;
}

Task<> parent(ExecutorState& executor, Event& event, WaitQueue& queue, int& out) {
    co_await bind_to_current_thread();
    co_await event.wait();
    co_await queue.wait();
    co_await unbind_from_thread();
    Result<int> value = co_await child(executor, 21);
    const CoroutineId self = co_await current_coroutine();
    out = value ? *value + static_cast<int>(self.index()) : -1;
}

Task<int> joiner(ExecutorState&, JoinHandle<int>& other) {
    Result<int> value = co_await other;
    co_return value ? *value : static_cast<int>(Error::NotFound);
}

Result<JoinHandle<void>> start(ExecutorState& executor, Event& event, WaitQueue& queue, int& out) {
    return spawn(executor, parent(executor, event, queue, out), 7);
}

Result<JoinHandle<int>> start_joiner(ExecutorState& executor, JoinHandle<int>& other) {
    return spawn(executor, joiner(executor, other), 1);
}

} // namespace vdso::freestanding_check
