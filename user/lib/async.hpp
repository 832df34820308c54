// The asynchronous forms of the system calls whose form is Async in abi/syscall_list.hpp, made from
// the same list as the synchronous ones (user/lib/syscall.hpp):
//
//     long n = user::read(fd, buffer, size);                 // this thread waits
//     long n = co_await user::async_read(fd, buffer, size);  // this coroutine waits, the thread runs others
//
// The awaiting coroutine suspends; its poll loop then submits the call (the vDSO's arm step,
// vdso/completion.hpp) with the coroutine's ID as completion token, and the kernel finishes it in a
// kernel coroutine. The result comes back through the process's completion ring and a user-space
// interrupt, which wakes the coroutine; co_await gives it: the call's result, or the refusal of the
// submission (-EAGAIN: too many calls in flight; -ENXIO: the ring could not be set up). Outside an
// executor (no coroutine to suspend) the call is made synchronously. docs/async-syscalls.md.
#pragma once

#include "user/lib/syscall.hpp" // first: <cerrno> would turn its Errno names into macros

#include <coroutine>

#include "user/lib/runtime.hpp"
#include "vdso/completion.hpp"

namespace user {

class [[nodiscard]] AsyncCallAwaiter {
public:
    template <typename... Arguments>
    explicit AsyncCallAwaiter(long number, Arguments... arguments) {
        call_.number = number;
        const long registers[] = {to_register(arguments)...};
        for (size_t i = 0; i < sizeof...(Arguments); ++i) call_.arguments[i] = static_cast<uint64_t>(registers[i]);
    }
    bool await_ready() const noexcept { return false; }
    template <typename Promise>
    bool await_suspend(std::coroutine_handle<Promise> frame) noexcept {
        auto arm = reinterpret_cast<vdso::ArmFunction>(reinterpret_cast<void (*)()>(vdso_functions().async_call_arm));
        if (vdso::record_suspension(frame.promise(), frame, vdso::SuspendReason::Wait, arm, &call_)) return true;
        const uint64_t* a = call_.arguments;
        call_.result = syscall(call_.number, static_cast<long>(a[0]), static_cast<long>(a[1]), static_cast<long>(a[2]),
                               static_cast<long>(a[3]), static_cast<long>(a[4]), static_cast<long>(a[5]));
        return false;
    }
    long await_resume() const noexcept { return call_.result; }

private:
    vdso::AsyncCall call_;
};

// Calls of this process accepted by the kernel and not yet completed into the ring (the kernel
// publishes the count in the ring's header).
inline uint32_t async_calls_in_flight(const Runtime& runtime) {
    return runtime.completion_ring ? __atomic_load_n(&runtime.completion_ring->in_flight, __ATOMIC_RELAXED) : 0;
}

// AsyncCallAwaiter with the number bound first (as Caller in syscall.hpp).
struct AsyncCaller {
    long number;
    template <typename... Arguments>
    AsyncCallAwaiter operator()(Arguments... arguments) const { return AsyncCallAwaiter(number, arguments...); }
};
#define COKERNEL_ASYNC_FORM_Async(name, Number, parameters, arguments) \
    inline AsyncCallAwaiter async_##name parameters { return AsyncCaller{Number} arguments; }
#define COKERNEL_ASYNC_FORM_Sync(name, Number, parameters, arguments)
#define COKERNEL_ASYNC_FORM_NoReturn(name, Number, parameters, arguments)
#define COKERNEL_ASYNC_FORM_Raw(name, Number, parameters, arguments)
#define COKERNEL_ASYNC_FORM(number, name, Number, form, parameters, arguments) \
    COKERNEL_ASYNC_FORM_##form(name, Number, parameters, arguments)
COKERNEL_SYSCALLS(COKERNEL_ASYNC_FORM)
#undef COKERNEL_ASYNC_FORM

} // namespace user
