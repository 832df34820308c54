// pipe_ring_<N>: a ring of N members passing a one-byte token through N pipes; member i reads from
// pipe i - 1 and writes to pipe i, and member 0 (this thread, the driver) writes to pipe 0 and reads
// from pipe N - 1. One repetition passes the token once around the ring; one operation is one hop
// (a write, the reader woken and switched to, its read returning). A warm-up lap comes first.
//
// How members 1..N-1 run is the model (RingModel); here the thread model: each member is a thread
// blocking in read. The coroutine model (pipe_ring_coroutine_N: every member, the driver too, a
// coroutine making asynchronous reads and writes) is in async.cpp: its laps are awaited, not blocking.
#include "user/lib/format.hpp"
#include "user/programs/bench/bench.hpp"

namespace bench {

namespace {

constexpr uint32_t MostMembers = 256;
constexpr size_t MemberStackSize = 16 * 1024;
constexpr char Go = 'g';
constexpr char Stop = 's'; // forwarded once around, then every member ends

struct Ring {
    uint32_t size = 0;
    int pipes[MostMembers][2] = {};        // pipes[i]: member i writes [1], member i + 1 reads [0]
    ThreadRecord members[MostMembers];     // thread model: members[1..size-1]
    int read_fd(uint32_t member) const { return pipes[(member + size - 1) % size][0]; }
    int write_fd(uint32_t member) const { return pipes[member][1]; }
};

struct RingModel {
    const char* row_prefix;
    // Starts members 1..size-1 forwarding the token until they forward Stop; false if it could not
    // (members already started are then ended by the caller's Stop lap).
    bool (*start_members)(Ring& ring, uint32_t& started);
    // After the Stop lap: waits until every started member has ended.
    void (*join_members)(Ring& ring, uint32_t started);
};

struct MemberArgument {
    Ring* ring;
    uint32_t index;
};
MemberArgument member_arguments[MostMembers];

int forward_tokens(void* argument) {
    const auto& member = *static_cast<MemberArgument*>(argument);
    const int in = member.ring->read_fd(member.index);
    const int out = member.ring->write_fd(member.index);
    for (;;) {
        char token = 0;
        if (user::read(in, &token, 1) != 1) return 1;
        if (user::write(out, &token, 1) != 1) return 1;
        if (token == Stop) return 0;
    }
}

bool start_member_threads(Ring& ring, uint32_t& started) {
    for (started = 1; started < ring.size; ++started) {
        member_arguments[started] = MemberArgument{&ring, started};
        ThreadRecord& thread = ring.members[started];
        if (!map_thread_stack(thread, MemberStackSize)) return false;
        if (start_thread(thread, forward_tokens, &member_arguments[started]) <= 0) {
            user::munmap(thread.stack, thread.stack_size);
            thread.stack = 0;
            return false;
        }
    }
    return true;
}

void join_member_threads(Ring& ring, uint32_t started) {
    for (uint32_t i = 1; i < started; ++i) join(ring.members[i]);
}

constexpr RingModel ThreadModel{"pipe_ring", start_member_threads, join_member_threads};

// The token once around, from the driver back to it; false if it did not come back as sent.
bool lap(const Ring& ring, char token) {
    char back = 0;
    return user::write(ring.write_fd(0), &token, 1) == 1 && user::read(ring.read_fd(0), &back, 1) == 1 && back == token;
}

Ring ring; // large (the thread records): not on the stack

bool bench_pipe_ring(const Settings& settings, const RingModel& model, uint32_t size) {
    ring.size = size;
    uint32_t opened = 0;
    for (; opened < size; ++opened)
        if (user::pipe2(ring.pipes[opened], 0) != 0) break;
    uint32_t started = 1;
    bool ok = opened == size && model.start_members(ring, started);
    // With every member started, a lap can only fail if the kernel lost the token.
    if (ok) ok = lap(ring, Go);
    Repetitions runs;
    for (uint32_t repetition = 0; ok && repetition < settings.repetitions; ++repetition) {
        const uint64_t start = instructions_retired();
        ok = lap(ring, Go);
        runs.add_per_operation(instructions_retired() - start, size);
    }
    // Every member that started ends with the Stop token (after a failed start it goes as far as the
    // last member started, and stays in that member's pipe).
    if (started == size) (void)lap(ring, Stop);
    else if (started > 1) (void)user::write(ring.write_fd(0), &Stop, 1);
    model.join_members(ring, started);
    for (uint32_t i = 0; i < opened; ++i) {
        user::close(ring.pipes[i][0]);
        user::close(ring.pipes[i][1]);
    }
    if (!ok) {
        report_failure(model.row_prefix, "ring of", static_cast<long>(size));
        return false;
    }
    print_row(model.row_prefix, size, "instructions", runs);
    return true;
}

} // namespace

bool bench_pipe_rings(const Settings& settings) {
    bool ok = true;
    for (uint32_t size : {16u, 64u, 256u}) ok = bench_pipe_ring(settings, ThreadModel, size) && ok;
    return ok;
}

} // namespace bench
