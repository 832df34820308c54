// The process's executor and its poll threads (runtime.hpp). All queue operations go through the
// vDSO; this file owns the memory, the hooks and the threads.
#include "user/lib/runtime.hpp"

#include <new>

#include "user/lib/malloc.hpp"
#include "user/lib/syscall.hpp"

namespace user {

namespace {

Runtime* the_runtime = nullptr;
std::atomic<uint32_t> runtime_initialising{0}; // word-sized: RV64A has no byte amoswap

// Anonymous read-write memory, or 0.
uintptr_t map_memory(size_t bytes) {
    long address = mmap(0, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
    return address < 0 ? 0 : static_cast<uintptr_t>(address);
}

size_t round_up(size_t value, size_t unit) { return (value + unit - 1) / unit * unit; }

// --- executor hooks (called by the vDSO) -------------------------------------------------------

// Between coroutines and before idling: completions the handler deferred (it found the executor's
// lock taken) or that arrived without an interrupt being taken yet. Inline check first: the common
// case (nothing there) costs a few loads.
void poll_completions(Runtime& runtime) {
    const cokernel::abi::CompletionRing* ring = runtime.completion_ring;
    if (ring == nullptr) return;
    if (runtime.interrupts.deferred.load(std::memory_order_relaxed) == 0 && !vdso::completion_pending(*ring) &&
        __atomic_load_n(&ring->held, __ATOMIC_RELAXED) == 0)
        return;
    if (uint32_t delivered = runtime.functions->completion_poll(&runtime.interrupts)) {
        runtime.completions_polled.fetch_add(delivered, std::memory_order_relaxed);
        signal_work(runtime);
    }
}

// The handler delivered results (no lock held): idle poll threads may have work now.
void after_delivery(void* argument, uint32_t) { signal_work(*static_cast<Runtime*>(argument)); }

// With the executor's lock held: only remember the value, publish it later (publish_priority).
void on_highest_priority_changed(void* context, uint32_t priority) {
    static_cast<Runtime*>(context)->wanted_priority.store(priority, std::memory_order_relaxed);
}

// After each coroutine, no lock held (hooks.should_yield_hart): publish the highest ready priority
// if it changed, leave the loop if the runtime stops, else read the global priority table that the
// kernel maps read-only into the process (AT entry AuxPriorityTable): two loads and a mask, no system
// call. Without a table (an older kernel) it asks the kernel (should_yield, 1030).
// The common case (nothing to publish, not stopping, a table) is a handful of loads: the rest is in
// should_yield_hart_slowly, called (not tail-called) behind one branch, so that the common case
// needs no stack frame (a call anywhere else in on_should_yield_hart makes GCC set one up on every
// call, with frame pointers on). A check added here joins that one condition, its work goes into
// should_yield_hart_slowly: so does the completion ring's, which only needs looking at here when a
// user-interrupt handler deferred its drain (completions otherwise come with an interrupt, and an
// idle thread drains before it sleeps).
[[gnu::noinline]] long should_yield_hart_slowly(Runtime& runtime) {
    if (runtime.interrupts.deferred.load(std::memory_order_relaxed) == (vdso::BatchWaiting | vdso::BatchFresh)) {
        // Only: the coroutine that just ran added its call to the batch, so collecting goes on
        // (completion_poll's rule for these bits, without its call and the publication: those were
        // 69 instructions a batched call).
        runtime.interrupts.deferred.fetch_and(~vdso::BatchFresh, std::memory_order_relaxed);
        const vdso::ProcessPriority* own = runtime.own_priority;
        if (own != nullptr && !runtime.stopping.load(std::memory_order_relaxed) &&
            runtime.wanted_priority.load(std::memory_order_relaxed) ==
                runtime.published_priority.load(std::memory_order_relaxed))
            return vdso::global_priority_should_yield(*runtime.mapped_priority_table, *own);
    }
    poll_completions(runtime);  // a user-interrupt handler deferred its drain (it found the lock taken)
    publish_priority(runtime);
    if (runtime.stopping.load(std::memory_order_relaxed)) return 1; // leave the loop promptly
    if (const vdso::ProcessPriority* own = runtime.own_priority)
        return vdso::global_priority_should_yield(*runtime.mapped_priority_table, *own);
    return syscall(ShouldYield);
}

bool on_should_yield_hart(void* context) {
    Runtime& runtime = *static_cast<Runtime*>(context);
    const vdso::ProcessPriority* own = runtime.own_priority;
    if (runtime.wanted_priority.load(std::memory_order_relaxed) !=
            runtime.published_priority.load(std::memory_order_relaxed) ||
        runtime.stopping.load(std::memory_order_relaxed) || own == nullptr ||
        runtime.interrupts.deferred.load(std::memory_order_relaxed) != 0) [[unlikely]]
        return should_yield_hart_slowly(runtime) == 1;
    return vdso::global_priority_should_yield(*runtime.mapped_priority_table, *own);
}

// Nothing ready, no lock held: sleep on work_signal until a spawn or wake bumps it.
// No lost wake-up: a waker makes the coroutine ready, then bumps work_signal, then reads sleepers;
// this side raises sleepers, then reads work_signal, then checks for ready work (all seq_cst), so
// either the waker sees the sleeper and wakes it, or this side sees the work or the new signal.
bool on_idle(void* context) {
    Runtime& runtime = *static_cast<Runtime*>(context);
    poll_completions(runtime);  // before sleeping: a completion must not wait for an interrupt
    publish_priority(runtime);
    if (runtime.stopping.load()) return false;
    runtime.sleepers.fetch_add(1);
    const int signal = runtime.work_signal.load();
    // A completion posted while this thread sleeps raises a user interrupt: if this thread is the
    // one interrupted, the wait ends (-EINTR) and the handler runs first.
    if (runtime.functions->executor_highest_ready(&runtime) == vdso::NoPriority && !runtime.stopping.load() &&
        !(runtime.completion_ring && vdso::completion_pending(*runtime.completion_ring))) {
        runtime.idle_sleeps.fetch_add(1, std::memory_order_relaxed);
        futex_wait(reinterpret_cast<int*>(&runtime.work_signal), signal);
    }
    runtime.sleepers.fetch_sub(1);
    return !runtime.stopping.load();
}

// Frames larger than a pool block (FrameBlockSize) come from malloc.
void* allocate_large_frame(void*, size_t size) { return malloc(size); }
void free_large_frame(void*, void* memory, size_t) { free(memory); }

[[noreturn]] void fail_setup(const char* what) {
    const char* prefix = "user runtime: cannot set up the executor: ";
    write(2, prefix, __builtin_strlen(prefix));
    write(2, what, __builtin_strlen(what));
    write(2, "\n", 1);
    exit_group(127);
}

// The C++ layouts this runtime shares with the vDSO (vdso/task.hpp reads the control block and the
// executor's frame allocator directly) must be the image's: checked once, at set-up.
void check_layouts(const VdsoFunctions& functions) {
    if (functions.executor_state_size() != sizeof(vdso::ExecutorState) ||
        functions.executor_state_alignment() != alignof(vdso::ExecutorState) ||
        functions.control_block_size() != sizeof(vdso::ControlBlock) ||
        functions.poll_thread_size() != sizeof(vdso::PollThread) ||
        functions.frame_allocator_size() != sizeof(vdso::FrameAllocator) ||
        functions.async_call_size() != sizeof(vdso::AsyncCall) ||
        functions.user_interrupt_context_size() != sizeof(vdso::UserInterruptContext))
        fail_setup("the vDSO's object sizes differ from this program's (built from another executor)");
}

Runtime* create_runtime() {
    const VdsoFunctions& functions = vdso_functions();
    check_layouts(functions);
    // One mapping: Runtime | control blocks (64-byte aligned) | frame allocator | frame pool.
    const size_t runtime_bytes = round_up(sizeof(Runtime), 64);
    const uint32_t block_count =
        &control_block_count != nullptr && control_block_count > 0 ? control_block_count : ControlBlockCount;
    const size_t blocks_bytes = size_t{block_count} * sizeof(vdso::ControlBlock);
    const size_t allocator_bytes = round_up(sizeof(vdso::FrameAllocator), 64);
    const size_t pool_bytes = size_t{2} * block_count * FrameBlockSize; // as FrameBlockCount
    const uintptr_t memory = map_memory(runtime_bytes + blocks_bytes + allocator_bytes + pool_bytes);
    if (memory == 0) fail_setup("out of memory");

    auto* runtime = new (reinterpret_cast<void*>(memory)) Runtime;
    runtime->functions = &functions;
    runtime->priority_slot = priority_table ? syscall(PrioritySlot) : -1;
    if (priority_table && runtime->priority_slot >= 0) {
        const auto* table = static_cast<const vdso::GlobalPriorityTable*>(priority_table);
        if (static_cast<unsigned long>(runtime->priority_slot) < table->capacity) {
            runtime->mapped_priority_table = table;
            runtime->own_priority = &vdso::global_priority_entries(*table)[runtime->priority_slot];
        }
    }
    runtime->blocks = reinterpret_cast<vdso::ControlBlock*>(memory + runtime_bytes);
    void* allocator = reinterpret_cast<void*>(memory + runtime_bytes + blocks_bytes);
    void* pool = reinterpret_cast<void*>(memory + runtime_bytes + blocks_bytes + allocator_bytes);
    if (functions.executor_init(static_cast<vdso::ExecutorState*>(runtime), runtime->blocks, block_count) != 0)
        fail_setup("cokernel_executor_init refused the memory");
    if (functions.frame_allocator_init(allocator, pool, pool_bytes, FrameBlockSize) != 0)
        fail_setup("cokernel_frame_allocator_init refused the memory");
    runtime->frame_allocator = static_cast<vdso::FrameAllocator*>(allocator);
    runtime->frame_allocator->allocate_large = &allocate_large_frame; // before the allocator is shared
    runtime->frame_allocator->free_large = &free_large_frame;
    functions.executor_set_frame_allocator(runtime, allocator);

    cokernel_executor_hooks hooks{};
    hooks.highest_priority_changed = &on_highest_priority_changed;
    hooks.highest_priority_context = runtime;
    hooks.should_yield_hart = &on_should_yield_hart;
    hooks.should_yield_context = runtime;
    hooks.idle = &on_idle;
    hooks.idle_context = runtime;
    hooks.release_cancelled = &vdso::release_cancelled_root; // cancelled roots: finish, drop the frame
    functions.executor_set_hooks(runtime, &hooks);
    functions.poll_thread_init(&runtime->threads[0].queue);

    // Asynchronous system calls: without a ring they are refused (-ENXIO), nothing else changes.
    const uint32_t capacity = &completion_ring_capacity != nullptr ? completion_ring_capacity : CompletionRingCapacity;
    const uint32_t calls = &async_calls_in_flight_limit != nullptr ? async_calls_in_flight_limit : 0;
    long ring = syscall(AsyncSetup, capacity, calls);
    if (ring > 0) runtime->completion_ring = reinterpret_cast<cokernel::abi::CompletionRing*>(ring);
    runtime->interrupts.executor = runtime;
    runtime->interrupts.ring = runtime->completion_ring;
    runtime->interrupts.after_delivery = &after_delivery;
    runtime->interrupts.after_delivery_argument = runtime;
    // The arm step drains the ring after each submission, so the kernel raises no interrupt for
    // completions posted during it (docs/async-syscalls.md, "When no interrupt is raised").
    if (runtime->completion_ring != nullptr) runtime->completions = &runtime->interrupts;
    // Several calls armed in one round of the poll loop go to the kernel in one async_submit_batch
    // (docs/async-syscalls.md, "Batched submission"), if the program asks for it.
    set_batched_submission(*runtime, &batched_submission != nullptr && batched_submission);
    return runtime;
}

// A poll thread's whole life: the poll loop, a sched_yield whenever a more urgent process is ready.
void poll_until_stopped(Runtime& runtime, PollThreadRecord& thread) {
    enable_user_interrupts(runtime);
    for (;;) {
        const int outcome = runtime.functions->run_poll_loop(&runtime, &thread.queue);
        if (runtime.stopping.load(std::memory_order_acquire) || outcome == COKERNEL_POLL_STOPPED) return;
        if (outcome == COKERNEL_POLL_YIELD_HART) {
            runtime.hart_yields.fetch_add(1, std::memory_order_relaxed);
            sched_yield();
        }
    }
}

int poll_thread_entry(void* argument) {
    poll_until_stopped(*the_runtime, *static_cast<PollThreadRecord*>(argument));
    return 0;
}

} // namespace

void set_batched_submission(Runtime& runtime, bool on) {
    if (!on || runtime.completion_ring == nullptr) {
        runtime.interrupts.batch = nullptr;
        return;
    }
    runtime.submission_batch.entries =
        reinterpret_cast<cokernel::abi::SubmissionEntry*>(cokernel::abi::UserSubmissionAreaAddress);
    runtime.submission_batch.capacity = cokernel::abi::SubmissionAreaEntries;
    runtime.interrupts.batch = &runtime.submission_batch;
}

Runtime* runtime() {
    if (Runtime* existing = __atomic_load_n(&the_runtime, __ATOMIC_ACQUIRE)) return existing;
    // Simple programs may never ask; the first caller sets it up (others wait for it).
    if (runtime_initialising.exchange(1, std::memory_order_acq_rel)) {
        while (__atomic_load_n(&the_runtime, __ATOMIC_ACQUIRE) == nullptr) sched_yield();
        return the_runtime;
    }
    __atomic_store_n(&the_runtime, create_runtime(), __ATOMIC_RELEASE);
    return the_runtime;
}

long add_poll_threads(Runtime& runtime, uint32_t count) {
    long started = 0;
    long last_error = 0;
    for (uint32_t i = 0; i < count; ++i) {
        const uint32_t index = runtime.thread_count.load();
        if (index > MaxPollThreads) break;
        PollThreadRecord& thread = runtime.threads[index];
        thread.stack = map_memory(PollThreadStackSize);
        if (thread.stack == 0) {
            last_error = -ENOMEM;
            break;
        }
        runtime.functions->poll_thread_init(&thread.queue);
        runtime.thread_count.store(index + 1); // before the thread exists: join sees every record
        long tid = spawn_thread(poll_thread_entry, &thread, reinterpret_cast<void*>(thread.stack + PollThreadStackSize),
                                &thread.tid_word);
        if (tid < 0) {
            runtime.thread_count.store(index);
            munmap(thread.stack, PollThreadStackSize);
            thread.stack = 0;
            last_error = tid;
            break;
        }
        ++started;
    }
    return started > 0 || last_error == 0 ? started : last_error;
}

void enable_user_interrupts(Runtime& runtime) {
    if (runtime.completion_ring == nullptr) return;
    if (&runtime_user_interrupts != nullptr && !runtime_user_interrupts) return;
    // CSRs by number (the assembler no longer knows the N extension's names): uscratch 0x040,
    // utvec 0x005, uie 0x004 (USIE, bit 0), ustatus 0x000 (UIE, bit 0). On harts without the N
    // extension the kernel emulates each access. Where every hart emulates, deliveries are upcalls,
    // whose handler makes no emulated access (docs/user-interrupts.md, "Upcall delivery").
    const bool upcalls = user_interrupt_upcall(cokernel::abi::UpcallOn) >= 0;
    const uintptr_t context = reinterpret_cast<uintptr_t>(&runtime.interrupts);
    const uintptr_t handler = reinterpret_cast<uintptr_t>(
        upcalls ? runtime.functions->user_interrupt_upcall_entry : runtime.functions->user_interrupt_entry);
    asm volatile("csrw 0x040, %0" ::"r"(context) : "memory");
    asm volatile("csrw 0x005, %0" ::"r"(handler) : "memory");
    asm volatile("csrs 0x004, 1" ::: "memory");
    asm volatile("csrs 0x000, 1" ::: "memory");
}

void signal_work(Runtime& runtime) {
    runtime.work_signal.fetch_add(1);
    if (runtime.sleepers.load() > 0)
        futex_wake(reinterpret_cast<int*>(&runtime.work_signal), runtime.stopping.load() ? 0x7fffffff : 1);
}

void publish_changed_priority(Runtime& runtime) {
    // One publisher at a time; a publisher re-reads wanted_priority after each system call, so a
    // change made while another thread publishes is published by that thread.
    for (;;) {
        const uint32_t wanted = runtime.wanted_priority.load(std::memory_order_relaxed);
        if (wanted == runtime.published_priority.load(std::memory_order_relaxed)) return;
        if (runtime.publishing.exchange(1, std::memory_order_acquire)) return;
        const uint32_t current = runtime.wanted_priority.load(std::memory_order_relaxed);
        if (current != runtime.published_priority.load(std::memory_order_relaxed)) {
            // 64 ("nothing ready") is published as 63: an idle process falls to the lowest priority
            // instead of keeping its last urgent one. The kernel clamps to the process's cap.
            set_priority(0, current < vdso::NoPriority ? current : LowestPublishedPriority);
            runtime.published_priority.store(current, std::memory_order_relaxed);
            runtime.priority_publications.fetch_add(1, std::memory_order_relaxed);
        }
        runtime.publishing.store(0, std::memory_order_release);
    }
}

uint64_t hart_yield_checks(const Runtime& runtime) {
    uint64_t checks = 0;
    for (uint32_t i = 0; i < runtime.thread_count.load(); ++i)
        checks += runtime.threads[i].queue.coroutines_resumed.load(std::memory_order_relaxed);
    return checks;
}

void request_stop(Runtime& runtime, int status) {
    runtime.exit_status = status;
    runtime.stopping.store(true, std::memory_order_release);
    signal_work(runtime);
}

void run_until_stopped(Runtime& runtime) {
    poll_until_stopped(runtime, runtime.threads[0]);
    signal_work(runtime); // sleepers see `stopping`
    for (uint32_t i = 1; i < runtime.thread_count.load(); ++i) {
        PollThreadRecord& thread = runtime.threads[i];
        join_thread(&thread.tid_word);
        munmap(thread.stack, PollThreadStackSize);
        thread.stack = 0;
    }
}

} // namespace user
