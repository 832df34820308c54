// The coroutine type the two baseline executors resume: a heap frame that loops on `yield`.
// Ours (vdso/task.hpp) records its suspension in a control block; these record it in the promise.
#pragma once

#include <coroutine>
#include <cstdint>
#include <utility>

namespace baseline {

struct YieldingCoroutine {
    struct promise_type {
        bool finished = false;
        YieldingCoroutine get_return_object() {
            return YieldingCoroutine{std::coroutine_handle<promise_type>::from_promise(*this)};
        }
        std::suspend_always initial_suspend() noexcept { return {}; }
        std::suspend_always final_suspend() noexcept {
            finished = true;
            return {};
        }
        void return_void() {}
        void unhandled_exception() { __builtin_trap(); }
    };
    std::coroutine_handle<promise_type> handle;
};

// co_await yield_now(): suspend; the executor re-enqueues the coroutine (the Rust original's waker
// calls re_back on itself and returns Pending).
struct yield_now {
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<>) const noexcept {}
    void await_resume() const noexcept {}
};

inline YieldingCoroutine yield_forever() {
    for (;;) co_await yield_now();
}

inline YieldingCoroutine return_at_once() { co_return; }

} // namespace baseline
