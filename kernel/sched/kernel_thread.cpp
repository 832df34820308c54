#include "kernel/sched/kernel_thread.hpp"

#include <atomic>
#include <new>

#include "kernel/mm/kernel_stacks.hpp"
#include "kernel/proc/process.hpp"
#include "kernel/sched/scheduler.hpp"

namespace kernel::proc {

namespace {

Process* kernel_process = nullptr;  // set once at boot
std::atomic<uint32_t> threads_alive{0};

// A kernel thread's first instruction (its Context's ra): run the entry, then exit. The scheduler
// switched here with interrupts off.
[[noreturn]] void start_kernel_thread() {
    Thread* thread = current_thread();
    thread->kernel_entry(thread->kernel_argument);
    exit_current_thread();  // the scheduler frees the stack and the record once off it (release_exited_thread)
}

} // namespace

Result<void> init_kernel_threads() {
    if (kernel_process) return success();
    auto made = create_kernel_process("kthreads");
    if (!made) return made.error();
    kernel_process = *made;
    return success();
}

Result<Thread*> create_kernel_thread(void (*entry)(void*), void* argument, uint8_t priority) {
    if (!kernel_process) return Error::InvalidArgument;
    if (threads_alive.fetch_add(1, std::memory_order_relaxed) >= MaxKernelThreads) {
        threads_alive.fetch_sub(1, std::memory_order_relaxed);
        return Error::InvalidArgument;
    }
    auto stack = mm::allocate_kernel_stack();  // mapped and flushed on this hart
    if (!stack) {
        threads_alive.fetch_sub(1, std::memory_order_relaxed);
        return stack.error();
    }
    Thread* thread = new (std::nothrow) Thread;
    if (!thread) {
        mm::free_kernel_stack(*stack);
        threads_alive.fetch_sub(1, std::memory_order_relaxed);
        return Error::NoMemory;
    }
    thread->kernel_stack_bottom = stack->bottom;
    thread->kernel_stack_top = stack->top;
    // A UserContext at the top as every thread has (the scheduler stores kernel_tp there); it is
    // never loaded: a kernel thread does not return to user mode.
    auto* context = reinterpret_cast<riscv::UserContext*>(thread->kernel_stack_top - sizeof(riscv::UserContext));
    *context = {};
    context->kernel_sp = reinterpret_cast<uint64_t>(context);
    thread->user = context;
    thread->context.ra = reinterpret_cast<uint64_t>(&start_kernel_thread);
    thread->context.sp = reinterpret_cast<uint64_t>(context);
    thread->process = kernel_process;
    thread->tid = 0;
    thread->kernel_entry = entry;
    thread->kernel_argument = argument;
    thread->priority = priority < PriorityLevels ? priority : PriorityLevels - 1;
    kernel_process->live_threads.fetch_add(1);
    make_runnable(*thread);
    return thread;
}

void kernel_thread_released() { threads_alive.fetch_sub(1, std::memory_order_release); }

uint32_t kernel_thread_count() { return threads_alive.load(std::memory_order_acquire); }

bool is_kernel_thread(const Thread& thread) { return thread.process && thread.process->kernel_only; }

} // namespace kernel::proc
