#include "kernel/lib/random.hpp"

#include <atomic>

#include "kernel/arch/riscv/csr.hpp"

namespace kernel {

namespace {

constexpr uint64_t Golden = 0x9e3779b97f4a7c15ull;
std::atomic<uint64_t> counter{0x6a09e667f3bcc908ull};  // any start; the counters make it differ per boot

constexpr uint64_t rotate_left(uint64_t value, unsigned bits) { return (value << bits) | (value >> (64 - bits)); }

constexpr uint64_t finalise(uint64_t z) {  // SplitMix64's output function
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

} // namespace

uint64_t random_u64() {
    uint64_t noise = riscv::read_time() ^ rotate_left(riscv::read_instret(), 29);
    uint64_t step = counter.fetch_add(Golden, std::memory_order_relaxed) + Golden;
    return finalise(step ^ finalise(noise));
}

void random_bytes(void* out, size_t count) {
    auto* bytes = static_cast<unsigned char*>(out);
    while (count > 0) {
        uint64_t value = random_u64();
        size_t chunk = count < 8 ? count : 8;
        __builtin_memcpy(bytes, &value, chunk);
        bytes += chunk;
        count -= chunk;
    }
}

} // namespace kernel
