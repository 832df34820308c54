// ByteRing: the pipe's buffer. Checked against a simple model (a deque) under random transfers with
// failing copies, and at the edges: empty, full, wrapping, a copy failing in either piece.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstring>
#include <deque>
#include <random>
#include <vector>

#include "kernel/lib/byte_ring.hpp"

using kernel::ByteRing;

namespace {

template <size_t N>
long put_bytes(ByteRing<N>& ring, const std::vector<uint8_t>& bytes, int fail_on_piece = -1) {
    int piece = 0;
    return ring.put(bytes.size(), [&](uint8_t* into, size_t offset, size_t count) {
        if (piece++ == fail_on_piece) return false;
        std::memcpy(into, bytes.data() + offset, count);
        return true;
    });
}

template <size_t N>
long take_bytes(ByteRing<N>& ring, std::vector<uint8_t>& out, size_t length, int fail_on_piece = -1) {
    out.assign(length, 0xee);
    int piece = 0;
    long taken = ring.take(length, [&](size_t offset, const uint8_t* from, size_t count) {
        if (piece++ == fail_on_piece) return false;
        std::memcpy(out.data() + offset, from, count);
        return true;
    });
    if (taken >= 0) out.resize(static_cast<size_t>(taken));
    return taken;
}

} // namespace

TEST_CASE("byte ring: empty and full edges") {
    ByteRing<8> ring;
    std::vector<uint8_t> out;
    CHECK(ring.empty());
    CHECK(take_bytes(ring, out, 4) == 0);
    CHECK(put_bytes(ring, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}) == 8);  // only what fits
    CHECK(ring.room() == 0);
    CHECK(put_bytes(ring, {11}) == 0);
    CHECK(take_bytes(ring, out, 3) == 3);
    CHECK(out == std::vector<uint8_t>{1, 2, 3});
    CHECK(put_bytes(ring, {11, 12}) == 2);  // wraps
    CHECK(take_bytes(ring, out, 100) == 7);  // two pieces
    CHECK(out == std::vector<uint8_t>{4, 5, 6, 7, 8, 11, 12});
    CHECK(ring.empty());
}

TEST_CASE("byte ring: a failing copy in either piece changes nothing") {
    ByteRing<8> ring;
    std::vector<uint8_t> out;
    REQUIRE(put_bytes(ring, {1, 2, 3, 4, 5, 6}) == 6);
    REQUIRE(take_bytes(ring, out, 5) == 5);  // head at 5, one byte (6) left
    for (int piece : {0, 1}) {
        CHECK(put_bytes(ring, {7, 8, 9, 10}, piece) == -1);  // 3 bytes to the end, 1 wrapped
        CHECK(ring.used() == 1);
    }
    REQUIRE(put_bytes(ring, {7, 8, 9, 10}) == 4);
    for (int piece : {0, 1}) {
        CHECK(take_bytes(ring, out, 5, piece) == -1);
        CHECK(ring.used() == 5);
    }
    CHECK(take_bytes(ring, out, 5) == 5);
    CHECK(out == std::vector<uint8_t>{6, 7, 8, 9, 10});
}

TEST_CASE("byte ring: random transfers match a model") {
    ByteRing<61> ring;  // odd size: pieces split at every offset
    std::deque<uint8_t> model;
    std::mt19937 random(12345);
    uint8_t next = 0;
    for (int step = 0; step < 20000; ++step) {
        size_t length = random() % 80;
        int fail = (random() % 8 == 0) ? static_cast<int>(random() % 2) : -1;
        if (random() % 2) {
            std::vector<uint8_t> bytes(length);
            for (auto& b : bytes) b = next++;
            long put = put_bytes(ring, bytes, fail);
            size_t expected = std::min(length, 61 - model.size());
            if (put < 0) {
                next = static_cast<uint8_t>(next - length);  // nothing went in
            } else {
                REQUIRE(static_cast<size_t>(put) == expected);
                for (size_t i = 0; i < expected; ++i) model.push_back(bytes[i]);
                next = static_cast<uint8_t>(next - (length - expected));
            }
        } else {
            std::vector<uint8_t> out;
            long taken = take_bytes(ring, out, length, fail);
            if (taken >= 0) {
                REQUIRE(static_cast<size_t>(taken) == std::min(length, model.size()));
                for (uint8_t b : out) {
                    REQUIRE(b == model.front());
                    model.pop_front();
                }
            }
        }
        REQUIRE(ring.used() == model.size());
    }
}
