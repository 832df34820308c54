#include "kernel/sched/scheduler.hpp"

#include "kernel/net/stack.hpp"

#include "kernel/arch/riscv/csr.hpp"
#include "kernel/arch/riscv/hart.hpp"
#include "kernel/arch/riscv/irq_lock.hpp"
#include "kernel/arch/riscv/trap.hpp"
#include "kernel/console/log.hpp"
#include "kernel/mm/memory.hpp"
#include "kernel/proc/process.hpp"
#include "kernel/sched/bottom_half.hpp"
#include "kernel/sched/fp_state.hpp"
#include "kernel/syscall/handlers.hpp"
#include "kernel/uintr/user_interrupt.hpp"
#include "vdso/global_priority.hpp"

#include <string_view>

namespace kernel::proc {

namespace {

// Each hart's scheduler: the context to return to, and the thread it runs.
struct HartScheduler {
    Context context;
};
HartScheduler per_hart[fdt::MaxHarts];

// Run queues: a FIFO of runnable threads per process, and the global priority table, in which a
// process with runnable threads is published at its priority (clamped to its cap) and one without is
// not published. The pick is the table's O(1) highest-priority, round-robin-among-equals choice.
// run_queue_lock guards the queues and every ThreadState change; the table's own lock nests inside.
IrqSpinLock run_queue_lock;
// The table and its entries fill whole pages of their own, so that exactly these pages can be mapped
// read-only into every process (map_priority_table).
struct alignas(mm::PageSize) SharedPriorityTable {
    vdso::GlobalPriorityTable table;
    vdso::ProcessPriority entries[MaxProcesses];
};
SharedPriorityTable shared_priorities;
vdso::GlobalPriorityTable& priorities = shared_priorities.table;
std::atomic<uint32_t> runnable_threads{0};  // threads in the run queues (changed under run_queue_lock)

void publish(Process& process) {
    // The kernel threads' process (kernel_thread.hpp) keeps its queue ordered by thread priority and
    // stands in the table at its first thread's.
    uint32_t priority = !process.runnable_head ? vdso::NoPriority
                        : process.kernel_only ? process.runnable_head->priority
                                              : process.priority;
    (void)vdso::global_priority_publish(priorities, process.slot, priority);
}

Thread* dequeue() {
    ScopedLock guard(run_queue_lock);
    auto picked = vdso::global_priority_pick_highest(priorities);
    if (!picked) return nullptr;
    Process* process = process_in_slot(*picked);
    Thread* thread = process->runnable_head;
    process->runnable_head = thread->next;
    if (!process->runnable_head) process->runnable_tail = nullptr;
    publish(*process);
    runnable_threads.fetch_sub(1, std::memory_order_relaxed);
    thread->next = nullptr;
    thread->state = ThreadState::Running;
    return thread;
}

HartScheduler& this_hart() { return per_hart[current_hart()->index]; }

// make_runnable for a kernel thread (run_queue_lock held): by priority, FIFO among equals (a short
// queue: one entry per ready kernel thread).
[[gnu::noinline]] void queue_kernel_thread(Process& process, Thread& thread) {
    Thread** link = &process.runnable_head;
    while (*link && (*link)->priority <= thread.priority) link = &(*link)->next;
    thread.next = *link;
    *link = &thread;
    if (!thread.next) process.runnable_tail = &thread;
    runnable_threads.fetch_add(1, std::memory_order_relaxed);
    publish(process);  // its first thread may have changed
    wake_idle_hart();
}

// The kernel stack overflow report's hook (riscv::set_kernel_stack_owner_hook): names the current
// thread if the overflowed stack is its kernel stack.
bool describe_current_thread_stack(uint64_t stack_bottom) {
    Thread* thread = current_thread();
    if (!thread || thread->kernel_stack_bottom != stack_bottom) return false;
    const char* name = thread->process->name;
    size_t length = 0;
    while (length < MaxProcessName && name[length]) ++length;
    println("    the kernel stack of thread {} of process {} ({})", thread->tid, thread->process->pid,
            std::string_view(name, length));
    return true;
}

} // namespace

void init_scheduler() {
    riscv::set_kernel_stack_owner_hook(describe_current_thread_stack);
    (void)vdso::global_priority_init(priorities, shared_priorities.entries, MaxProcesses);
}

Result<void> add_process(Process& process) {
    ScopedLock guard(run_queue_lock);
    return vdso::global_priority_add(priorities, process.slot, process.priority_cap);
}

void remove_process(Process& process) {
    ScopedLock guard(run_queue_lock);
    (void)vdso::global_priority_remove(priorities, process.slot);
}

void set_process_priority(Process& process, uint8_t priority, uint8_t cap) {
    ScopedLock guard(run_queue_lock);
    process.priority_cap = cap;
    process.priority = priority < cap ? cap : priority;
    (void)vdso::global_priority_set_cap(priorities, process.slot, cap);
    publish(process);
}

uint64_t priority_table_physical() { return mm::kernel_image_physical(&shared_priorities); }

Result<void> map_priority_table(AddressSpace& space) {
    mm::PhysicalAddress physical = mm::kernel_image_physical(&shared_priorities);
    return space.page_table().map(UserPriorityTableAddress, physical, sizeof(SharedPriorityTable),
                                  mm::pte::Read | mm::pte::User);
}

bool higher_priority_ready(const Process& process) {
    return vdso::global_priority_should_yield(priorities, process.slot);
}

void make_runnable(Thread& thread) {
    ScopedLock guard(run_queue_lock);
    Process& process = *thread.process;
    thread.state = ThreadState::Runnable;
    thread.next = nullptr;
    if (process.kernel_only) [[unlikely]] {
        queue_kernel_thread(process, thread);
        return;
    }
    bool was_empty = process.runnable_head == nullptr;
    if (process.runnable_tail) process.runnable_tail->next = &thread;
    else process.runnable_head = &thread;
    process.runnable_tail = &thread;
    runnable_threads.fetch_add(1, std::memory_order_relaxed);
    if (was_empty) publish(process);
    wake_idle_hart();
}

bool threads_waiting() { return runnable_threads.load(std::memory_order_relaxed) != 0; }

bool run_once() {
    Thread* thread = dequeue();
    if (!thread) return false;
    HartScheduler& scheduler = this_hart();
    bool interrupts_were_on = riscv::save_and_disable_interrupts();  // a thread's kernel code runs with them off
    current_hart()->current_thread = thread;
    // Published before the thread checks for raised user interrupts and for its process ending
    // (user_interrupt.cpp, raise_user_interrupt: one of the two sides sees the other).
    thread->running_on_hart.store(current_hart()->index, std::memory_order_seq_cst);
    // The full flush comes before this hart touches the thread's kernel stack (kernel_tp lives at its
    // top, in the UserContext). Rule: a hart accesses a thread's kernel stack only after such a flush,
    // so a TLB entry left from a stack that was freed and its slot given to another stack since is
    // never used (kernel/mm/kernel_stacks.hpp; that is why freeing a stack needs no shootdown).
    if (thread->process->kernel_only) [[unlikely]] mm::activate_kernel_page_table();  // a kernel thread: no user half
    else riscv::write_satp_and_flush(thread->process->address_space.satp());
    thread->user->kernel_tp = reinterpret_cast<uint64_t>(current_hart());
    fp_switch_in(*thread);  // its FP registers, unless this hart still holds them
    switch_context(&scheduler.context, &thread->context);
    // The thread gave the hart back (it may have run on other harts in between).
    current_hart()->current_thread = nullptr;
    // Before anyone else may run it again (make_runnable, the wait queue's lock below).
    thread->running_on_hart.store(Thread::NotRunning, std::memory_order_seq_cst);
    mm::activate_kernel_page_table();
    if (thread->state == ThreadState::Exited) fp_forget(*thread);
    else fp_switch_out(*thread);  // stores its FP registers if it wrote them (FS Dirty)
    if (thread->state == ThreadState::Exited) release_exited_thread(*thread);
    else if (thread->state == ThreadState::Blocked) thread->blocked_on->lock.unlock();  // now it may be woken
    else make_runnable(*thread);
    riscv::restore_interrupts(interrupts_were_on);
    return true;
}

void kick(Thread& thread) {
    uint32_t index = thread.running_on_hart.load(std::memory_order_seq_cst);
    if (index == Thread::NotRunning) return;
    Hart* self = current_hart();
    if (self && self->index == index) return;  // here: it passes its return to user mode after this
    if (Hart* hart = hart_by_index(index)) send_ipi(*hart, IpiReason::Kick);
}

void yield_current_thread() {
    Thread* thread = current_thread();
    switch_context(&thread->context, &this_hart().context);
}

namespace {
// Both sleep_ons: the wait registered with `owner` (none: nullptr).
[[gnu::always_inline]] inline void sleep_on_for(Thread* thread, WaitQueue& queue, Process* owner) {
    thread->wait.thread = thread;
    if (owner && !register_wait(*owner, thread->wait, queue)) {  // being ended: no wait
        queue.lock.unlock();
        return;
    }
    thread->next = nullptr;
    if (queue.tail) queue.tail->next = thread;
    else queue.head = thread;
    queue.tail = thread;
    thread->blocked_on = &queue;
    {
        ScopedLock guard(run_queue_lock);
        thread->state = ThreadState::Blocked;
    }
    switch_context(&thread->context, &this_hart().context);
    thread->blocked_on = nullptr;
}
} // namespace

void sleep_on(WaitQueue& queue) {
    Thread* thread = current_thread();
    // A kernel thread running a process's call waits for that process (its kill ends the wait).
    Process* serving = thread->serving;
    sleep_on_for(thread, queue, serving ? serving : thread->process);
}

void sleep_on(WaitQueue& queue, Process* owner) { sleep_on_for(current_thread(), queue, owner); }

bool register_wait(Process& process, RegisteredWait& wait, WaitQueue& queue) {
    ScopedLock guard(process.waits_lock);
    // Under waits_lock, as wake_process_waits reads the list after the flag was set: one of the two
    // sees the other.
    if (process.exit_requested.load()) return false;
    wait.process = &process;
    wait.queue = &queue;
    wait.previous = nullptr;
    wait.next = process.waits;
    if (process.waits) process.waits->previous = &wait;
    process.waits = &wait;
    return true;
}

void unregister_wait(RegisteredWait& wait) {
    if (!wait.queue) return;  // never registered (a kernel coroutine's wait), or taken by kill already
    Process& process = *wait.process;
    ScopedLock guard(process.waits_lock);
    (wait.previous ? wait.previous->next : process.waits) = wait.next;
    if (wait.next) wait.next->previous = wait.previous;
    wait.queue = nullptr;
    wait.previous = wait.next = nullptr;
}

namespace {

// With queue.lock held: takes `thread` or `node` out of the queue's lists (it is there: registered).
void unlink_thread(WaitQueue& queue, Thread& thread) {
    Thread* previous = nullptr;
    for (Thread* t = queue.head; t; previous = t, t = t->next) {
        if (t != &thread) continue;
        (previous ? previous->next : queue.head) = t->next;
        if (queue.tail == t) queue.tail = previous;
        t->next = nullptr;
        return;
    }
}

void unlink_coroutine(WaitQueue& queue, CoroutineWaiter& node) {
    for (CoroutineWaiter** link = &queue.coroutines; *link; link = &(*link)->next) {
        if (*link != &node) continue;
        *link = node.next;
        node.next = nullptr;
        return;
    }
}

} // namespace

void wake_process_waits(Process& process) {
    for (;;) {
        bool contended = false;
        {
            ScopedLock guard(process.waits_lock);
            while (RegisteredWait* wait = process.waits) {
                WaitQueue& queue = *wait->queue;
                // Against the lock order, so only tried: a waker holding the queue's lock may be
                // waiting for waits_lock right now (to unregister); it gets it when we let go.
                if (!queue.lock.try_lock()) {
                    contended = true;
                    break;
                }
                process.waits = wait->next;
                if (wait->next) wait->next->previous = nullptr;
                wait->queue = nullptr;
                wait->previous = wait->next = nullptr;
                if (Thread* thread = wait->thread) {
                    unlink_thread(queue, *thread);
                    make_runnable(*thread);
                } else {
                    CoroutineWaiter& node = *wait->coroutine;
                    unlink_coroutine(queue, node);
                    uint64_t id = node.id;  // the node (in the coroutine's frame) may go once it is woken
                    wake_kernel_coroutine(id);
                }
                queue.lock.unlock();
            }
        }
        if (!contended) return;
        cokernel::cpu_relax();
    }
}

void wake_all_waiters(WaitQueue& queue) {
    Thread* thread = queue.head;
    queue.head = queue.tail = nullptr;
    while (thread) {
        Thread* next = thread->next;
        unregister_wait(thread->wait);
        make_runnable(*thread);
        thread = next;
    }
    CoroutineWaiter* waiter = queue.coroutines;
    queue.coroutines = nullptr;
    while (waiter) {
        // Read before the wake: once woken, the coroutine may run on another hart and end, taking
        // the node (in its frame) with it.
        CoroutineWaiter* next = waiter->next;
        unregister_wait(waiter->wait);
        wake_kernel_coroutine(waiter->id);
        waiter = next;
    }
}

size_t wake_matching(WaitQueue& queue, bool (*matches)(Thread&, void*), void* context, size_t limit) {
    size_t woken = 0;
    Thread* previous = nullptr;
    for (Thread* thread = queue.head; thread && woken < limit;) {
        Thread* next = thread->next;
        if (matches(*thread, context)) {
            if (previous) previous->next = next;
            else queue.head = next;
            if (queue.tail == thread) queue.tail = previous;
            unregister_wait(thread->wait);
            make_runnable(*thread);
            ++woken;
        } else {
            previous = thread;
        }
        thread = next;
    }
    return woken;
}

void wake_all_locked(WaitQueue& queue) {
    bool enabled = riscv::save_and_disable_interrupts();
    queue.lock.lock();
    wake_all(queue);
    queue.lock.unlock();
    riscv::restore_interrupts(enabled);
}

namespace {
// Threads and call coroutines in nanosleep. The timer tick (a top half) raises the sleepers' bottom
// half once the earliest wake time has come; it wakes them all, and each re-checks its time and
// may sleep again. The queue is short (one entry per sleeper), so a scan per run is cheap.
WaitQueue sleepers;
// A lower bound on the wake times in `sleepers` (UINT64_MAX: none), so that a tick with nothing due
// raises nothing. Lowered under sleepers.lock by whoever enters the queue (note_sleeper), set from
// the queue by the bottom half. A tick that misses a concurrent entry sees it at the next tick.
std::atomic<uint64_t> earliest_wake{~0ull};

void wake_due_sleepers(void*) {
    uint64_t now = riscv::read_time();
    bool enabled = riscv::save_and_disable_interrupts();
    sleepers.lock.lock();
    bool due = false;
    uint64_t earliest = ~0ull;
    for (Thread* t = sleepers.head; t; t = t->next) {
        due = due || t->wake_time <= now;
        earliest = t->wake_time < earliest ? t->wake_time : earliest;
    }
    for (CoroutineWaiter* c = sleepers.coroutines; c; c = c->next) {
        due = due || c->wake_time <= now;
        earliest = c->wake_time < earliest ? c->wake_time : earliest;
    }
    if (due) {
        wake_all(sleepers);  // the queue is empty now: each re-enters with note_sleeper
        earliest = ~0ull;
    }
    earliest_wake.store(earliest, std::memory_order_relaxed);
    sleepers.lock.unlock();
    riscv::restore_interrupts(enabled);
}

BottomHalf sleepers_half{"sleepers", wake_due_sleepers};
} // namespace

void note_sleeper(uint64_t wake_time) {
    if (wake_time < earliest_wake.load(std::memory_order_relaxed))
        earliest_wake.store(wake_time, std::memory_order_relaxed);
}

bool sleep_until(uint64_t wake_time) {
    Thread* thread = current_thread();
    bool interrupted = false;
    while (!interrupted && riscv::read_time() < wake_time && !thread->process->exit_requested.load()) {
        sleepers.lock.lock();
        thread->wake_time = wake_time;
        if (!begin_interruptible_wait(*thread, sleepers)) {
            sleepers.lock.unlock();
            interrupted = true;
            break;
        }
        note_sleeper(wake_time);
        sleep_on(sleepers);
        interrupted = end_interruptible_wait(*thread);
    }
    thread->wake_time = 0;
    return interrupted;
}

void timer_tick(uint64_t now) {
    net::timer_tick(now);  // lwIP's timeouts (kernel/net/stack.hpp)
    if (now < earliest_wake.load(std::memory_order_relaxed)) return;
    if (sleepers_half.started()) sleepers_half.raise();
    else wake_due_sleepers(nullptr);  // no bottom half (it could not be started at boot): here
}

Result<void> start_sleepers_bottom_half() { return sleepers_half.start(); }


WaitQueue& sleep_queue() { return sleepers; }

void exit_current_thread() {
    Thread* thread = current_thread();
    leave_process(*thread);  // no raiser or kill reaches it any more
    clear_child_tid_at_exit(*thread);
    {
        ScopedLock guard(run_queue_lock);
        thread->state = ThreadState::Exited;
    }
    switch_context(&thread->context, &this_hart().context);
    for (;;) {
    }  // never resumed: the scheduler frees the thread
}

} // namespace kernel::proc
