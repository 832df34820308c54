// C++20 coroutine types shared by kernel and user code: Task<T>, spawn/JoinHandle<T>, yield_now,
// current_coroutine, bind_to_current_thread.
//
// * Task<T> is lazy: it starts when awaited, and ends by symmetric transfer back to its awaiter, so a
//   chain of awaited tasks runs without growing the stack. `co_await task` gives Result<T>:
//   Error::NoMemory when the task's frame could not be allocated.
// * Frames come from the FrameAllocator given to the executor: the first parameter of every coroutine
//   function returning Task<T> is the ExecutorState& (or a FrameAllocator&) that pays for its frame:
//       Task<int> add(ExecutorState& executor, int a, int b) { co_return a + b; }
//   (for a member function or a lambda, the executor is the first parameter after the object).
//   When the allocator is exhausted the call returns an invalid Task and spawn reports NoMemory.
// * spawn(executor, task, priority) makes the task a root coroutine of the executor and returns a
//   JoinHandle<T>. The frame is shared by the executor and the handle (a reference count of 2); the
//   last one to let go destroys it. `co_await handle` gives Result<T> (NotFound if it was cancelled).
// * A suspended chain is resumed at its innermost frame: every suspending awaiter records its own
//   handle in the control block (ControlBlock::resume_address).
// Call install_task_hooks(executor) once so that cancellation can destroy frames.
#pragma once

#include <atomic>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <new>
#include <type_traits>
#include <utility>

#include "vdso/executor.hpp"
#include "vdso/frame_allocator.hpp"

namespace vdso {

// Which coroutine a chain of tasks belongs to: set in the root at spawn, shared down the chain.
struct CoroutineContext {
    ExecutorState* executor = nullptr;
    CoroutineRef self; // published by executor_spawn before the coroutine can run
    ControlBlock& block() const { return *self.block; }
    CoroutineId id() const { return self.id; }
};

// join_state of a root: one of these, or the value of the joiner's CoroutineId (always >= 1 << 32).
inline constexpr uint64_t JoinRunning = 0;
inline constexpr uint64_t JoinCompleted = 1;
inline constexpr uint64_t JoinCancelled = 2;

class PromiseBase {
public:
    // Frames come from the executor's allocator; null (exhaustion) makes the call return an invalid
    // task through get_return_object_on_allocation_failure.
    template <typename... Args>
    static void* operator new(std::size_t size, ExecutorState& executor, Args&&...) noexcept {
        return executor.frames != nullptr ? frame_allocate(*executor.frames, size) : nullptr;
    }
    template <typename... Args>
    static void* operator new(std::size_t size, FrameAllocator& allocator, Args&&...) noexcept {
        return frame_allocate(allocator, size);
    }
    // Member functions and lambdas: the object comes first, the executor second.
    template <typename Object, typename... Args>
        requires(!std::is_same_v<std::remove_cvref_t<Object>, ExecutorState> &&
                 !std::is_same_v<std::remove_cvref_t<Object>, FrameAllocator>)
    static void* operator new(std::size_t size, Object&, ExecutorState& executor, Args&&...) noexcept {
        return executor.frames != nullptr ? frame_allocate(*executor.frames, size) : nullptr;
    }
    static void operator delete(void* frame, std::size_t) noexcept { frame_free(frame); }

    std::suspend_always initial_suspend() noexcept { return {}; }
    void unhandled_exception() noexcept { __builtin_trap(); } // built without exceptions

    CoroutineContext* context = nullptr;     // null until spawned or awaited
    std::coroutine_handle<> continuation;    // the awaiting task; null for a root
    // Root only:
    CoroutineContext root_context;
    void* root_frame = nullptr;
    std::atomic<uint32_t> references{1};
    std::atomic<uint64_t> join_state{JoinRunning};
};

// Record that the running coroutine suspends at `frame` for `reason`. False when the frame does not
// run under an executor (then the awaiter must not suspend).
inline bool record_suspension(PromiseBase& promise, std::coroutine_handle<> frame, SuspendReason reason,
                              ArmFunction arm = nullptr, void* arm_context = nullptr) {
    if (promise.context == nullptr) return false;
    ControlBlock& block = promise.context->block();
    block.resume_address = frame.address();
    block.suspend_reason = reason;
    block.arm = arm;
    block.arm_context = arm_context;
    return true;
}

// Drop one reference to a root frame; the last one destroys it.
inline void release_root(PromiseBase& promise) {
    if (promise.references.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        std::coroutine_handle<>::from_address(promise.root_frame).destroy();
    }
}

// Mark a root finished (completed or cancelled) and wake its joiner, if one is waiting.
inline void finish_root(PromiseBase& promise, uint64_t how) {
    const uint64_t joiner = promise.join_state.exchange(how, std::memory_order_acq_rel);
    if (joiner > JoinCancelled) executor_wake(*promise.root_context.executor, CoroutineId{joiner});
}

// The executor's release_cancelled hook: finish a cancelled root (its owner pointer is its
// PromiseBase) and drop the executor's reference to its frame.
void release_cancelled_root(void* context, void* owner);

// Connect the executor to this file's coroutine types (sets hooks.release_cancelled).
void install_task_hooks(ExecutorState& executor);

// Storage for a result that may not exist yet (no <optional>: it may throw in hosted builds).
template <typename T>
class ResultSlot {
public:
    ResultSlot() {}
    ~ResultSlot() {
        if (has_value_) value_.~T();
    }
    template <typename U>
    void emplace(U&& value) {
        new (&value_) T(std::forward<U>(value));
        has_value_ = true;
    }
    Result<T> take() {
        if (!has_value_) return Error::NotFound;
        return Result<T>(std::move(value_));
    }

private:
    union {
        T value_;
    };
    bool has_value_ = false;
};

template <typename T>
class Task;

namespace task_detail {

template <typename T>
struct ValuePromise : PromiseBase {
    ResultSlot<T> result;
    template <typename U>
    void return_value(U&& value) { result.emplace(std::forward<U>(value)); }
    Result<T> take_result() { return result.take(); }
};

struct VoidPromise : PromiseBase {
    void return_void() {}
    Result<void> take_result() { return kernel::success(); }
};

// At the end of a task: hand control to the awaiting task, or finish the root.
struct FinalAwaiter {
    bool await_ready() noexcept { return false; }
    template <typename Promise>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> frame) noexcept {
        PromiseBase& promise = frame.promise();
        if (promise.continuation) return promise.continuation;
        if (promise.context == &promise.root_context) {
            promise.context->block().suspend_reason = SuspendReason::Exit;
            finish_root(promise, JoinCompleted);
            release_root(promise); // may destroy this frame: touch nothing of it afterwards
        }
        return std::noop_coroutine();
    }
    void await_resume() noexcept {}
};

} // namespace task_detail

template <typename T = void>
class [[nodiscard]] Task {
public:
    struct promise_type
        : std::conditional_t<std::is_void_v<T>, task_detail::VoidPromise, task_detail::ValuePromise<T>> {
        Task get_return_object() noexcept {
            return Task(std::coroutine_handle<promise_type>::from_promise(*this));
        }
        static Task get_return_object_on_allocation_failure() noexcept { return Task(); }
        task_detail::FinalAwaiter final_suspend() noexcept { return {}; }
    };
    using Handle = std::coroutine_handle<promise_type>;

    Task() = default;
    Task(Task&& other) noexcept : frame_(std::exchange(other.frame_, {})) {}
    Task& operator=(Task&& other) noexcept {
        if (this != &other) {
            destroy();
            frame_ = std::exchange(other.frame_, {});
        }
        return *this;
    }
    ~Task() { destroy(); }

    // False when the frame could not be allocated.
    bool valid() const { return static_cast<bool>(frame_); }
    Handle release() { return std::exchange(frame_, {}); }

    struct Awaiter {
        Handle child;
        bool await_ready() const noexcept { return !child; }
        template <typename ParentPromise>
        std::coroutine_handle<> await_suspend(std::coroutine_handle<ParentPromise> parent) noexcept {
            PromiseBase& promise = child.promise();
            promise.context = static_cast<PromiseBase&>(parent.promise()).context;
            promise.continuation = parent;
            return child;
        }
        Result<T> await_resume() {
            if (!child) return Error::NoMemory;
            return child.promise().take_result();
        }
    };
    Awaiter operator co_await() & noexcept { return Awaiter{frame_}; }
    Awaiter operator co_await() && noexcept { return Awaiter{frame_}; }

private:
    explicit Task(Handle frame) : frame_(frame) {}
    void destroy() {
        if (frame_) frame_.destroy();
        frame_ = {};
    }
    Handle frame_;
};

// The caller's share of a spawned root. Dropping it detaches the coroutine.
template <typename T>
class [[nodiscard]] JoinHandle {
public:
    using Handle = typename Task<T>::Handle;

    JoinHandle() = default;
    JoinHandle(Handle root, CoroutineId id) : root_(root), id_(id) {}
    JoinHandle(JoinHandle&& other) noexcept : root_(std::exchange(other.root_, {})), id_(other.id_) {}
    JoinHandle& operator=(JoinHandle&& other) noexcept {
        if (this != &other) {
            detach();
            root_ = std::exchange(other.root_, {});
            id_ = other.id_;
        }
        return *this;
    }
    ~JoinHandle() { detach(); }

    CoroutineId id() const { return id_; }
    bool done() const { return root_ && join_state() <= JoinCancelled && join_state() != JoinRunning; }
    bool cancelled() const { return root_ && join_state() == JoinCancelled; }

    // The result once done() (NotFound if cancelled or still running).
    Result<T> take_result() {
        if (!done() || cancelled()) return Error::NotFound;
        return root_.promise().take_result();
    }

    void detach() {
        if (root_) release_root(root_.promise());
        root_ = {};
    }

    // co_await handle: wait for the root to finish. One joiner at a time.
    struct Awaiter {
        JoinHandle& join;
        bool await_ready() const noexcept { return join.done() || !join.root_; }
        template <typename Promise>
        bool await_suspend(std::coroutine_handle<Promise> frame) noexcept {
            return record_suspension(frame.promise(), frame, SuspendReason::Wait, &arm, this);
        }
        Result<T> await_resume() {
            if (!join.root_) return Error::NotFound;
            return join.take_result();
        }
        // Runs after this coroutine has suspended: publish our ID, or wake ourselves if too late.
        static void arm(void* context, ExecutorState* executor, CoroutineId self) {
            auto& join = static_cast<Awaiter*>(context)->join;
            uint64_t expected = JoinRunning;
            if (!join.root_.promise().join_state.compare_exchange_strong(expected, self.value,
                                                                        std::memory_order_acq_rel)) {
                executor_wake(*executor, self);
            }
        }
    };
    Awaiter operator co_await() noexcept { return Awaiter{*this}; }

private:
    uint64_t join_state() const { return root_.promise().join_state.load(std::memory_order_acquire); }
    Handle root_;
    CoroutineId id_;
};

// Make `task` a root coroutine of `executor` at `priority`. NoMemory if the task's frame could not be
// allocated or the control-block table is full; InvalidArgument for a bad priority.
template <typename T>
Result<JoinHandle<T>> spawn(ExecutorState& executor, Task<T>&& task, uint32_t priority) {
    if (!task.valid()) return Error::NoMemory;
    if (priority >= PriorityLevels) return Error::InvalidArgument;
    typename Task<T>::Handle root = task.release();
    PromiseBase& promise = root.promise();
    promise.root_context.executor = &executor;
    promise.context = &promise.root_context;
    promise.root_frame = root.address();
    promise.references.store(2, std::memory_order_relaxed);
    Result<CoroutineId> id =
        executor_spawn(executor, root.address(), &promise, priority, &promise.root_context.self);
    if (!id) {
        root.destroy();
        return id.error();
    }
    return JoinHandle<T>(root, *id);
}

// Cancel a coroutine by ID: a Ready or Pending one is destroyed now, a Running one when it next
// suspends. Stale IDs report Stale and change nothing.
CancelStatus cancel(ExecutorState& executor, CoroutineId id);

// co_await yield_now(): back to the tail of this coroutine's ready queue.
// Records only where and why (a yield has no arm function: the block's arm is null already).
struct yield_now {
    bool await_ready() const noexcept { return false; }
    template <typename Promise>
    bool await_suspend(std::coroutine_handle<Promise> frame) noexcept {
        const CoroutineContext* context = static_cast<PromiseBase&>(frame.promise()).context;
        if (context == nullptr) return false;
        ControlBlock& block = context->block();
        block.resume_address = frame.address();
        block.suspend_reason = SuspendReason::Yield;
        return true;
    }
    void await_resume() const noexcept {}
};

// co_await current_coroutine(): this coroutine's ID (null outside an executor).
struct current_coroutine {
    CoroutineId id;
    bool await_ready() const noexcept { return false; }
    template <typename Promise>
    bool await_suspend(std::coroutine_handle<Promise> frame) noexcept {
        const CoroutineContext* context = static_cast<PromiseBase&>(frame.promise()).context;
        if (context != nullptr) id = context->id();
        return false;
    }
    CoroutineId await_resume() const noexcept { return id; }
};

// co_await bind_to_current_thread(): from now on this coroutine runs only on the poll thread that is
// running it (its PollThread queue), e.g. while it holds that thread's stack for a blocking call.
// co_await unbind_from_thread() undoes it. Both yield once.
struct bind_to_current_thread {
    bool bind = true;
    bool await_ready() const noexcept { return false; }
    template <typename Promise>
    bool await_suspend(std::coroutine_handle<Promise> frame) noexcept {
        PromiseBase& promise = frame.promise();
        if (!record_suspension(promise, frame, SuspendReason::Yield)) return false;
        (bind ? promise.context->block().bind_request : promise.context->block().unbind_request) = true;
        return true;
    }
    void await_resume() const noexcept {}
};
inline bind_to_current_thread unbind_from_thread() { return bind_to_current_thread{false}; }

} // namespace vdso
