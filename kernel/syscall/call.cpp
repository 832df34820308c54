// The machinery of kernel/syscall/call.hpp: driving a system-call coroutine synchronously, its waits in
// both forms, and its end.
#include "kernel/syscall/call.hpp"

#include "kernel/console/log.hpp"
#include "kernel/sched/scheduler.hpp"
#include "kernel/syscall/async_call.hpp"
#include "kernel/syscall/call_threads.hpp"
#include "kernel/syscall/dispatch.hpp"
#include "kernel/vdso/binding.hpp"

namespace kernel::proc {

void* Call::promise_type::fit(size_t size, CallMemory& memory) noexcept {
    if (size <= memory.size) return memory.bytes;
    println("system call: a handler's frame of {} bytes does not fit in CallFrameBytes ({}): -ENOMEM", size,
            memory.size);
    return nullptr;
}

uint8_t call_priority(const Process& process, uint32_t named_priority) {
    // Read without the scheduler's lock: a byte, and a change racing with the call is either seen or not.
    uint32_t priority = named_priority ? named_priority - 1 : __atomic_load_n(&process.priority, __ATOMIC_RELAXED);
    uint32_t cap = __atomic_load_n(&process.priority_cap, __ATOMIC_RELAXED);
    if (priority >= PriorityLevels) priority = PriorityLevels - 1;
    return static_cast<uint8_t>(priority < cap ? cap : priority);
}

uint8_t served_priority(const Call::promise_type& promise) {
    if (promise.runner) return promise.priority;  // set at the hand-over
    if (promise.slot) return call_priority(*promise.slot->process, promise.slot->named_priority);
    return call_priority(*promise.thread->process, 0);
}

void discard_unstarted_call(Call::Handle frame) {
    if (File* file = frame.promise().held_file) {
        frame.promise().held_file = nullptr;
        file->release();
    }
    frame.destroy();
}

void Call::FinalAwaiter::await_suspend(Handle frame) const noexcept {
    promise_type& promise = frame.promise();
    if (promise.held_file) {
        promise.held_file->release();
        promise.held_file = nullptr;
    }
    if (promise.thread) return;  // synchronous: run_call reads the result and destroys the frame
    CallSlot& slot = *promise.slot;
    void* block = promise.self.block;
    slot.result = promise.result;
    frame.destroy();  // nothing of the frame is touched below
    if (block) {
        // In the work executor: it frees the coroutine's control block once resume() returns.
        vdso_binding::executor_functions().coroutine_record_suspension(block, nullptr, COKERNEL_SUSPEND_EXIT, nullptr,
                                                               nullptr);
    }
    complete_async_call(slot);
}

bool WaitOn::await_suspend(Call::Handle frame) noexcept {
    Call::promise_type& promise = frame.promise();
    if (promise.thread) {
        // Synchronous: the thread sleeps right here; the coroutine goes on when it is woken.
        Thread& thread = *promise.thread;
        thread.wake_time = node_.wake_time;
        sleep_on(queue_);
        thread.wake_time = 0;
        return false;
    }
    if (promise.slot->process->exit_requested.load()) {
        queue_.lock.unlock();
        return false;  // the handler sees it and ends the call
    }
    if (!promise.self.block) {
        // The first wait of an asynchronous call, still on the calling thread: from here on the
        // work executor runs it. It is spawned ready, so that it checks its condition again there
        // (what changed once the lock was dropped is not missed). It may run on another hart before
        // this function has returned: nothing of the frame is touched after the spawn.
        queue_.lock.unlock();
        promise.slot->inline_completion = nullptr; // its completion goes to the ring from now on
        // It outlives the calling thread's hold from here on (never the first: that thread holds it).
        promise.slot->process->holds.fetch_add(1, std::memory_order_relaxed);
        promise.slot->holds_process = true;
        uint8_t priority = call_priority(*promise.slot->process, promise.slot->named_priority);
        if (!spawn_kernel_work(frame.address(), &promise, work_priority(priority), &promise.self))
            panic("async system call: the work executor is full although every call reserves its slot");
        return true;
    }
    process_ = promise.slot->process;
    vdso_binding::executor_functions().coroutine_record_suspension(promise.self.block, frame.address(), COKERNEL_SUSPEND_WAIT,
                                                           &WaitOn::arm, this);
    return true;
}

// The executor's arm step: the coroutine has suspended; link it and let wakers in.
void WaitOn::arm(void* context, void*, uint64_t id) {
    WaitOn& self = *static_cast<WaitOn*>(context);
    self.node_.id = id;
    self.node_.wait.coroutine = &self.node_;
    if (!register_wait(*self.process_, self.node_.wait, self.queue_)) {
        // The process is being ended: no wait. Woken at once (a wake while arming is kept by the
        // executor), the handler finds exit_requested and ends the call.
        self.queue_.lock.unlock();
        wake_kernel_coroutine(id);
        return;
    }
    self.node_.next = self.queue_.coroutines;
    self.queue_.coroutines = &self.node_;
    self.queue_.lock.unlock();
}

long run_call(Thread& thread, CallHandler handler, const uint64_t* registers) {
    CallMemory memory{thread.call_frame, sizeof(thread.call_frame)};
    Call call = handler(memory, *thread.process, call_arguments(registers));
    if (!call.valid()) return -Errno::NoMemory;
    Call::Handle frame = call.release();
    if (CallThreads* runner = frame.promise().runner) [[unlikely]] {
        // The thread model: a kernel thread runs it, at this thread's priority; this thread waits
        // until it has finished.
        frame.promise().priority = call_priority(*thread.process, 0);
        long handed = run_handed_call(*runner, thread, frame);
        if (handed != 0) {
            discard_unstarted_call(frame);  // no thread could be had: -EAGAIN or -ENOMEM
            return handed;
        }
        long result = frame.promise().result;
        frame.destroy();
        return result;
    }
    frame.promise().thread = &thread;
    frame.resume();  // every wait blocks this thread in place: it returns finished
    if (!frame.done()) panic("system call: a synchronous handler suspended");
    long result = frame.promise().result;
    frame.destroy();
    return result;
}

} // namespace kernel::proc
