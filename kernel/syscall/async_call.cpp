#include "kernel/syscall/async_call.hpp"

#include <atomic>
#include <new>

#include "kernel/mm/memory.hpp"
#include "kernel/lib/counters.hpp"
#include "kernel/proc/memory_limit.hpp"
#include "kernel/proc/process.hpp"
#include "kernel/sched/scheduler.hpp"
#include "kernel/syscall/call_threads.hpp"
#include "kernel/syscall/dispatch.hpp"
#include "kernel/uintr/user_interrupt.hpp"
#include "kernel/vdso/binding.hpp"

namespace kernel::proc {

namespace abi = cokernel::abi;

namespace {

// Every call in flight may need a control block of the work executor (from its first wait on):
// it reserves one at submission, so that moving it there cannot fail. A block is freed just after its
// coroutine's end, once per hart at most in between: that many stay spare.
constexpr uint32_t MaxCallsInWorkExecutor = WorkExecutorCapacity - fdt::MaxHarts;
std::atomic<uint32_t> executor_reservations{0};

static_assert(ExecutorShare < MaxCallsInWorkExecutor - ExecutorReserve, "a share fits beside the reserve");

bool reserve_global(uint32_t limit) {
    uint32_t current = executor_reservations.load(std::memory_order_relaxed);
    do {
        if (current >= limit) return false;
    } while (!executor_reservations.compare_exchange_weak(current, current + 1, std::memory_order_relaxed));
    return true;
}

// The process's share first (taken, then checked: two threads of it cannot both pass the bound),
// then the system-wide count, whose last ExecutorReserve blocks are for modest processes.
bool reserve_executor_block(AsyncCalls& calls) {
    uint32_t mine = calls.executor_blocks.fetch_add(1, std::memory_order_relaxed);
    uint32_t limit = mine < abi::DefaultCallsInFlight ? MaxCallsInWorkExecutor
                                                       : MaxCallsInWorkExecutor - ExecutorReserve;
    if (mine >= ExecutorShare || !reserve_global(limit)) {
        calls.executor_blocks.fetch_sub(1, std::memory_order_relaxed);
        return false;
    }
    return true;
}

void unreserve_executor_block(AsyncCalls& calls) {
    calls.executor_blocks.fetch_sub(1, std::memory_order_relaxed);
    executor_reservations.fetch_sub(1, std::memory_order_relaxed);
}

// A slot taken by a submission that is refused after all: free again, with its executor block.
void return_unused_slot(AsyncCalls& calls, CallSlot& slot) {
    {
        ScopedLock guard(calls.lock);
        slot.next = calls.free_slots;
        calls.free_slots = &slot;
        --calls.in_flight;
        __atomic_store_n(&calls.ring->in_flight, calls.in_flight, __ATOMIC_RELAXED);
    }
    unreserve_executor_block(calls);
}

// With calls.lock held: puts the slot's completion into the ring if it has room, and frees the slot.
// The kernel's own tail is in calls (the ring's copy is only published); a head the process corrupted
// makes the ring look full, never makes the kernel write outside it.
bool post_locked(AsyncCalls& calls, CallSlot& slot) {
    abi::CompletionRing* ring = calls.ring;
    uint32_t head = __atomic_load_n(&ring->head, __ATOMIC_ACQUIRE);
    uint32_t tail = calls.tail;
    uint32_t used = tail - head;
    if (used >= calls.capacity) return false;
    abi::ring_entries(ring)[tail & (calls.capacity - 1)] = abi::CompletionEntry{slot.token, slot.result};
    calls.tail = tail + 1;
    __atomic_store_n(&ring->tail, calls.tail, __ATOMIC_RELEASE);  // the entry is visible before the index
    slot.next = calls.free_slots;
    calls.free_slots = &slot;
    --calls.in_flight;
    __atomic_store_n(&ring->in_flight, calls.in_flight, __ATOMIC_RELAXED);
    return true;
}

// Whether the current thread is in a submission of `process` that drains the ring on its return.
bool drained_on_return(const Process& process) {
    const Thread* self = current_thread();
    return self != nullptr && self->process == &process && self->drains_completions;
}

void free_ring(AsyncCalls& calls) {
    if (calls.ring_frames) (void)mm::frames().free(calls.ring_physical, calls.ring_frames);
    calls.ring = nullptr;
    calls.ring_frames = 0;
}

void free_slots(AsyncCalls& calls) {
    if (calls.slot_frames) (void)mm::frames().free(calls.slots_physical, calls.slot_frames);
    calls.slots = nullptr;
    calls.slot_frames = 0;
}

void free_submissions(AsyncCalls& calls) {
    if (calls.submission_frames) (void)mm::frames().free(calls.submissions_physical, calls.submission_frames);
    calls.submissions = nullptr;
    calls.submission_frames = 0;
}

// Everything async_setup made (the mappings of the ring and the area go with the address space).
void free_calls(AsyncCalls* calls) {
    free_ring(*calls);
    free_submissions(*calls);
    free_slots(*calls);
    delete calls;
}

size_t frames_for(size_t bytes) { return (bytes + mm::PageSize - 1) / mm::PageSize; }
constexpr size_t SubmissionAreaBytes = abi::SubmissionAreaEntries * sizeof(abi::SubmissionEntry);

} // namespace

long async_setup(Thread& thread, uint64_t capacity, uint64_t slot_count) {
    Process& process = *thread.process;
    if (capacity == 0 || capacity > abi::MaxCompletionRingCapacity || (capacity & (capacity - 1)))
        return -Errno::Invalid;
    if (slot_count == 0) slot_count = abi::DefaultCallsInFlight;
    if (slot_count > abi::MaxCallsInFlight) return -Errno::Invalid;
    if (__atomic_load_n(&process.async, __ATOMIC_ACQUIRE)) return -Errno::Exists;
    size_t bytes = sizeof(abi::CompletionRing) + capacity * sizeof(abi::CompletionEntry);
    size_t frame_count = frames_for(bytes);
    // The ring and the slots count against the memory limit (docs/reliability.md).
    if (!within_memory_limit(process, (frame_count + frames_for(slot_count * sizeof(CallSlot)) +
                                       frames_for(SubmissionAreaBytes)) * mm::PageSize))
        return -Errno::NoMemory;
    auto* calls = new (std::nothrow) AsyncCalls;
    if (!calls) return -Errno::NoMemory;
    auto physical = mm::frames().allocate_contiguous(frame_count);
    if (!physical) {
        delete calls;
        return -Errno::NoMemory;
    }
    calls->ring_physical = *physical;
    calls->ring_frames = frame_count;
    calls->ring = mm::physical_map().to_virtual<abi::CompletionRing>(*physical);
    __builtin_memset(calls->ring, 0, frame_count * mm::PageSize);
    calls->ring->capacity = static_cast<uint32_t>(capacity);
    calls->capacity = static_cast<uint32_t>(capacity);
    // The slots: frames, not the kernel heap (up to 1,024 slots of about 800 bytes).
    calls->slot_frames = frames_for(slot_count * sizeof(CallSlot));
    auto slots = mm::frames().allocate_contiguous(calls->slot_frames);
    if (!slots) {
        calls->slot_frames = 0;
        free_calls(calls);
        return -Errno::NoMemory;
    }
    calls->slots_physical = *slots;
    calls->slots = mm::physical_map().to_virtual<CallSlot>(*slots);
    calls->slot_count = static_cast<uint32_t>(slot_count);
    for (uint32_t i = calls->slot_count; i-- > 0;) {
        CallSlot* slot = new (&calls->slots[i]) CallSlot;
        slot->next = calls->free_slots;
        calls->free_slots = slot;
    }
    // The submission area: zeroed frames, read in place by async_submit_batch.
    calls->submission_frames = frames_for(SubmissionAreaBytes);
    auto submissions = mm::frames().allocate_contiguous(calls->submission_frames);
    if (!submissions) {
        calls->submission_frames = 0;
        free_calls(calls);
        return -Errno::NoMemory;
    }
    calls->submissions_physical = *submissions;
    calls->submissions = mm::physical_map().to_virtual<abi::SubmissionEntry>(*submissions);
    __builtin_memset(calls->submissions, 0, calls->submission_frames * mm::PageSize);
    // Mapped into the page table only, not as regions: munmap and mmap cannot reach them, and
    // AddressSpace::destroy leaves their frames to release_async_calls.
    if (!process.address_space.page_table().map(abi::UserCompletionRingAddress, *physical, frame_count * mm::PageSize,
                                                 mm::pte::Read | mm::pte::Write | mm::pte::User)) {
        free_calls(calls);
        return -Errno::NoMemory;
    }
    if (!process.address_space.page_table().map(abi::UserSubmissionAreaAddress, *submissions,
                                                 calls->submission_frames * mm::PageSize,
                                                 mm::pte::Read | mm::pte::Write | mm::pte::User)) {
        (void)process.address_space.page_table().unmap(abi::UserCompletionRingAddress, frame_count * mm::PageSize);
        free_calls(calls);
        return -Errno::NoMemory;
    }
    AsyncCalls* expected = nullptr;
    if (!__atomic_compare_exchange_n(&process.async, &expected, calls, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        // Another thread of the process was faster; its ring is the one mapped now (map refuses to
        // map over a mapping, so ours never was).
        free_calls(calls);
        return -Errno::Exists;
    }
    return static_cast<long>(abi::UserCompletionRingAddress);
}

long submit_async_call(Thread& thread, CallHandler handler, const uint64_t* registers, uint64_t token,
                       long* inline_result, uint32_t named_priority) {
    Process& process = *thread.process;
    AsyncCalls* calls = __atomic_load_n(&process.async, __ATOMIC_ACQUIRE);
    if (!calls) return -Errno::NoDeviceOrAddress;
    if (token == 0) return -Errno::Invalid;
    if (!reserve_executor_block(*calls)) {
        counters::count(counters::CallsRefused);
        return -Errno::TryAgain;
    }
    CallSlot* slot;
    {
        ScopedLock guard(calls->lock);
        slot = calls->free_slots;
        if (slot) {
            calls->free_slots = slot->next;
            ++calls->in_flight;
            __atomic_store_n(&calls->ring->in_flight, calls->in_flight, __ATOMIC_RELAXED);
        }
    }
    if (!slot) {
        unreserve_executor_block(*calls);
        counters::count(counters::CallsRefused);
        return -Errno::TryAgain;
    }
    slot->next = nullptr;
    slot->process = &process;
    slot->token = token;
    slot->result = 0;
    slot->named_priority = static_cast<uint8_t>(named_priority);
    slot->inline_completion = nullptr;  // set below for a first run on this thread only
    slot->holds_process = false;
    InlineCompletion inline_completion;
    CallMemory memory{slot->frame, sizeof(slot->frame)};
    Call call = handler(memory, process, call_arguments(registers));
    if (!call.valid()) {
        return_unused_slot(*calls, *slot);
        return -Errno::NoMemory;
    }
    Call::Handle frame = call.release();
    frame.promise().slot = slot;
    if (CallThreads* runner = frame.promise().runner) [[unlikely]] {
        // The thread model: the socket's connection thread runs the call from its start (its
        // argument checks included, the same code) and posts its completion.
        process.holds.fetch_add(1, std::memory_order_relaxed);
        slot->holds_process = true;
        long handed = hand_async_call(*runner, frame);
        if (handed == 0) return 0;
        process.holds.fetch_sub(1, std::memory_order_relaxed);  // the calling thread holds it: never the last
        slot->holds_process = false;
        discard_unstarted_call(frame);
        return_unused_slot(*calls, *slot);
        return handed;  // refused: no connection thread could be had
    }
    // Only a call that starts on this thread may end in its submission (the connection thread's call
    // above posts to the ring: inline_completion lives on this stack).
    if (inline_result != nullptr) slot->inline_completion = &inline_completion;
    // The first run, on this thread: the handler checks its arguments here. It ends (and posts its
    // completion) or moves to the work executor at its first wait; either way the frame is not
    // this function's any more, nor the slot (after the move WaitOn cleared slot->inline_completion
    // first, so only a call that ended right here wrote inline_completion).
    frame.resume();
    if (inline_completion.ended) {
        *inline_result = inline_completion.result;
        return abi::AsyncCompletedInline;
    }
    return 0;
}

namespace {

// A call that ended in its first run, for a submitter that takes the result in registers: the slot
// is freed without posting anything (complete_async_call's other half).
void complete_inline(AsyncCalls& calls, CallSlot& slot) {
    InlineCompletion& here = *slot.inline_completion;
    slot.inline_completion = nullptr;
    here.result = slot.result;
    here.ended = true;
    {
        ScopedLock guard(calls.lock);
        slot.next = calls.free_slots;
        calls.free_slots = &slot;
        --calls.in_flight;
        __atomic_store_n(&calls.ring->in_flight, calls.in_flight, __ATOMIC_RELAXED);
    }
    unreserve_executor_block(calls);
}

} // namespace

void complete_async_call(CallSlot& slot) {
    Process& process = *slot.process;
    AsyncCalls& calls = *process.async;
    if (slot.inline_completion != nullptr) {
        // Ended in its submission, which takes the result in registers: no ring entry, no interrupt,
        // and no hold on the process (the submitting thread's covers it).
        complete_inline(calls, slot);
        return;
    }
    // Read before the slot is freed (post_locked): another submission may take it at once.
    const bool slot_held_process = slot.holds_process;
    {
        ScopedLock guard(calls.lock);
        if (!post_locked(calls, slot)) {
            slot.next = nullptr;
            (calls.held_tail ? calls.held_tail->next : calls.held_head) = &slot;
            calls.held_tail = &slot;
            __atomic_store_n(&calls.ring->overflows, ++calls.overflows, __ATOMIC_RELAXED);
            __atomic_store_n(&calls.ring->held, ++calls.held, __ATOMIC_RELEASE);
        }
    }
    unreserve_executor_block(calls);
    // Told even when the completion was held: the handler then finds `held` and flushes. Not told
    // when it will look anyway: this code runs on a thread of the process inside a submission that
    // drains the ring as soon as it returns (Thread::drains_completions). That thread is current on
    // this hart, in the kernel, and goes back to user mode only through user_trap_handler, whose
    // return lands in the vDSO's arm step right before its drain: the entry written above (in
    // program order on this hart) is seen by that drain, so no completion waits for an interrupt.
    counters::count(counters::CompletionsPosted);
    if (!process.exit_requested.load()) {
        if (!drained_on_return(process)) (void)raise_user_interrupt(process);
        else counters::count(counters::CompletionsSilent);
    }
    if (slot_held_process) drop_process_hold(process);
}

namespace {

// One entry of a batch: what its own asynchronous ecall would have returned.
long submit_one(Thread& thread, uint64_t number, uint64_t token, const uint64_t* arguments, long* inline_result,
                CallHandler (*handler_of)(uint64_t number)) {
    CallHandler handler = number < abi::AsyncCallBit ? handler_of(number) : nullptr;
    if (!handler) return -Errno::NoSystemCall;
    return submit_async_call(thread, handler, arguments, token, inline_result);
}

} // namespace

long async_submit_batch(Thread& thread, uint64_t entries, uint64_t count, uint64_t flags,
                        CallHandler (*handler_of)(uint64_t number)) {
    constexpr uint64_t KnownFlags = abi::AsyncDrainsAfterReturnBit | abi::AsyncResultInRegistersBit;
    if ((flags & ~KnownFlags) != 0 || count > abi::MaxSubmissionBatch) return -Errno::Invalid;
    if (count == 0) return 0;
    if (!__atomic_load_n(&thread.process->async, __ATOMIC_ACQUIRE)) return -Errno::NoDeviceOrAddress;
    // Completions posted during this call are drained on its return, as for one submission's.
    const bool result_in_registers = (flags & abi::AsyncResultInRegistersBit) != 0;
    if (entries == abi::UserSubmissionAreaAddress && count <= abi::SubmissionAreaEntries) {
        // The submission area: in place, through the kernel's own view of its frames. The process
        // may change an entry meanwhile: each input word is read once (one load each, not the
        // kernel's byte-wise memcpy: that was 400 instructions an entry), before it is used.
        AsyncCalls& calls = *thread.process->async;
        thread.drains_completions = (flags & abi::AsyncDrainsAfterReturnBit) != 0;
        for (uint64_t i = 0; i < count; ++i) {
            abi::SubmissionEntry& shared = calls.submissions[i];
            const uint64_t number = static_cast<uint64_t>(__atomic_load_n(&shared.number, __ATOMIC_RELAXED));
            const uint64_t token = __atomic_load_n(&shared.token, __ATOMIC_RELAXED);
            uint64_t arguments[6];
            for (int k = 0; k < 6; ++k) arguments[k] = __atomic_load_n(&shared.arguments[k], __ATOMIC_RELAXED);
            long result = 0;
            const long status = submit_one(thread, number, token, arguments, result_in_registers ? &result : nullptr,
                                           handler_of);
            shared.status = status;
            shared.result = status == abi::AsyncCompletedInline ? result : 0;
        }
        return static_cast<long>(count);
    }
    const AddressSpace& space = thread.process->address_space;
    const uint64_t bytes = count * sizeof(abi::SubmissionEntry);
    // Checked once, read and write, before anything is submitted: a status is not lost because the
    // array turned out to be read-only (only the process's own munmap meanwhile could still lose one).
    if (entries % alignof(abi::SubmissionEntry) != 0 || !space.check_user_range(entries, bytes, Access::Read) ||
        !space.check_user_range(entries, bytes, Access::Write))
        return -Errno::Fault;
    thread.drains_completions = (flags & abi::AsyncDrainsAfterReturnBit) != 0;
    // In chunks: one copy in and one copy out per chunk, on the kernel stack.
    constexpr uint64_t Chunk = 16;
    abi::SubmissionEntry chunk[Chunk];
    for (uint64_t done = 0; done < count;) {
        const uint64_t n = count - done < Chunk ? count - done : Chunk;
        const uint64_t address = entries + done * sizeof(abi::SubmissionEntry);
        if (!space.copy_from_user(chunk, address, n * sizeof(abi::SubmissionEntry))) return -Errno::Fault;
        for (uint64_t i = 0; i < n; ++i) {
            abi::SubmissionEntry& entry = chunk[i];
            long result = 0;
            entry.status = submit_one(thread, static_cast<uint64_t>(entry.number), entry.token, entry.arguments,
                                      result_in_registers ? &result : nullptr, handler_of);
            entry.result = entry.status == abi::AsyncCompletedInline ? result : 0;
        }
        if (!space.copy_to_user(address, chunk, n * sizeof(abi::SubmissionEntry))) return -Errno::Fault;
        done += n;
    }
    return static_cast<long>(count);
}

long async_flush(Thread& thread) {
    AsyncCalls* calls = __atomic_load_n(&thread.process->async, __ATOMIC_ACQUIRE);
    if (!calls) return -Errno::NoDeviceOrAddress;
    long moved = 0;
    ScopedLock guard(calls->lock);
    while (calls->held_head) {
        CallSlot& slot = *calls->held_head;
        CallSlot* next = slot.next;
        if (!post_locked(*calls, slot)) break;
        calls->held_head = next;
        if (!next) calls->held_tail = nullptr;
        ++moved;
    }
    calls->held -= static_cast<uint32_t>(moved);
    __atomic_store_n(&calls->ring->held, calls->held, __ATOMIC_RELEASE);
    return moved;
}

void release_async_calls(Process& process) {
    AsyncCalls* calls = process.async;
    if (!calls) return;
    process.async = nullptr;
    free_calls(calls);
}

uint64_t async_memory_bytes(const Process& process) {
    const AsyncCalls* calls = __atomic_load_n(&process.async, __ATOMIC_ACQUIRE);
    return calls ? (calls->ring_frames + calls->submission_frames + calls->slot_frames) * mm::PageSize : 0;
}

uint32_t async_calls_in_flight(Process& process) {
    AsyncCalls* calls = __atomic_load_n(&process.async, __ATOMIC_ACQUIRE);
    if (!calls) return 0;
    ScopedLock guard(calls->lock);
    return calls->in_flight;
}

} // namespace kernel::proc
