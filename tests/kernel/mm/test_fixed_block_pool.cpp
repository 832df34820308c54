// FixedBlockPool and ObjectPool: exhaustion, reuse, bad frees, frames given back.
#include "kernel/mm/fixed_block_pool.hpp"
#include "tests/kernel/mm/fake_memory.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <cstring>
#include <set>
#include <thread>
#include <vector>

using namespace kernel;
using namespace kernel::mm;
using namespace kernel::mm::testing;

TEST_CASE("fixed block pool hands out each block once and returns nullptr when exhausted") {
    alignas(64) static unsigned char region[1000];
    FixedBlockPool pool;
    REQUIRE(pool.init(region + 1, sizeof(region) - 1, 40, 8));
    CHECK(pool.block_size() == 40);
    CHECK(pool.capacity() == (sizeof(region) - 8) / 40);
    std::set<void*> blocks;
    while (void* block = pool.allocate()) {
        CHECK(reinterpret_cast<uintptr_t>(block) % 8 == 0);
        CHECK(pool.owns(block));
        blocks.insert(block);
    }
    CHECK(blocks.size() == pool.capacity());
    CHECK(pool.available() == 0);
    void* first = *blocks.begin();
    REQUIRE(pool.free(first));
    CHECK(pool.allocate() == first);
    for (void* block : blocks) REQUIRE(pool.free(block));
    CHECK(pool.available() == pool.capacity());
}

TEST_CASE("fixed block pool rejects bad frees without changing state") {
    alignas(64) static unsigned char region[64 * 10];
    FixedBlockPool pool;
    REQUIRE(pool.init(region, sizeof(region), 64, 64));
    void* a = pool.allocate();
    void* b = pool.allocate();
    CHECK(pool.free(static_cast<char*>(a) + 8).error() == Error::InvalidArgument);  // not a block start
    CHECK(pool.free(region + 64 * 5).error() == Error::InvalidArgument);            // never handed out
    int outside = 0;
    CHECK(pool.free(&outside).error() == Error::InvalidArgument);
    REQUIRE(pool.free(a));
    CHECK(pool.free(a).error() == Error::InvalidArgument);                           // double free
    CHECK(pool.available() == 9);
    void* again = pool.allocate();
    void* fresh = pool.allocate();
    CHECK(again == a);
    CHECK(fresh != a);
    CHECK(fresh != b);
    CHECK(pool.init(region, 10, 64).error() == Error::InvalidArgument);
}

TEST_CASE("object pool constructs and destroys objects, frames come back on release") {
    FakeMemory memory(1 * MiB);
    PhysicalRange ram = memory.ram();
    FrameAllocator frames;
    REQUIRE(frames.init(&ram, 1, nullptr, 0, memory.map()));
    size_t free_before = frames.free_frames();

    static int alive = 0;
    struct Widget {
        explicit Widget(int v) : value(v) { ++alive; }
        ~Widget() { --alive; }
        int value;
        alignas(32) char payload[40];
    };
    ObjectPool<Widget> pool;
    REQUIRE(pool.init_from_frames(frames, 2));
    CHECK(frames.free_frames() == free_before - 2);
    CHECK(pool.capacity() == 2 * PageSize / sizeof(Widget));
    std::vector<Widget*> widgets;
    while (Widget* widget = pool.create(int(widgets.size()))) widgets.push_back(widget);
    CHECK(widgets.size() == pool.capacity());
    CHECK(alive == int(widgets.size()));
    CHECK(widgets[5]->value == 5);
    CHECK(reinterpret_cast<uintptr_t>(widgets[3]) % 32 == 0);
    CHECK(pool.blocks().release().error() == Error::InvalidArgument);  // still in use
    for (Widget* widget : widgets) REQUIRE(pool.destroy(widget));
    CHECK(pool.destroy(widgets[0]).error() == Error::InvalidArgument);
    CHECK(alive == 0);
    REQUIRE(pool.blocks().release());
    CHECK(frames.free_frames() == free_before);
}

TEST_CASE("fixed block pool is safe under concurrent allocate and free") {
    alignas(64) static unsigned char region[64 * 256];
    FixedBlockPool pool;
    REQUIRE(pool.init(region, sizeof(region), 64));
    std::atomic<bool> corrupted{false};
    auto worker = [&](unsigned char id) {
        std::vector<unsigned char*> held;
        for (int step = 0; step < 20000; ++step) {
            if (held.size() < 40 && step % 3 != 2) {
                auto* block = static_cast<unsigned char*>(pool.allocate());
                if (block == nullptr) continue;
                std::memset(block, id, 64);
                held.push_back(block);
            } else if (!held.empty()) {
                unsigned char* block = held.back();
                held.pop_back();
                for (int i = 0; i < 64; ++i) {
                    if (block[i] != id) corrupted = true;
                }
                if (!pool.free(block)) corrupted = true;
            }
        }
        for (unsigned char* block : held) {
            if (!pool.free(block)) corrupted = true;
        }
    };
    std::vector<std::thread> threads;
    for (unsigned char id = 1; id <= 4; ++id) threads.emplace_back(worker, id);
    for (auto& thread : threads) thread.join();
    CHECK_FALSE(corrupted);
    CHECK(pool.available() == pool.capacity());
}
