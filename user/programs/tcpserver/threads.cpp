// The thread model: the accept loop on the initial thread, then per connection one thread blocking
// in read and write (--parts 1), or three (--parts 3: receive, compute, send) connected by the
// job ring of server.hpp, whose cursors are waited for with futexes only when a part must sleep.
//
// Priorities: the kernel's priority is a process's (set_priority), not a thread's, so a
// connection's level is only carried in its replies here; the coroutine model gives it to the
// executor.
#include "user/lib/format.hpp"
#include "user/lib/malloc.hpp"
#include "user/lib/net.hpp"
#include "user/programs/tcpserver/server.hpp"

#include <new>

namespace tcpserver {

namespace abi = cokernel::abi;

namespace {

constexpr size_t ThreadStackBytes = 32 * 1024;     // parts 1: parsing and formatting only
constexpr size_t PartStackBytes = 16 * 1024;       // parts 3
constexpr uint32_t ThreadSlotCount = 3 * 1280 + 8; // 1,280 connections with three parts

// A thread's stack and tid word, reused once the thread has ended (tid word 0).
struct ThreadSlot {
    int tid_word = 0;
    uintptr_t stack = 0;
    size_t stack_bytes = 0;
    void* argument = nullptr;
};
ThreadSlot thread_slots[ThreadSlotCount];
uint32_t next_slot = 0; // where the search for a free slot starts (only the accept thread looks)

// Starts entry(argument) on a free slot's thread; false when none is free or the kernel refuses.
bool start_thread(int (*entry)(void*), void* argument, size_t stack_bytes) {
    for (uint32_t tried = 0; tried < ThreadSlotCount; ++tried) {
        ThreadSlot& slot = thread_slots[(next_slot + tried) % ThreadSlotCount];
        if (__atomic_load_n(&slot.tid_word, __ATOMIC_ACQUIRE) != 0) continue;
        next_slot = (next_slot + tried + 1) % ThreadSlotCount;
        if (slot.stack != 0 && slot.stack_bytes != stack_bytes) {
            user::munmap(slot.stack, slot.stack_bytes);
            slot.stack = 0;
        }
        if (slot.stack == 0) {
            long stack = user::mmap(0, stack_bytes, user::PROT_READ | user::PROT_WRITE, user::MAP_PRIVATE | user::MAP_ANONYMOUS);
            if (stack < 0) return false;
            slot.stack = static_cast<uintptr_t>(stack);
            slot.stack_bytes = stack_bytes;
        }
        slot.argument = argument;
        return user::spawn_thread(entry, argument, reinterpret_cast<void*>(slot.stack + stack_bytes), &slot.tid_word) > 0;
    }
    return false;
}

// ---- Parts 1 ----

int serve_connection(void* argument) {
    auto* connection = static_cast<Connection*>(argument);
    bool open = true;
    while (open) {
        if (!connection->input.reserve(4096)) break;
        long n = user::read(connection->fd, connection->input.tail(), connection->input.capacity - connection->input.end);
        if (n <= 0) break;
        connection->input.produced(static_cast<size_t>(n));
        open = serve_input(*connection);
        if (connection->output.size() > 0) {
            if (user::write_all(connection->fd, connection->output.front(), static_cast<long>(connection->output.size())) !=
                static_cast<long>(connection->output.size()))
                break;
            connection->output.clear();
        }
    }
    user::close(connection->fd);
    connection->~Connection();
    user::free(connection);
    return 0;
}

// ---- Parts 3 ----

// A cursor of the ring: advanced by one thread, waited for by one other.
struct Cursor {
    std::atomic<int> value{0};
    std::atomic<int> sleeping{0}; // 1 while its consumer is (about to be) in futex_wait

    void advance() {
        value.fetch_add(1, std::memory_order_seq_cst);
        if (sleeping.load(std::memory_order_seq_cst)) user::futex_wake(reinterpret_cast<int*>(&value), 1);
    }
    // Waits until `done(value)`; spins briefly first (the other part is often just finishing).
    template <typename Done>
    int wait(Done done) {
        for (int spin = 0; spin < 64; ++spin) {
            int now = value.load(std::memory_order_acquire);
            if (done(now)) return now;
        }
        for (;;) {
            sleeping.store(1, std::memory_order_seq_cst);
            int now = value.load(std::memory_order_seq_cst);
            if (done(now)) {
                sleeping.store(0, std::memory_order_relaxed);
                return now;
            }
            user::futex_wait(reinterpret_cast<int*>(&value), now);
            sleeping.store(0, std::memory_order_relaxed);
            now = value.load(std::memory_order_acquire);
            if (done(now)) return now;
        }
    }
};

struct ThreadPipeline : PipelineBase {
    Cursor received, computed, sent;
};

void finish_part(ThreadPipeline* pipeline) {
    if (pipeline->parts_running.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        pipeline->~ThreadPipeline();
        user::free(pipeline);
    }
}

int receive_part(void* argument) {
    auto* pipeline = static_cast<ThreadPipeline*>(argument);
    uint32_t received = 0;
    bool reading = true;
    while (reading) {
        // A free slot first: parsing writes into it.
        pipeline->sent.wait([&](int sent) { return received - static_cast<uint32_t>(sent) < RingSlots; });
        const Received step = receive_parsed(*pipeline, received);
        if (step == Received::Last) break;
        if (step == Received::Job) continue;
        if (pipeline->broken.load(std::memory_order_relaxed) || !pipeline->input.reserve(4096)) break;
        long n = user::read(pipeline->fd, pipeline->input.tail(), pipeline->input.capacity - pipeline->input.end);
        if (n <= 0) reading = false;
        else pipeline->input.produced(static_cast<size_t>(n));
    }
    pipeline->sent.wait([&](int sent) { return received - static_cast<uint32_t>(sent) < RingSlots; });
    pipeline->jobs[received % RingSlots].kind = JobKind::End;
    pipeline->received.advance();
    finish_part(pipeline);
    return 0;
}

int compute_part(void* argument) {
    auto* pipeline = static_cast<ThreadPipeline*>(argument);
    for (uint32_t computed = 0;; ++computed) {
        pipeline->received.wait([&](int received) { return static_cast<uint32_t>(received) != computed; });
        if (compute_received(*pipeline, computed)) break; // End computed (and passed on)
    }
    finish_part(pipeline);
    return 0;
}

int send_part(void* argument) {
    auto* pipeline = static_cast<ThreadPipeline*>(argument);
    bool end = false;
    for (uint32_t sent = 0; !end;) {
        const uint32_t computed = static_cast<uint32_t>(
            pipeline->computed.wait([&](int computed) { return static_cast<uint32_t>(computed) != sent; }));
        sent = format_computed(*pipeline, sent, computed, end); // every job computed so far: one write for all
        if (pipeline->output.size() > 0 && !pipeline->broken.load(std::memory_order_relaxed)) {
            const long length = static_cast<long>(pipeline->output.size());
            if (user::write_all(pipeline->fd, pipeline->output.front(), length) != length) {
                pipeline->broken.store(true, std::memory_order_relaxed);
                user::shutdown(pipeline->fd, abi::ShutdownRead); // the receiver's read ends
            }
        }
        pipeline->output.clear();
    }
    user::close(pipeline->fd);
    finish_part(pipeline);
    return 0;
}

bool start_connection(int fd, uint32_t level) {
    if (config.parts == 1) {
        void* memory = user::malloc(sizeof(Connection));
        if (memory == nullptr) return false;
        auto* connection = new (memory) Connection;
        connection->fd = fd;
        connection->level = level;
        if (start_thread(serve_connection, connection, ThreadStackBytes)) return true;
        connection->~Connection();
        user::free(memory);
        return false;
    }
    void* memory = user::malloc(sizeof(ThreadPipeline));
    if (memory == nullptr) return false;
    auto* pipeline = new (memory) ThreadPipeline;
    pipeline->fd = fd;
    pipeline->level = level;
    // The send part first: once it runs, it is the one that closes fd. If a later part cannot start,
    // the parts that did are ended by an End that this thread plays for the missing receiver.
    if (!start_thread(send_part, pipeline, PartStackBytes)) {
        pipeline->~ThreadPipeline();
        user::free(memory);
        return false;
    }
    if (!start_thread(compute_part, pipeline, PartStackBytes)) {
        // Nobody computes: the sender waits for `computed`; give it the End directly.
        pipeline->parts_running.fetch_sub(2);
        pipeline->jobs[0].kind = JobKind::End;
        pipeline->computed.advance();
        return true; // fd is the sender's now
    }
    if (!start_thread(receive_part, pipeline, PartStackBytes)) {
        pipeline->jobs[0].kind = JobKind::End;
        pipeline->received.advance();
        finish_part(pipeline);
        return true;
    }
    return true;
}

} // namespace

int run_thread_model(int listener) {
    for (;;) {
        long fd = user::accept(listener);
        if (fd < 0) {
            if (fd == -EMFILE || fd == -ENOBUFS || fd == -ENOMEM || fd == -ECONNABORTED) continue;
            user::eprintln("tcpserver: accept: {}", fd);
            return 1;
        }
        int one = 1;
        user::setsockopt(static_cast<int>(fd), abi::ProtocolTcp, abi::TcpNoDelay, &one, sizeof(one));
        const uint64_t index = connections_accepted.fetch_add(1, std::memory_order_relaxed);
        if (!start_connection(static_cast<int>(fd), level_of(index))) {
            user::eprintln("tcpserver: no thread for connection {}", index);
            user::close(static_cast<int>(fd));
        }
    }
}

} // namespace tcpserver
