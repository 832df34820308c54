// asyncgreedy: a process that asks for the most asynchronous-call slots (2,048, with a ring of 2,048
// entries), for bin/hostile async-share (issue 14, docs/reliability.md).
//
//   asyncgreedy greedy READY   submits reads that wait until refused (its share of the work executor:
//                              1,536), writes the count on fd READY, waits to be killed
//   asyncgreedy account        checks that the ring and the slots count in memory_usage
#include "user/lib/print.hpp"
#include "user/programs/async_submitter.hpp"

// Read by the runtime (user/lib/runtime.hpp), which sets the ring up before main.
namespace user {
extern const uint32_t completion_ring_capacity = 2048;
extern const uint32_t async_calls_in_flight_limit = 2048;
} // namespace user

namespace {

bool same(const char* a, const char* b) {
    while (*a && *a == *b) ++a, ++b;
    return *a == *b;
}

// memory_usage = user pages + threads (kernel stack and record, about 20 KiB each; the runtime may start a few) + the ring
// (32 KiB of entries and a header: 9 pages) + 2,048 slots (about 800 bytes each: 400 pages).
int account() {
    cokernel::abi::ProcessRecord records[64];
    long count = user::process_list(records, 64);
    long pid = user::getpid();
    long user_pages = -1;
    for (long i = 0; i < count && i < 64; ++i)
        if (records[i].pid == static_cast<uint32_t>(pid)) user_pages = records[i].user_pages;
    if (user_pages < 0) return 10;
    long beyond_pages = user::memory_usage() - user_pages * 4096;
    constexpr long AsyncBytes = (9 + 400) * 4096;
    if (beyond_pages < AsyncBytes || beyond_pages > AsyncBytes + 256 * 1024) {
        user::say("asyncgreedy: FAILED memory_usage beyond user pages ", beyond_pages, ", wanted ", AsyncBytes,
                  " + its threads\n");
        return 11;
    }
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    if (argc > 2 && same(argv[1], "greedy")) return hostile::async_submitter(static_cast<int>(user::parse_decimal(argv[2])), 2048);
    if (argc > 1 && same(argv[1], "account")) return account();
    user::print("usage: asyncgreedy greedy READY | account\n");
    return 2;
}
