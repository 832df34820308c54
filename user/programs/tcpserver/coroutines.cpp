// The coroutine model: an accept coroutine, then per connection one coroutine (--parts 1) or three
// (--parts 3: receive, compute, send, connected by the job ring of server.hpp), all on the process's
// executor with K poll threads (--threads K), using the asynchronous accept, read and write.
//
// Priorities: connection i's coroutines run at executor priority ConnectionPriority + level (level
// i mod L): the executor resumes a more urgent coroutine first, and the runtime publishes the
// process's most urgent ready priority to the kernel.
//
// Call slots: every connection waits in the kernel in an asynchronous read, each holding one of
// the process's call slots, and the kernel refuses a submission (-EAGAIN) beyond the process's
// share of the work executor (512 calls, docs/reliability.md). A refused coroutine waits here, in
// user space, until a call of this process completes, then submits again (retry_call).
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

constexpr uint32_t AcceptPriority = user::DefaultPriority;
constexpr uint32_t ConnectionPriority = user::DefaultPriority + 1; // + level

// ---- Refused submissions ----

std::atomic<uint32_t> stalled{0}; // coroutines waiting for a call slot
vdso::Event calls_freed;          // set when a call completes while some are stalled

inline void note_completion() {
    if (stalled.load(std::memory_order_seq_cst) != 0) [[unlikely]]
        calls_freed.set();
}

// Submits `number` until the kernel accepts it; the call's result.
Task<long> retry_call(Runtime&, long number, int fd, void* buffer, size_t length) {
    stalled.fetch_add(1, std::memory_order_seq_cst);
    for (;;) {
        long result = co_await user::AsyncCallAwaiter(number, fd, buffer, length);
        if (result != -EAGAIN) {
            stalled.fetch_sub(1, std::memory_order_seq_cst);
            note_completion();
            co_return result;
        }
        co_await calls_freed.wait();
        calls_freed.reset();
        std::atomic_thread_fence(std::memory_order_seq_cst);
    }
}

// `result = co_await async_<call>(fd, buffer, length)`, resubmitted while refused.
#define TCPSERVER_ASYNC(result, runtime, number, fd, buffer, length)                                                 \
    do {                                                                                                              \
        result = co_await user::AsyncCallAwaiter(number, fd, buffer, length);                                       \
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
        Job& job = pipeline->jobs[received % RingSlots];
        if (parse_next(pipeline->session, pipeline->input, job) == Parsed::Produced) {
            const bool last = job.close_after;
            ++received;
            pipeline->received.advance();
            if (last) break;
            continue;
        }
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
        Job& job = pipeline->jobs[computed % RingSlots];
        const bool end = job.kind == JobKind::End;
        compute(job);
        pipeline->computed.advance();
        if (end) break;
    }
    finish_part(pipeline);
}

Task<> send_part(Runtime& runtime, CoroutinePipeline* pipeline) {
    bool end = false;
    uint32_t now = 0;
    for (uint32_t sent = 0; !end;) {
        TCPSERVER_WAIT(pipeline->computed, now, now != sent);
        for (const uint32_t computed = now; sent != computed && !end; ++sent) {
            const Job& job = pipeline->jobs[sent % RingSlots];
            end = job.kind == JobKind::End;
            if (!end && !pipeline->broken.load(std::memory_order_relaxed)) {
                if (!format_reply(job, pipeline->level, status_counters(), pipeline->output))
                    pipeline->broken.store(true, std::memory_order_relaxed);
                requests_served.fetch_add(1, std::memory_order_relaxed);
            }
            pipeline->sent.advance();
        }
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
    const uint32_t priority = ConnectionPriority + level;
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
    if (!user::spawn(runtime, receive_part(runtime, pipeline), priority)) {
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
