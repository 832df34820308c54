// Kernel coroutines on the vDSO's executor: a minimal C++20 coroutine type for the kernel, driven
// through the C interface of the image (vdso/vdso_api.h) via the kernel's bindings.
//
// A KernelCoroutine is spawned with its frame's address (std::coroutine_handle::address(), whose
// first word is the resume function in the kernel's text); it learns its control block and ID through
// spawn's `publish`, and records every suspension with cokernel_coroutine_record_suspension before
// suspending (the executor applies it after resume() returns). Frames come from the kernel heap;
// running out makes spawn fail, never panic. A frame destroys itself when its body ends.
#pragma once

#include <coroutine>
#include <cstddef>
#include <cstdint>

#include "kernel/mm/memory.hpp"
#include "kernel/vdso/binding.hpp"

namespace kernel::vdso_binding {

struct KernelCoroutine {
    struct promise_type {
        cokernel_coroutine_ref self{};

        static void* operator new(size_t size) noexcept { return mm::heap().allocate(size); }
        static void operator delete(void* frame, size_t) noexcept { mm::heap().free(frame); }
        static KernelCoroutine get_return_object_on_allocation_failure() { return {}; }
        KernelCoroutine get_return_object() { return {std::coroutine_handle<promise_type>::from_promise(*this)}; }
        std::suspend_always initial_suspend() noexcept { return {}; }
        std::suspend_never final_suspend() noexcept { return {}; }
        // Runs before the frame goes away: the executor frees the slot once resume() returns.
        void return_void() {
            executor_functions().coroutine_record_suspension(self.block, nullptr, COKERNEL_SUSPEND_EXIT, nullptr,
                                                             nullptr);
        }
        void unhandled_exception() noexcept { __builtin_trap(); }
    };
    std::coroutine_handle<promise_type> handle;
};

// co_await YieldToExecutor{}: back to the tail of the coroutine's priority level.
struct YieldToExecutor {
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<KernelCoroutine::promise_type> frame) const noexcept {
        executor_functions().coroutine_record_suspension(frame.promise().self.block, frame.address(),
                                                         COKERNEL_SUSPEND_YIELD, nullptr, nullptr);
    }
    void await_resume() const noexcept {}
};

// co_await WaitForWake{&slot}: Pending until someone wakes the ID that `arm` stored in *slot. The
// store is atomic (release): a waker on another hart takes the ID with an atomic exchange.
struct WaitForWake {
    uint64_t* waiter_slot;
    static void arm(void* context, void*, uint64_t id) {
        __atomic_store_n(static_cast<uint64_t*>(context), id, __ATOMIC_RELEASE);
    }
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<KernelCoroutine::promise_type> frame) const noexcept {
        executor_functions().coroutine_record_suspension(frame.promise().self.block, frame.address(),
                                                         COKERNEL_SUSPEND_WAIT, &WaitForWake::arm, waiter_slot);
    }
    void await_resume() const noexcept {}
};

// Spawns a coroutine at `priority` on `executor`; false (frame freed) if it could not be.
inline bool spawn(void* executor, KernelCoroutine coroutine, uint32_t priority, uint64_t* id = nullptr) {
    if (!coroutine.handle) return false;
    auto& promise = coroutine.handle.promise();
    int status = executor_functions().executor_spawn(executor, coroutine.handle.address(), &promise, priority,
                                                     &promise.self, id);
    if (status != 0) coroutine.handle.destroy();
    return status == 0;
}

} // namespace kernel::vdso_binding
