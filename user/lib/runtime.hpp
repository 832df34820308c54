// The user runtime: a process's executor, in the process's own memory, driven through the vDSO.
//
// A program either defines `int main(int, char**)` (a plain entry, run on the initial thread; the
// executor is only set up if it asks for user::runtime()), or a coroutine entry
//
//     user::Task<int> async_main(user::Runtime& runtime, int argc, char** argv);
//
// which the start code (start.cpp) spawns at DefaultPriority; the initial thread then runs the poll
// loop until async_main has finished, and the process exits with its result. The coroutine types are
// the shared ones of vdso/task.hpp and vdso/event.hpp (Task, spawn -> JoinHandle, yield_now, Event,
// WaitQueue); in a process their executor calls go through the bound vDSO (executor_forward.cpp).
// A coroutine function's first parameter pays for its frame: `Runtime&` (or vdso::ExecutorState&).
//
// Invariants:
//   * a process has at most one Runtime; its ExecutorState base is the only executor in the process,
//     initialised by the vDSO (cokernel_executor_init) and changed only through vDSO calls;
//   * wanted_priority is the executor's last reported highest ready priority; published_priority the
//     value last given to the kernel (set_priority); they differ only until the next publish point;
//   * own_priority is this process's entry of the mapped global priority table (null if there is no
//     table or no slot), looked up once: the hart-yield check after each coroutine reads it inline.
#pragma once

#include "user/lib/syscall.hpp" // first: <cerrno> would turn its Errno names into macros

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "user/lib/vdso_binding.hpp"
#include "vdso/completion.hpp"
#include "vdso/event.hpp"
#include "vdso/global_priority.hpp"
#include "vdso/task.hpp"

namespace user {

using kernel::Error;
using kernel::Result;
using vdso::CoroutineId;
using vdso::Event;
using vdso::JoinHandle;
using vdso::Task;
using vdso::WaitQueue;
using vdso::yield_now;

constexpr uint32_t ControlBlockCount = 1024;       // live coroutines at most
constexpr uint32_t FrameBlockCount = 2 * ControlBlockCount; // chains of awaited tasks need more frames
constexpr size_t FrameBlockSize = 512;             // larger frames come from malloc
constexpr uint32_t DefaultPriority = 16;           // the kernel's default process priority too
constexpr uint32_t LowestPublishedPriority = 63;   // what "nothing ready" (64) is published as
constexpr uint32_t MaxPollThreads = 15;            // besides the initial thread
constexpr size_t PollThreadStackSize = 64 * 1024;
constexpr uint32_t CompletionRingCapacity = 64;    // = abi::DefaultCallsInFlight: the ring never overflows

// One thread running the poll loop: its private queue (bound coroutines), its stack and tid word.
struct PollThreadRecord {
    vdso::PollThread queue;
    int tid_word = 0;      // the thread's id until it ends, then 0 (CLONE_CHILD_CLEARTID)
    uintptr_t stack = 0;   // mmap'ed, PollThreadStackSize bytes; 0 for the initial thread
};

struct Runtime : vdso::ExecutorState {
    const VdsoFunctions* functions = nullptr;
    vdso::ControlBlock* blocks = nullptr;
    vdso::FrameAllocator* frame_allocator = nullptr;

    // Idle poll threads sleep on work_signal (futex); wakers bump it and wake one if sleepers > 0.
    std::atomic<int> work_signal{0};
    std::atomic<int> sleepers{0};
    std::atomic<bool> stopping{false};
    int exit_status = 0;

    std::atomic<uint32_t> wanted_priority{vdso::NoPriority};
    std::atomic<uint32_t> published_priority{~0u}; // nothing published yet
    std::atomic<uint32_t> publishing{0}; // 1 while a thread publishes (word-sized: RV64A has no byte amoswap)

    // Counters, for tests and measurements (the hart-yield checks: hart_yield_checks()).
    std::atomic<uint64_t> priority_publications{0};
    std::atomic<uint64_t> hart_yields{0};
    std::atomic<uint64_t> idle_sleeps{0}; // futex_wait calls of idle poll threads

    // Asynchronous system calls (async.hpp): the completion ring the kernel maps (null if it could
    // not) and what every poll thread's user-interrupt handler works on (its uscratch).
    cokernel::abi::CompletionRing* completion_ring = nullptr;
    vdso::UserInterruptContext interrupts;
    std::atomic<uint64_t> completions_polled{0}; // delivered by poll loops (not by the handler)

    PollThreadRecord threads[MaxPollThreads + 1]; // [0] is the initial thread
    std::atomic<uint32_t> thread_count{1};
    long priority_slot = -1;  // this process's entry in priority_table (priority_slot system call)
    const vdso::GlobalPriorityTable* mapped_priority_table = nullptr; // priority_table, if usable
    const vdso::ProcessPriority* own_priority = nullptr;              // its entry priority_slot
    vdso::SubmissionBatch submission_batch; // interrupts.batch: armed calls submitted together
};

// A program may choose its completion ring's capacity (a power of two up to 1024) by defining
// this; CompletionRingCapacity otherwise. Likewise its most asynchronous calls in flight (up to
// abi::MaxCallsInFlight; abi::DefaultCallsInFlight otherwise). A ring smaller than that can overflow:
// the kernel then holds completions until there is room (docs/async-syscalls.md).
[[gnu::weak]] extern const uint32_t completion_ring_capacity;
[[gnu::weak]] extern const uint32_t async_calls_in_flight_limit;
// Likewise its most live coroutines (ControlBlockCount otherwise; the frame pool is twice as many
// blocks): bin/tcpserver has up to three per connection.
[[gnu::weak]] extern const uint32_t control_block_count;
// A program that defines this true has calls armed in one round of the poll loop submitted together
// (docs/async-syscalls.md, "Batched submission"). Off by default: measured, it barely pays with 64
// calls armed at once (−1.3 %) and costs the ring of coroutines 6.7 % (docs/performance.md).
[[gnu::weak]] extern const bool batched_submission;

// A program that drives the user-interrupt CSRs itself (bin/uintrtest) defines this as false: the
// runtime then does not install its handler, and completions are found only by the poll threads
// (between coroutines and before they sleep; a sleeping one is not woken by a completion).
[[gnu::weak]] extern const bool runtime_user_interrupts;

// The global priority table the kernel maps read-only into the process (from the auxiliary vector;
// null if absent).
extern const void* priority_table;
// What the kernel passed on the initial stack (set by start_program before main): the environment
// (NULL-terminated) and the auxiliary vector (key/value pairs ending in key 0).
extern char** environment;
extern const uint64_t* auxiliary_vector;

// The process's runtime, set up on first use (nullptr if its memory could not be mapped).
Runtime* runtime();
// The vDSO entry points bound at start-up.
const VdsoFunctions& vdso_functions();
// Where the bound vDSO image is (address and size), for tests.
BindOutcome vdso_image();

// Switches batched submission on (over the process's submission area) or off, for a program that
// chooses at run time (bin/asyncstress, bin/asynctest); call it while no call is armed. Without a
// completion ring it stays off.
void set_batched_submission(Runtime& runtime, bool on);

// Start `count` more threads running the poll loop on the same executor. Returns how many started
// (fewer when MaxPollThreads is reached or memory/threads run out) or a negative errno if none did.
long add_poll_threads(Runtime& runtime, uint32_t count);

// A new root coroutine at `priority` (0 highest .. 63). NoMemory when its frame could not be
// allocated or every control block is in use; InvalidArgument for a bad priority.
template <typename T>
Result<JoinHandle<T>> spawn(Runtime& runtime, Task<T>&& task, uint32_t priority) {
    return vdso::spawn(static_cast<vdso::ExecutorState&>(runtime), static_cast<Task<T>&&>(task), priority);
}

// Internal to the runtime (start.cpp, executor_forward.cpp):
// Poll threads: a coroutine became ready, wake one sleeper (everyone when stopping).
void signal_work(Runtime& runtime);
// Give the executor's last highest ready priority to the kernel if it changed (not under any lock).
// Unchanged, the common case, costs two relaxed loads here; a change calls publish_changed_priority.
void publish_changed_priority(Runtime& runtime);
inline void publish_priority(Runtime& runtime) {
    if (runtime.wanted_priority.load(std::memory_order_relaxed) !=
        runtime.published_priority.load(std::memory_order_relaxed)) [[unlikely]]
        publish_changed_priority(runtime);
}
// How many times the poll threads asked whether to yield the hart: once after every coroutine they
// resumed (vdso::PollThread::coroutines_resumed, summed over the poll threads).
uint64_t hart_yield_checks(const Runtime& runtime);
// The initial thread's loop: poll until the runtime stops, then join the other poll threads.
void run_until_stopped(Runtime& runtime);
// Stop every poll thread once they are idle or between two coroutines; the process exits with `status`.
void request_stop(Runtime& runtime, int status);
// Turns user-space interrupts on for the calling thread: utvec = the vDSO's handler, uscratch = the
// runtime's UserInterruptContext, uie.USIE and ustatus.UIE set (docs/user-interrupts.md). Every poll
// thread does it when it starts.
void enable_user_interrupts(Runtime& runtime);

} // namespace user

// The coroutine entry of a program, if it has one (weak: start.cpp checks its address).
[[gnu::weak]] user::Task<int> async_main(user::Runtime& runtime, int argc, char** argv);
