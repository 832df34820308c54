// The TcpServer's models (docs/experiments.md, "The server"): what main.cpp, threads.cpp and
// coroutines.cpp share.
#pragma once

#include "user/lib/syscall.hpp" // first: <cerrno> would turn its Errno names into macros

#include <atomic>
#include <cstdint>

#include "user/lib/runtime.hpp"
#include "user/programs/tcpserver/protocol.hpp"

// The process's asynchronous call slots (main.cpp); bin/tcpserver-fewslots is built with 4.
#ifndef TCPSERVER_CALL_SLOTS
#define TCPSERVER_CALL_SLOTS 1536
#endif

namespace tcpserver {

enum class Model : uint8_t { Thread, Coroutine };

struct Config {
    Model model = Model::Coroutine;
    uint32_t parts = 1;      // 1: one thread or coroutine per connection; 3: receive, compute, send
    uint32_t threads = 1;    // poll threads of the coroutine model
    uint32_t priorities = 0; // 0: none (every connection at level 0)
    uint16_t port = 80;
};

extern Config config;
extern std::atomic<uint64_t> connections_accepted;
extern std::atomic<uint64_t> requests_served;
extern std::atomic<uint64_t> submissions_refused;
extern std::atomic<uint64_t> permit_waits; // reads and accepts that found no permit (coroutines.cpp)

const char* model_name(Model model);
StatusCounters status_counters();

// Level of the i-th accepted connection (from 0): i mod L, 0 without --priorities.
inline uint32_t level_of(uint64_t index) {
    return config.priorities ? static_cast<uint32_t>(index % config.priorities) : 0;
}

// Parts 1: everything one connection's single loop does to a chunk of input. Parses every complete
// request in `input`, computes and formats the replies into `output` in order. Returns false when
// the connection is to be closed once `output` is written (an error, Connection: close).
struct Connection {
    int fd = -1;
    uint32_t level = 0;
    Session session;
    Buffer input;
    Buffer output;
    Job job;
};
bool serve_input(Connection& connection);

// Parts 3: the receive, compute and send parts of one connection share a ring of jobs with three
// cursors (received >= computed >= sent, at most RingSlots apart). The slot at `received % RingSlots`
// belongs to the receiver until it advances `received`, then to compute until `computed` moves past
// it, then to the sender until `sent` does. Each cursor is advanced by one part only and waited for
// by one part only, so a cursor is a single-producer single-consumer counter: the producer's
// advance is a store (and a wake-up only when its consumer sleeps), the consumer's check a load.
// No system call unless someone must wait (threads: futex; coroutines: the executor).
constexpr uint32_t RingSlots = 8;

// The receiver reads into `input` and stops at end of file, an error, or a request that closes the
// connection; it passes End last. The sender owns `output`, closes the descriptor after End and
// sets `broken` when a write fails (then it discards replies until End, and the receiver stops).
struct PipelineBase {
    int fd = -1;
    uint32_t level = 0;
    Session session;
    Buffer input;  // the receiver's
    Buffer output; // the sender's
    Job jobs[RingSlots];
    std::atomic<bool> broken{false};
    std::atomic<uint32_t> parts_running{3}; // the last part to finish frees the pipeline
};

// The receive part's step in either model, once slot `received` is free: parses the next request in
// `input` into it and advances the `received` cursor (Job, or Last for a job that closes the
// connection), or NeedMore when `input` holds no complete request.
enum class Received : uint8_t { Job, Last, NeedMore };
template <typename Pipeline>
Received receive_parsed(Pipeline& pipeline, uint32_t& received) {
    Job& job = pipeline.jobs[received % RingSlots];
    if (parse_next(pipeline.session, pipeline.input, job) != Parsed::Produced) return Received::NeedMore;
    const bool last = job.close_after;
    ++received;
    pipeline.received.advance();
    return last ? Received::Last : Received::Job;
}

// The compute part's step in either model: computes job `computed` and advances the `computed`
// cursor; true when that job was End.
template <typename Pipeline>
bool compute_received(Pipeline& pipeline, uint32_t computed) {
    Job& job = pipeline.jobs[computed % RingSlots];
    const bool end = job.kind == JobKind::End;
    compute(job);
    pipeline.computed.advance();
    return end;
}

// The send part's step in either model: formats the replies of the jobs from `sent` up to `computed`
// into `output` (counting them; none once the connection is broken), advancing the `sent` cursor
// past each, and stops after End (sets `end`). Returns the new `sent`.
template <typename Pipeline>
uint32_t format_computed(Pipeline& pipeline, uint32_t sent, uint32_t computed, bool& end) {
    for (; sent != computed && !end; ++sent) {
        const Job& job = pipeline.jobs[sent % RingSlots];
        end = job.kind == JobKind::End;
        if (!end && !pipeline.broken.load(std::memory_order_relaxed)) {
            if (!format_reply(job, pipeline.level, status_counters(), pipeline.output))
                pipeline.broken.store(true, std::memory_order_relaxed);
            requests_served.fetch_add(1, std::memory_order_relaxed);
        }
        pipeline.sent.advance();
    }
    return sent;
}

int run_thread_model(int listener);
user::Task<int> run_coroutine_model(user::Runtime& runtime, int listener);

// The guest-internal test (tcpserver --selftest): a client of every model over 127.0.0.1.
int run_selftest();
// tcpserver --count: instructions retired per request round trip, per model (selftest.cpp).
int run_instruction_counts();

} // namespace tcpserver
