// Heap over fake RAM: size classes, large allocations, alignment, exhaustion, bad frees, and a random
// workload checking that live blocks never overlap and keep their contents.
#include "kernel/mm/heap.hpp"
#include "tests/kernel/mm/fake_memory.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <map>
#include <random>
#include <thread>
#include <vector>

using namespace kernel;
using namespace kernel::mm;
using namespace kernel::mm::testing;

namespace {

struct HeapFixture {
    explicit HeapFixture(size_t bytes = 16 * MiB) : memory(bytes) {
        PhysicalRange ram = memory.ram();
        REQUIRE(frames.init(&ram, 1, nullptr, 0, memory.map()));
        REQUIRE(heap.init(frames, memory.map()));
    }
    FakeMemory memory;
    FrameAllocator frames;
    Heap heap;
};

uintptr_t address(const void* pointer) { return reinterpret_cast<uintptr_t>(pointer); }

} // namespace

TEST_CASE("heap serves small sizes from power-of-two classes aligned to their size") {
    HeapFixture fixture;
    Heap& heap = fixture.heap;
    struct Case { size_t size, block; };
    for (Case c : {Case{1, 16}, Case{16, 16}, Case{17, 32}, Case{100, 128}, Case{512, 512}, Case{513, 1024},
                   Case{2048, 2048}}) {
        void* block = heap.allocate(c.size);
        REQUIRE(block != nullptr);
        CHECK(heap.usable_size(block) == c.block);
        CHECK(address(block) % c.block == 0);
        std::memset(block, 0x5a, c.size);
        heap.free(block);
    }
    CHECK(heap.stats().live_allocations == 0);
    CHECK(heap.stats().rejected_frees == 0);
    CHECK(Heap::size_class_for(0, 1) == 0);
    CHECK(Heap::size_class_for(2049, 16) == Heap::SizeClassCount);
    CHECK(Heap::size_class_for(8, 2048) == 7);
}

TEST_CASE("heap zero-size requests get a distinct block; bad alignments get nullptr") {
    HeapFixture fixture;
    void* a = fixture.heap.allocate(0);
    void* b = fixture.heap.allocate(0);
    REQUIRE(a != nullptr);
    REQUIRE(b != nullptr);
    CHECK(a != b);
    CHECK(fixture.heap.allocate(16, 3) == nullptr);
    CHECK(fixture.heap.allocate(16, 0) == nullptr);
    CHECK(fixture.heap.allocate(16, 8192) == nullptr);
    CHECK(fixture.heap.allocate(~size_t{0}) == nullptr);
    CHECK(fixture.heap.allocate(~size_t{0} - 100, 4096) == nullptr);
    fixture.heap.free(a);
    fixture.heap.free(b);
    fixture.heap.free(nullptr);
    CHECK(fixture.heap.stats().rejected_frees == 0);
}

TEST_CASE("heap large allocations take whole frames and give them back") {
    HeapFixture fixture;
    Heap& heap = fixture.heap;
    size_t free_before = fixture.frames.free_frames();
    for (size_t size : {size_t{2049}, size_t{4000}, size_t{4096}, size_t{10000}, size_t{1 * MiB}}) {
        void* block = heap.allocate(size);
        REQUIRE(block != nullptr);
        CHECK(heap.usable_size(block) >= size);
        CHECK(heap.stats().large_frames * PageSize >= size);
        CHECK(heap.stats().large_frames * PageSize < size + 2 * PageSize);
        std::memset(block, 0x3c, size);
        heap.free(block);
        CHECK(fixture.frames.free_frames() == free_before);
    }
    CHECK(heap.stats().large_frames == 0);
}

TEST_CASE("heap honours every alignment up to 4096 for small and large sizes") {
    HeapFixture fixture;
    std::vector<void*> live;
    for (size_t alignment = 1; alignment <= 4096; alignment *= 2) {
        for (size_t size : {size_t{1}, size_t{24}, size_t{100}, size_t{2048}, size_t{3000}, size_t{5000}}) {
            void* block = fixture.heap.allocate(size, alignment);
            REQUIRE(block != nullptr);
            CHECK(address(block) % alignment == 0);
            CHECK(fixture.heap.usable_size(block) >= size);
            std::memset(block, 0x11, size);
            live.push_back(block);
        }
    }
    for (void* block : live) REQUIRE(fixture.heap.checked_free(block));
    CHECK(fixture.heap.stats().live_allocations == 0);
}

TEST_CASE("heap returns nullptr when frames run out and recovers after frees") {
    HeapFixture fixture(1 * MiB);  // 255 usable frames
    Heap& heap = fixture.heap;
    size_t free_before = fixture.frames.free_frames();
    std::vector<void*> small;
    while (void* block = heap.allocate(1000)) small.push_back(block);
    CHECK(small.size() > 100);
    CHECK(heap.allocate(100000) == nullptr);
    for (void* block : small) heap.free(block);
    // At most one empty slab stays cached for the 1024 class.
    CHECK(heap.stats().slab_frames == Heap::ChunkFrames);
    CHECK(fixture.frames.free_frames() == free_before - Heap::ChunkFrames);

    std::vector<void*> large;
    while (void* block = heap.allocate(20000)) large.push_back(block);
    CHECK(large.size() > 10);
    for (void* block : large) heap.free(block);
    CHECK(heap.stats().large_frames == 0);
    CHECK(heap.stats().rejected_frees == 0);
    CHECK(heap.allocate(20000) != nullptr);
}

TEST_CASE("heap caches one empty slab per class and releases the rest") {
    HeapFixture fixture;
    Heap& heap = fixture.heap;
    std::vector<void*> blocks;
    for (int i = 0; i < 20; ++i) blocks.push_back(heap.allocate(2048));  // 7 per slab: 3 slabs
    CHECK(heap.stats().slab_frames == 3 * Heap::ChunkFrames);
    for (void* block : blocks) heap.free(block);
    CHECK(heap.stats().slab_frames == Heap::ChunkFrames);
    void* again = heap.allocate(2048);
    CHECK(heap.stats().slab_frames == Heap::ChunkFrames);
    heap.free(again);
}

TEST_CASE("heap detects double and invalid frees and stays consistent") {
    HeapFixture fixture;
    Heap& heap = fixture.heap;
    void* small = heap.allocate(64);
    void* other = heap.allocate(64);
    void* large = heap.allocate(10000);
    REQUIRE(heap.checked_free(small));
    CHECK(heap.checked_free(small).error() == Error::InvalidArgument);   // double free, small
    REQUIRE(heap.checked_free(large));
    CHECK(heap.checked_free(large).error() == Error::InvalidArgument);   // double free, large
    CHECK(heap.checked_free(static_cast<char*>(other) + 16).error() == Error::InvalidArgument);  // interior
    int on_stack = 0;
    CHECK(heap.checked_free(&on_stack).error() == Error::InvalidArgument);  // not heap memory at all
    CHECK(heap.checked_free(reinterpret_cast<char*>(other) - 64 * 40).error() == Error::InvalidArgument);
    heap.free(small);  // the void form counts it
    CHECK(heap.stats().rejected_frees == 6);

    // The rejected frees did not corrupt the free list: two allocations give two distinct blocks.
    void* first = heap.allocate(64);
    void* second = heap.allocate(64);
    CHECK(first != second);
    CHECK(first != other);
    CHECK(second != other);
    heap.free(first);
    heap.free(second);
    heap.free(other);
    CHECK(heap.stats().live_allocations == 0);
}

TEST_CASE("heap random workload: live blocks never overlap and keep their contents") {
    HeapFixture fixture(32 * MiB);
    Heap& heap = fixture.heap;
    std::mt19937_64 random(12345);
    struct Live { size_t size; unsigned char pattern; };
    std::map<uintptr_t, Live> live;

    auto verify_and_free = [&](std::map<uintptr_t, Live>::iterator it) {
        auto* bytes = reinterpret_cast<unsigned char*>(it->first);
        unsigned char pattern = it->second.pattern;
        REQUIRE(std::all_of(bytes, bytes + it->second.size, [=](unsigned char b) { return b == pattern; }));
        REQUIRE(heap.checked_free(bytes));
        live.erase(it);
    };

    for (int step = 0; step < 20000; ++step) {
        if (!live.empty() && random() % 100 < 45) {
            auto it = live.lower_bound(random());
            if (it == live.end()) it = live.begin();
            verify_and_free(it);
            continue;
        }
        size_t size = random() % 100 < 90 ? 1 + random() % 2048 : 2049 + random() % 40000;
        size_t alignment = size_t{1} << (random() % 13);
        auto* block = static_cast<unsigned char*>(heap.allocate(size, alignment));
        REQUIRE(block != nullptr);
        uintptr_t start = address(block);
        REQUIRE(start % alignment == 0);
        auto next = live.lower_bound(start);
        if (next != live.end()) REQUIRE(start + size <= next->first);
        if (next != live.begin()) {
            auto previous = std::prev(next);
            REQUIRE(previous->first + previous->second.size <= start);
        }
        auto pattern = static_cast<unsigned char>(step);
        std::memset(block, pattern, size);
        live[start] = {size, pattern};
    }
    CHECK(heap.stats().live_allocations == live.size());
    while (!live.empty()) verify_and_free(live.begin());
    CHECK(heap.stats().live_allocations == 0);
    CHECK(heap.stats().bytes_in_use == 0);
    CHECK(heap.stats().large_frames == 0);
    CHECK(heap.stats().rejected_frees == 0);
    CHECK(heap.stats().slab_frames <= Heap::SizeClassCount * Heap::ChunkFrames);
}

TEST_CASE("heap is safe under concurrent allocate and free") {
    HeapFixture fixture(32 * MiB);
    std::atomic<bool> corrupted{false};
    auto worker = [&](int id) {
        std::mt19937 random(id);
        std::vector<std::pair<unsigned char*, size_t>> held;
        for (int step = 0; step < 5000; ++step) {
            if (held.size() > 50 || (!held.empty() && random() % 2)) {
                auto [block, size] = held.back();
                held.pop_back();
                for (size_t i = 0; i < size; ++i) {
                    if (block[i] != static_cast<unsigned char>(id)) corrupted = true;
                }
                fixture.heap.free(block);
                continue;
            }
            size_t size = random() % 10 == 0 ? 3000 + random() % 9000 : 1 + random() % 2048;
            auto* block = static_cast<unsigned char*>(fixture.heap.allocate(size));
            if (block == nullptr) continue;
            std::memset(block, id, size);
            held.emplace_back(block, size);
        }
        for (auto [block, size] : held) fixture.heap.free(block);
    };
    std::vector<std::thread> threads;
    for (int id = 1; id <= 4; ++id) threads.emplace_back(worker, id);
    for (auto& thread : threads) thread.join();
    CHECK_FALSE(corrupted);
    CHECK(fixture.heap.stats().live_allocations == 0);
    CHECK(fixture.heap.stats().rejected_frees == 0);
}

TEST_CASE("heap footprint is what an allocation adds to the bytes in use") {
    HeapFixture fixture;
    Heap& heap = fixture.heap;
    for (size_t size : {size_t{1}, size_t{16}, size_t{100}, size_t{2048}, size_t{2049}, size_t{4096}, size_t{4200},
                        size_t{8160}, size_t{8170}, size_t{40000}}) {
        size_t before = heap.stats().bytes_in_use;
        void* block = heap.allocate(size);
        REQUIRE(block != nullptr);
        CHECK(heap.stats().bytes_in_use - before == Heap::footprint(size));
        heap.free(block);
        CHECK(heap.stats().bytes_in_use == before);
    }
    CHECK(Heap::footprint(4200) == 2 * PageSize);  // a pipe: its 4 KiB ring and the rest of its record
}
