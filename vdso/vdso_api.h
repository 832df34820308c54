/* The vDSO's C interface: the executor of vdso/executor.hpp behind C linkage and plain C types, so
 * that the kernel and any user runtime (C or C++) can bind it by name from the image's dynamic symbol
 * table. Every symbol below is exported with version COKERNEL_1.0 (vdso/vdso.map).
 *
 * Rules of the interface:
 *   - The vDSO has no state of its own: every call works on memory the caller owns, passed as void*.
 *     Sizes and alignments of that memory are queried at run time (cokernel_*_size / _alignment), so
 *     a caller never depends on the C++ layout.
 *   - Coroutine IDs are uint64_t ((generation << 32) | index; 0 is never live).
 *   - Errors are negative: -(kernel::Error value), named COKERNEL_ERROR_* below; 0 is success.
 *   - A coroutine is spawned with a resume address: the address of a frame whose first word is the
 *     function that resumes it (GCC's and Clang's C++20 coroutine frame layout, what
 *     std::coroutine_handle<>::address() returns). The poll functions resume it on the caller's stack.
 *   - Before a coroutine suspends it records why through cokernel_coroutine_record_suspension; the
 *     poll loop applies it after the resume returns (docs/executor.md, "Suspension protocol").
 */
#ifndef COKERNEL_VDSO_API_H
#define COKERNEL_VDSO_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define COKERNEL_VDSO_VERSION "COKERNEL_1.0"

/* Errors (negated kernel::Error). */
#define COKERNEL_ERROR_NO_MEMORY (-1)
#define COKERNEL_ERROR_INVALID_ARGUMENT (-2)
#define COKERNEL_ERROR_NOT_FOUND (-3)

/* Coroutine states (cokernel_executor_state_of). */
#define COKERNEL_STATE_READY 1
#define COKERNEL_STATE_RUNNING 2
#define COKERNEL_STATE_PENDING 3
#define COKERNEL_STATE_EXITED 4

/* Why a coroutine suspends (cokernel_coroutine_record_suspension). */
#define COKERNEL_SUSPEND_WAIT 0
#define COKERNEL_SUSPEND_YIELD 1
#define COKERNEL_SUSPEND_EXIT 2

/* cokernel_executor_wake */
#define COKERNEL_WAKE_WOKEN 0
#define COKERNEL_WAKE_DUPLICATE 1
#define COKERNEL_WAKE_STALE 2

/* cokernel_executor_cancel */
#define COKERNEL_CANCEL_CANCELLED 0
#define COKERNEL_CANCEL_DEFERRED 1
#define COKERNEL_CANCEL_STALE 2

/* Poll outcomes. */
#define COKERNEL_POLL_RAN 0
#define COKERNEL_POLL_NOTHING_READY 1
#define COKERNEL_POLL_YIELD_HART 2
#define COKERNEL_POLL_STOPPED 3

#define COKERNEL_PRIORITY_LEVELS 64u
#define COKERNEL_NO_PRIORITY 64u /* "nothing ready" */

/* A live coroutine's control block and ID (layout of vdso::CoroutineRef). */
typedef struct cokernel_coroutine_ref {
    void* block;
    uint64_t id;
} cokernel_coroutine_ref;

/* What fetch hands out (layout of vdso::FetchedCoroutine): block is null when nothing was ready.
 * 16 bytes: returned in a0/a1. */
typedef struct cokernel_fetched {
    void* block;
    uint64_t id;
} cokernel_fetched;

/* Hooks (layout of vdso::ExecutorHooks): function pointer + context, null = no hook. */
typedef struct cokernel_executor_hooks {
    void (*highest_priority_changed)(void* context, uint32_t priority);
    void* highest_priority_context;
    bool (*should_yield_hart)(void* context);
    void* should_yield_context;
    bool (*idle)(void* context);
    void* idle_context;
    void (*release_cancelled)(void* context, void* owner);
    void* release_cancelled_context;
} cokernel_executor_hooks;

typedef void (*cokernel_arm_function)(void* arm_context, void* executor, uint64_t id);

/* Sizes and alignments of the caller-owned objects. */
size_t cokernel_executor_state_size(void);
size_t cokernel_executor_state_alignment(void);
size_t cokernel_control_block_size(void); /* one per coroutine slot; also its alignment (64) */
size_t cokernel_poll_thread_size(void);   /* alignment 8 */
size_t cokernel_frame_allocator_size(void); /* alignment 8 */

/* An executor over `capacity` control blocks at `blocks` (cokernel_control_block_size() each,
 * 64-byte aligned). INVALID_ARGUMENT for misaligned memory or capacity 0. */
int cokernel_executor_init(void* state, void* blocks, uint32_t capacity);
/* Replaces the hooks; only before the executor is shared. */
void cokernel_executor_set_hooks(void* state, const cokernel_executor_hooks* hooks);
/* Where C++ coroutine frames of this executor come from (a cokernel_frame_allocator_init'ed allocator). */
void cokernel_executor_set_frame_allocator(void* state, void* allocator);
/* A poll thread's private queue (for bound coroutines), in caller memory. */
void cokernel_poll_thread_init(void* thread);

/* A new Ready coroutine. Returns 0 and the ID in *id (if id is not null), or an error. If `publish`
 * is given, block and ID are stored there before any poll thread can resume the coroutine. */
int cokernel_executor_spawn(void* state, void* resume_address, void* owner, uint32_t priority,
                            cokernel_coroutine_ref* publish, uint64_t* id);
cokernel_fetched cokernel_executor_fetch(void* state, void* thread);
/* Returns the owner of a coroutine whose cancellation was deferred (the caller releases it). */
void* cokernel_executor_finish(void* state, void* thread, cokernel_fetched ran);
cokernel_fetched cokernel_executor_finish_and_fetch(void* state, void* thread, cokernel_fetched ran,
                                                    void** cancelled_owner);
int cokernel_executor_wake(void* state, uint64_t id);
int cokernel_executor_set_priority(void* state, uint64_t id, uint32_t priority);
/* Returns a COKERNEL_CANCEL_* status; *owner gets the owner to release for CANCELLED. */
int cokernel_executor_cancel(void* state, uint64_t id, void** owner);
/* A COKERNEL_STATE_* value, or NOT_FOUND for an ID never issued. */
int cokernel_executor_state_of(void* state, uint64_t id);
int cokernel_executor_priority_of(void* state, uint64_t id);
uint32_t cokernel_executor_highest_ready(const void* state);
/* 1 when every invariant of vdso/executor.hpp holds (O(capacity); for tests). */
int cokernel_executor_check_invariants(void* state);

/* Called by the running coroutine itself, just before it suspends at `resume_address`. */
void cokernel_coroutine_record_suspension(void* block, void* resume_address, uint32_t reason,
                                          cokernel_arm_function arm, void* arm_context);

/* The poll loop (vdso/poll_loop.hpp); each returns a COKERNEL_POLL_* outcome. */
int cokernel_poll_once(void* state, void* thread);
int cokernel_run_until_idle(void* state, void* thread, uint64_t* resumed);
int cokernel_run_poll_loop(void* state, void* thread);

/* Coroutine frames (vdso/frame_allocator.hpp). */
int cokernel_frame_allocator_init(void* allocator, void* memory, size_t memory_size, size_t block_size);
void* cokernel_frame_allocate(void* allocator, size_t size);
void cokernel_frame_free(void* frame);

/* Readers of the kernel's global priority table (read-only mapping is enough). */
uint32_t cokernel_global_priority_highest(const void* table);
int cokernel_global_priority_should_yield(const void* table, uint32_t process);

/* Version COKERNEL_1.1: completions of asynchronous system calls and the user-interrupt handler
 * (vdso/completion.hpp, docs/async-syscalls.md, docs/user-interrupts.md). */
#define COKERNEL_VDSO_VERSION_1_1 "COKERNEL_1.1"

/* The arm function of a coroutine awaiting an asynchronous call: pass it, with the call's record
 * (layout of vdso::AsyncCall) as arm context, to cokernel_coroutine_record_suspension. */
void cokernel_async_call_arm(void* call, void* executor, uint64_t id);
/* The user-interrupt handler: the address for utvec. uscratch must hold the thread's
 * user-interrupt context (layout of vdso::UserInterruptContext). */
void cokernel_user_interrupt_entry(void);
/* Poll-loop side: drains the completion ring of `context` if it has entries or a handler deferred;
 * returns how many results were delivered (their coroutines woken). */
uint32_t cokernel_completion_poll(void* context);
size_t cokernel_async_call_size(void);
size_t cokernel_user_interrupt_context_size(void);

/* Version COKERNEL_1.2: the user-interrupt handler for upcall delivery, the address for utvec of a
 * thread that made user_interrupt_upcall(UpcallOn) succeed (docs/user-interrupts.md, "Upcall
 * delivery"). uscratch holds the thread's user-interrupt context, which the kernel passes in a0. */
#define COKERNEL_VDSO_VERSION_1_2 "COKERNEL_1.2"
void cokernel_user_interrupt_upcall_entry(void);

#ifdef __cplusplus
}
#endif

#endif /* COKERNEL_VDSO_API_H */
