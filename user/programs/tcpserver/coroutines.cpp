// The coroutine model: an accept coroutine, then per connection one coroutine (--parts 1) or three
// (--parts 3: receive, compute, send, connected by the job ring of server.hpp), all on the process's
// executor with K poll threads (--threads K), using the asynchronous accept, read and write.
//
// Priorities: connection i's coroutines run at executor priority ConnectionPriority + 2 * level (level
// i mod L), its receive part (--parts 3) one step less urgent: the executor resumes a more urgent
// coroutine first, and the runtime publishes the process's most urgent ready priority to the kernel.
//
// Call slots: every connection waits in the kernel in an asynchronous read, each holding one of
// the process's call slots, and the kernel refuses a submission (-EAGAIN) beyond the process's
// share of the work executor (512 calls, docs/reliability.md). Reads are limited here below that,
// and a refused coroutine waits in user space for its turn (retry_call).
#include "user/lib/async.hpp"
#include "user/lib/format.hpp"
#include "user/lib/malloc.hpp"
#include "user/lib/net.hpp"
#include "user/programs/tcpserver/server.hpp"

#include <new>

namespace tcpserver {

namespace abi = cokernel::abi;

using user::Runtime;
using user::Result;
using user::Task;

namespace {

// Level 0 (and every connection without --priorities) at the default priority, so that the process
// publishes the default while it serves them, like any other process; higher levels below it.
constexpr uint32_t AcceptPriority = user::DefaultPriority;
constexpr uint32_t ConnectionPriority = user::DefaultPriority; // + 2 * level

// A connection's priority, and with --parts 3 its receive part's one step below (numerically +1):
// within a level, a request taken in is computed and its reply sent before another is taken in.
// With one priority for all three parts the executor's FIFO ran a burst of N ready connections
// breadth first, N receives, then N computes, then N sends, so that every reply of the burst waited
// for the whole burst, and the closed-loop clients, answered together, sent together again
// (docs/experiments.md, "Where the time goes under load"). Two steps per level keep the levels'
// order for every part; levels above 23 share the lowest priority (63).
uint32_t part_priority(uint32_t level, bool receive) {
    const uint32_t priority = ConnectionPriority + 2 * level + (receive ? 1 : 0);
    return priority < vdso::NoPriority ? priority : vdso::NoPriority - 1;
}

// ---- Refused submissions ----
//
// Calls that wait for the peer (read, accept) may hold at most ReadLimit of the process's calls in
// flight (a permit each), so that writes always find a slot: were every slot a read waiting for a
// client that waits for its reply, the replies' writes could never be submitted (with --parts 3,
// where a connection's read and write are in flight at once). The kernel's limit is the smaller of
// the process's call slots and its share of the work executor (1,536, docs/reliability.md).
//
// A coroutine that finds no permit waits in one FIFO (permit_waiters), woken one at a time as reads
// end; a submission the kernel refuses (-EAGAIN) waits in another (slot_waiters), woken one at a
// time as calls of the process complete. Two queues because the two resources free up separately:
// a wake-up for a free slot must not go to a reader that still has no permit. Entries and their
// events are static, never freed, so a waker setting an event cannot touch freed memory; a
// coroutine woken by a late set from an earlier round checks under the lock whether it was really
// taken out, and one taken out for nothing passes its turn on.

constexpr uint32_t CallLimit = TCPSERVER_CALL_SLOTS < 1536 ? TCPSERVER_CALL_SLOTS : 1536;
constexpr uint32_t ReadLimit = CallLimit - (CallLimit / 8 > 0 ? CallLimit / 8 : 1);

constexpr uint32_t StallCapacity = 4096 + 64; // every coroutine there can be (main.cpp), and some
constexpr uint32_t NoStall = ~0u;

struct Stall {
    vdso::Event event;
    uint32_t next = NoStall; // in a queue or in the free list
    bool queued = false;
};
struct StallQueue {
    uint32_t head = NoStall, tail = NoStall;
    std::atomic<uint32_t> count{0};
};
Stall stalls[StallCapacity];
vdso::SpinLock stall_lock; // guards the lists and `queued`
uint32_t stall_free = 0;   // the free list (built on first use)
bool stall_free_built = false;
StallQueue permit_waiters, slot_waiters;
std::atomic<uint32_t> reads_in_flight{0};

uint32_t take_stall() {
    vdso::ScopedLock guard(stall_lock);
    if (!stall_free_built) {
        for (uint32_t i = 0; i < StallCapacity; ++i) stalls[i].next = i + 1 < StallCapacity ? i + 1 : NoStall;
        stall_free_built = true;
    }
    const uint32_t index = stall_free;
    if (index != NoStall) stall_free = stalls[index].next;
    return index;
}

void give_back_stall(uint32_t index) {
    vdso::ScopedLock guard(stall_lock);
    stalls[index].next = stall_free;
    stall_free = index;
}

void enqueue(StallQueue& queue, uint32_t index) {
    vdso::ScopedLock guard(stall_lock);
    Stall& stall = stalls[index];
    stall.event.reset();
    stall.queued = true;
    stall.next = NoStall;
    if (queue.tail == NoStall) queue.head = index;
    else stalls[queue.tail].next = index;
    queue.tail = index;
    queue.count.fetch_add(1, std::memory_order_seq_cst);
}

// Takes `index` out of `queue` if it is still there; false if a waker took it out first.
bool dequeue(StallQueue& queue, uint32_t index) {
    vdso::ScopedLock guard(stall_lock);
    if (!stalls[index].queued) return false;
    uint32_t previous = NoStall;
    for (uint32_t at = queue.head; at != index; at = stalls[at].next) previous = at;
    if (previous == NoStall) queue.head = stalls[index].next;
    else stalls[previous].next = stalls[index].next;
    if (queue.tail == index) queue.tail = previous;
    stalls[index].queued = false;
    queue.count.fetch_sub(1, std::memory_order_seq_cst);
    return true;
}

// Whether `index` is still queued; if so its event is reset under the lock, so that the waker that
// takes it out later (under the lock, then sets) is seen by the next wait.
bool still_queued(uint32_t index) {
    vdso::ScopedLock guard(stall_lock);
    if (!stalls[index].queued) return false;
    stalls[index].event.reset();
    return true;
}

// Wakes the first coroutine of `queue`, if any.
[[gnu::noinline]] void wake_first(StallQueue& queue) {
    uint32_t index;
    {
        vdso::ScopedLock guard(stall_lock);
        index = queue.head;
        if (index == NoStall) return;
        queue.head = stalls[index].next;
        if (queue.head == NoStall) queue.tail = NoStall;
        stalls[index].queued = false;
        queue.count.fetch_sub(1, std::memory_order_seq_cst);
    }
    stalls[index].event.set();
}

// A call of this process completed: a refused submission may try again.
inline void note_completion() {
    if (slot_waiters.count.load(std::memory_order_seq_cst) != 0) [[unlikely]]
        wake_first(slot_waiters);
}

inline bool waits_for_peer(long number) { return number == abi::Read || number == abi::Accept; }

inline bool take_read_permit() {
    if (reads_in_flight.fetch_add(1, std::memory_order_seq_cst) < ReadLimit) return true;
    reads_in_flight.fetch_sub(1, std::memory_order_seq_cst);
    return false;
}

inline void release_read_permit() {
    reads_in_flight.fetch_sub(1, std::memory_order_seq_cst);
    if (permit_waiters.count.load(std::memory_order_seq_cst) != 0) [[unlikely]]
        wake_first(permit_waiters);
}

// Waits in `queue` until woken (a woken coroutine that finds itself still queued waits again).
#define TCPSERVER_WAIT_TURN(index) \
    do co_await stalls[index].event.wait(); \
    while (still_queued(index))

// Submits `number` until it is accepted (a permit for reads and accepts, then the kernel); the
// call's result. Called after a refusal, holding no permit.
Task<long> retry_call(Runtime& runtime, long number, int fd, void* buffer, size_t length) {
    submissions_refused.fetch_add(1, std::memory_order_relaxed);
    const uint32_t me = take_stall();
    const bool read = waits_for_peer(number);
    for (;;) {
        if (me == NoStall) { // more refused coroutines than entries: poll (cannot happen with main.cpp's counts)
            co_await user::yield_now();
            if (read && !take_read_permit()) continue;
            long result = co_await user::AsyncCallAwaiter(number, fd, buffer, length);
            if (read) release_read_permit();
            if (result != -EAGAIN) {
                note_completion();
                co_return result;
            }
            continue;
        }
        if (read) {
            // Queued before trying: a permit released after the failed try finds this entry.
            for (;;) {
                enqueue(permit_waiters, me);
                if (take_read_permit()) {
                    if (!dequeue(permit_waiters, me)) wake_first(permit_waiters); // woken for nothing: pass it on
                    break;
                }
                TCPSERVER_WAIT_TURN(me);
            }
        }
        enqueue(slot_waiters, me);
        long result = co_await user::AsyncCallAwaiter(number, fd, buffer, length);
        if (read) release_read_permit();
        if (result != -EAGAIN) {
            if (!dequeue(slot_waiters, me)) note_completion(); // woken for nothing: pass it on
            give_back_stall(me);
            note_completion();
            co_return result;
        }
        if (user::async_calls_in_flight(runtime) == 0 && dequeue(slot_waiters, me)) {
            // Refused with nothing of ours in flight (the system's executor is full): no completion
            // of this process will come to wake it, so try again later.
            co_await user::yield_now();
            continue;
        }
        TCPSERVER_WAIT_TURN(me);
    }
}

// `result = co_await async_<call>(fd, buffer, length)`: a permit first for reads and accepts; when
// there is none or the kernel refuses, retry_call waits and submits again.
#define TCPSERVER_ASYNC(result, runtime, number, fd, buffer, length)                                                 \
    do {                                                                                                              \
        const bool read_ = waits_for_peer(number);                                                                    \
        if (read_ && !take_read_permit()) {                                                                           \
            permit_waits.fetch_add(1, std::memory_order_relaxed);                                                     \
            result = -EAGAIN;                                                                                         \
        } else {                                                                                                      \
            result = co_await user::AsyncCallAwaiter(number, fd, buffer, length);                                   \
            if (read_) release_read_permit();                                                                         \
        }                                                                                                             \
        if (result == -EAGAIN) [[unlikely]] {                                                                         \
            Result<long> retried = co_await retry_call(runtime, number, fd, const_cast<char*>(buffer), length);       \
            result = retried ? *retried : -ENOMEM;                                                                    \
        } else {                                                                                                      \
            note_completion();                                                                                        \
        }                                                                                                             \
    } while (0)

// ---- Parts 1 ----

Task<> serve_connection(Runtime& runtime, Connection* connection) {
    bool open = true;
    while (open) {
        if (!connection->input.reserve(4096)) break;
        long n;
        TCPSERVER_ASYNC(n, runtime, abi::Read, connection->fd, connection->input.tail(),
                        connection->input.capacity - connection->input.end);
        if (n <= 0) break;
        connection->input.produced(static_cast<size_t>(n));
        open = serve_input(*connection);
        while (connection->output.size() > 0) {
            long w;
            TCPSERVER_ASYNC(w, runtime, abi::Write, connection->fd, connection->output.front(), connection->output.size());
            if (w <= 0) {
                open = false;
                break;
            }
            connection->output.consume(static_cast<size_t>(w));
        }
    }
    user::close(connection->fd);
    connection->~Connection();
    user::free(connection);
}

// ---- Parts 3 ----

// A cursor of the ring: advanced by one coroutine, waited for by one other, which sleeps on the
// event only after announcing it (waiting), so that an advance costs an event only then.
struct CoroutineCursor {
    std::atomic<uint32_t> value{0};
    std::atomic<uint32_t> waiting{0};
    vdso::Event event;

    void advance() {
        value.fetch_add(1, std::memory_order_seq_cst);
        if (waiting.load(std::memory_order_seq_cst)) event.set();
    }
};

// Waits until `condition` (an expression of `now`, the cursor's value) holds.
#define TCPSERVER_WAIT(cursor, now, condition)                                 \
    for (;;) {                                                                \
        now = (cursor).value.load(std::memory_order_acquire);                 \
        if (condition) break;                                                 \
        (cursor).waiting.store(1, std::memory_order_seq_cst);                 \
        now = (cursor).value.load(std::memory_order_seq_cst);                 \
        if (condition) break;                                                 \
        co_await (cursor).event.wait();                                       \
        (cursor).event.reset();                                               \
        std::atomic_thread_fence(std::memory_order_seq_cst);                  \
    }                                                                         \
    (cursor).waiting.store(0, std::memory_order_relaxed)

struct CoroutinePipeline : PipelineBase {
    CoroutineCursor received, computed, sent;
};

void finish_part(CoroutinePipeline* pipeline) {
    if (pipeline->parts_running.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        pipeline->~CoroutinePipeline();
        user::free(pipeline);
    }
}

Task<> receive_part(Runtime& runtime, CoroutinePipeline* pipeline) {
    uint32_t received = 0, now = 0;
    for (;;) {
        TCPSERVER_WAIT(pipeline->sent, now, received - now < RingSlots);
        const Received step = receive_parsed(*pipeline, received);
        if (step == Received::Last) break;
        if (step == Received::Job) continue;
        if (pipeline->broken.load(std::memory_order_relaxed) || !pipeline->input.reserve(4096)) break;
        long n;
        TCPSERVER_ASYNC(n, runtime, abi::Read, pipeline->fd, pipeline->input.tail(),
                        pipeline->input.capacity - pipeline->input.end);
        if (n <= 0) break;
        pipeline->input.produced(static_cast<size_t>(n));
    }
    TCPSERVER_WAIT(pipeline->sent, now, received - now < RingSlots);
    pipeline->jobs[received % RingSlots].kind = JobKind::End;
    pipeline->received.advance();
    finish_part(pipeline);
}

Task<> compute_part(Runtime&, CoroutinePipeline* pipeline) {
    uint32_t now = 0;
    for (uint32_t computed = 0;; ++computed) {
        TCPSERVER_WAIT(pipeline->received, now, now != computed);
        if (compute_received(*pipeline, computed)) break; // End computed (and passed on)
    }
    finish_part(pipeline);
}

Task<> send_part(Runtime& runtime, CoroutinePipeline* pipeline) {
    bool end = false;
    uint32_t now = 0;
    for (uint32_t sent = 0; !end;) {
        TCPSERVER_WAIT(pipeline->computed, now, now != sent);
        sent = format_computed(*pipeline, sent, now, end);
        while (pipeline->output.size() > 0 && !pipeline->broken.load(std::memory_order_relaxed)) {
            long w;
            TCPSERVER_ASYNC(w, runtime, abi::Write, pipeline->fd, pipeline->output.front(), pipeline->output.size());
            if (w <= 0) {
                pipeline->broken.store(true, std::memory_order_relaxed);
                user::shutdown(pipeline->fd, abi::ShutdownRead); // the receiver's read ends
                break;
            }
            pipeline->output.consume(static_cast<size_t>(w));
        }
        pipeline->output.clear();
    }
    user::close(pipeline->fd);
    finish_part(pipeline);
}

bool start_connection(Runtime& runtime, int fd, uint32_t level) {
    const uint32_t priority = part_priority(level, false);
    if (config.parts == 1) {
        void* memory = user::malloc(sizeof(Connection));
        if (memory == nullptr) return false;
        auto* connection = new (memory) Connection;
        connection->fd = fd;
        connection->level = level;
        if (user::spawn(runtime, serve_connection(runtime, connection), priority)) return true;
        connection->~Connection();
        user::free(memory);
        return false;
    }
    void* memory = user::malloc(sizeof(CoroutinePipeline));
    if (memory == nullptr) return false;
    auto* pipeline = new (memory) CoroutinePipeline;
    pipeline->fd = fd;
    pipeline->level = level;
    // As in the thread model: the sender first (it owns fd from then on); a missing part is played
    // by an End given to the parts that run.
    if (!user::spawn(runtime, send_part(runtime, pipeline), priority)) {
        pipeline->~CoroutinePipeline();
        user::free(memory);
        return false;
    }
    if (!user::spawn(runtime, compute_part(runtime, pipeline), priority)) {
        pipeline->parts_running.fetch_sub(2);
        pipeline->jobs[0].kind = JobKind::End;
        pipeline->computed.advance();
        return true;
    }
    if (!user::spawn(runtime, receive_part(runtime, pipeline), part_priority(level, true))) {
        pipeline->jobs[0].kind = JobKind::End;
        pipeline->received.advance();
        finish_part(pipeline);
    }
    return true;
}

Task<int> accept_loop(Runtime& runtime, int listener) {
    for (;;) {
        long fd;
        TCPSERVER_ASYNC(fd, runtime, abi::Accept, listener, static_cast<char*>(nullptr), size_t{0});
        if (fd < 0) {
            if (fd == -EMFILE || fd == -ENOBUFS || fd == -ENOMEM || fd == -ECONNABORTED) {
                co_await user::yield_now();
                continue;
            }
            user::eprintln("tcpserver: accept: {}", fd);
            co_return 1;
        }
        int one = 1;
        user::setsockopt(static_cast<int>(fd), abi::ProtocolTcp, abi::TcpNoDelay, &one, sizeof(one));
        const uint64_t index = connections_accepted.fetch_add(1, std::memory_order_relaxed);
        if (!start_connection(runtime, static_cast<int>(fd), level_of(index))) {
            user::eprintln("tcpserver: no coroutine for connection {}", index);
            user::close(static_cast<int>(fd));
        }
    }
}

} // namespace

Task<int> run_coroutine_model(Runtime& runtime, int listener) {
    if (config.threads > 1) {
        long started = user::add_poll_threads(runtime, config.threads - 1);
        if (started != static_cast<long>(config.threads - 1))
            user::eprintln("tcpserver: {} of {} more poll threads started", started, config.threads - 1);
    }
    auto handle = user::spawn(runtime, accept_loop(runtime, listener), AcceptPriority);
    if (!handle) co_return 1;
    Result<int> status = co_await *handle;
    co_return status ? *status : 1;
}

} // namespace tcpserver
