// FrameAllocator over fake RAM: initialisation with reserved ranges, exhaustion, bad frees,
// contiguous allocation and concurrent use.
#include "kernel/mm/frame_allocator.hpp"
#include "tests/kernel/mm/fake_memory.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <set>
#include <thread>
#include <vector>

using namespace kernel;
using namespace kernel::mm;
using namespace kernel::mm::testing;

namespace {

bool inside(PhysicalAddress frame, const PhysicalRange& range) {
    return frame + PageSize > range.base && frame < range.base + range.size;
}

std::vector<PhysicalAddress> allocate_all(FrameAllocator& frames) {
    std::vector<PhysicalAddress> taken;
    for (;;) {
        Result<PhysicalAddress> frame = frames.allocate();
        if (!frame) {
            REQUIRE(frame.error() == Error::NoMemory);
            return taken;
        }
        taken.push_back(*frame);
    }
}

} // namespace

TEST_CASE("frame allocator hands out every usable frame once, then NoMemory") {
    FakeMemory memory(4 * MiB);
    PhysicalRange ram = memory.ram();
    FrameAllocator frames;
    REQUIRE(frames.init(&ram, 1, nullptr, 0, memory.map()));
    // 1024 frames, two 128-byte bitmaps fit in one metadata frame.
    CHECK(frames.total_frames() == 1023);
    CHECK(frames.free_frames() == 1023);
    CHECK(frames.metadata().size == PageSize);

    std::vector<PhysicalAddress> taken = allocate_all(frames);
    CHECK(taken.size() == 1023);
    CHECK(frames.free_frames() == 0);
    std::set<PhysicalAddress> distinct(taken.begin(), taken.end());
    CHECK(distinct.size() == taken.size());
    for (PhysicalAddress frame : taken) {
        CHECK(frame % PageSize == 0);
        CHECK(inside(frame, ram));
        CHECK_FALSE(inside(frame, frames.metadata()));
    }
    CHECK(frames.allocate_contiguous(1).error() == Error::NoMemory);

    // Recovery after free: the freed frame comes back.
    REQUIRE(frames.free(taken[500]));
    CHECK(frames.free_frames() == 1);
    Result<PhysicalAddress> again = frames.allocate();
    REQUIRE(again);
    CHECK(*again == taken[500]);
    for (PhysicalAddress frame : taken) REQUIRE(frames.free(frame));
    CHECK(frames.free_frames() == 1023);
}

TEST_CASE("frame allocator trims RAM inward and reserved ranges outward, overlaps included") {
    FakeMemory memory(4 * MiB);
    const PhysicalAddress base = FakeMemory::Base;
    PhysicalRange ram = {base + 100, 4 * MiB - 200};  // first and last frame are partial
    PhysicalRange reserved[] = {
        {base + 0x10005, 0x3000},     // frames 0x10..0x13 (unaligned both ends)
        {base + 0x11000, 0x5000},     // overlaps the first: frames 0x11..0x15
        {base - 0x2000, 0x4000},      // starts below RAM: covers frame 0 and 1
        {base + 0x200000, 1},         // one byte withholds a whole frame
        {base + 0x3ff800, 0x10000},   // runs past the end of RAM
        {base + 0x12000, 0},          // empty: ignored
    };
    FrameAllocator frames;
    REQUIRE(frames.init(&ram, 1, reserved, std::size(reserved), memory.map()));

    // Whole frames 1..1022 of RAM; minus 2..0x15 reserved (0x14 frames: 0x10..0x15 = 6; frame 1 = 1),
    // minus frame 0x200, minus frame 0x3ff (already trimmed), minus the metadata frame.
    std::set<uint64_t> withheld = {1, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x200};
    size_t expected = 1022 - withheld.size() - 1;
    CHECK(frames.total_frames() == expected);

    std::vector<PhysicalAddress> taken = allocate_all(frames);
    CHECK(taken.size() == expected);
    for (PhysicalAddress frame : taken) {
        uint64_t number = (frame - base) / PageSize;
        CHECK(number >= 1);
        CHECK(number <= 1022);
        CHECK(withheld.count(number) == 0);
        CHECK_FALSE(inside(frame, frames.metadata()));
    }
    // Reserved frames are not "allocated": freeing one is rejected.
    CHECK(frames.free(base + 0x12000).error() == Error::InvalidArgument);
    CHECK(frames.free(frames.metadata().base).error() == Error::InvalidArgument);
}

TEST_CASE("frame allocator skips holes between RAM ranges") {
    FakeMemory memory(4 * MiB);
    const PhysicalAddress base = FakeMemory::Base;
    PhysicalRange ram[] = {{base + 2 * MiB, 2 * MiB}, {base, 1 * MiB}};
    PhysicalRange reserved[] = {{base, 64 * KiB}};  // the metadata must go past it
    FrameAllocator frames;
    REQUIRE(frames.init(ram, 2, reserved, 1, memory.map()));
    CHECK(frames.metadata().base == base + 64 * KiB);
    CHECK(frames.total_frames() == 768 - 16 - 1);
    for (PhysicalAddress frame : allocate_all(frames)) {
        CHECK_FALSE((frame >= base + 1 * MiB && frame < base + 2 * MiB));
    }
    CHECK(frames.free(base + 1 * MiB + 0x5000).error() == Error::InvalidArgument);
}

TEST_CASE("frame allocator init rejects no usable RAM and finds no room when all is reserved") {
    FakeMemory memory(1 * MiB);
    FrameAllocator frames;
    PhysicalRange tiny = {FakeMemory::Base + 10, 100};
    CHECK(frames.init(&tiny, 1, nullptr, 0, memory.map()).error() == Error::InvalidArgument);
    CHECK(frames.init(nullptr, 0, nullptr, 0, memory.map()).error() == Error::InvalidArgument);
    PhysicalRange ram = memory.ram();
    CHECK(frames.init(&ram, 1, &ram, 1, memory.map()).error() == Error::NoMemory);
}

TEST_CASE("frame allocator detects bad frees without changing state") {
    FakeMemory memory(1 * MiB);
    PhysicalRange ram = memory.ram();
    FrameAllocator frames;
    REQUIRE(frames.init(&ram, 1, nullptr, 0, memory.map()));
    PhysicalAddress a = *frames.allocate();
    PhysicalAddress b = *frames.allocate();
    size_t free_before = frames.free_frames();

    CHECK(frames.free(a + 8).error() == Error::InvalidArgument);                 // unaligned
    CHECK(frames.free(FakeMemory::Base + 1 * MiB).error() == Error::InvalidArgument);  // past the end
    CHECK(frames.free(0x1000).error() == Error::InvalidArgument);               // below the start
    CHECK(frames.free(~uint64_t{0} & ~uint64_t{0xfff}).error() == Error::InvalidArgument);
    CHECK(frames.free(b + PageSize).error() == Error::InvalidArgument);          // never allocated
    CHECK(frames.free(a, 0).error() == Error::InvalidArgument);
    CHECK(frames.free(a, 3).error() == Error::InvalidArgument);                  // a, b, then a free one
    CHECK(frames.free(a, ~size_t{0}).error() == Error::InvalidArgument);
    CHECK(frames.free_frames() == free_before);
    CHECK(frames.is_allocated(a));
    CHECK(frames.is_allocated(b));

    REQUIRE(frames.free(a, 2));
    CHECK(frames.free(a).error() == Error::InvalidArgument);                     // double free
    CHECK(frames.free(b).error() == Error::InvalidArgument);
    CHECK(frames.free_frames() == free_before + 2);
}

TEST_CASE("frame allocator allocates aligned contiguous runs around fragmentation") {
    FakeMemory memory(4 * MiB);
    PhysicalRange ram = memory.ram();
    FrameAllocator frames;
    REQUIRE(frames.init(&ram, 1, nullptr, 0, memory.map()));

    CHECK(frames.allocate_contiguous(0).error() == Error::InvalidArgument);
    CHECK(frames.allocate_contiguous(1, 3).error() == Error::InvalidArgument);
    CHECK(frames.allocate_contiguous(2000).error() == Error::NoMemory);

    Result<PhysicalAddress> run = frames.allocate_contiguous(16, 16);
    REQUIRE(run);
    CHECK(*run % (16 * PageSize) == 0);
    for (size_t i = 0; i < 16; ++i) CHECK(frames.is_allocated(*run + i * PageSize));
    Result<PhysicalAddress> big = frames.allocate_contiguous(256, 256);  // 1 MiB aligned
    REQUIRE(big);
    CHECK(*big % MiB == 0);
    REQUIRE(frames.free(*run, 16));
    REQUIRE(frames.free(*big, 256));

    // Checkerboard: no two adjacent free frames.
    std::vector<PhysicalAddress> taken = allocate_all(frames);
    std::sort(taken.begin(), taken.end());
    for (size_t i = 0; i < taken.size(); i += 2) REQUIRE(frames.free(taken[i]));
    CHECK(frames.allocate_contiguous(2).error() == Error::NoMemory);
    REQUIRE(frames.free(taken[101]));  // joins taken[100], taken[101], taken[102]
    Result<PhysicalAddress> pair = frames.allocate_contiguous(3);
    REQUIRE(pair);
    CHECK(*pair == taken[100]);
    Result<PhysicalAddress> single = frames.allocate_contiguous(1);
    REQUIRE(single);
    CHECK(*single == taken[0]);
}

TEST_CASE("allocate_zeroed zeroes through the map; allocate does not") {
    FakeMemory memory(1 * MiB);
    PhysicalRange ram = memory.ram();
    FrameAllocator frames;
    REQUIRE(frames.init(&ram, 1, nullptr, 0, memory.map()));
    PhysicalAddress frame = *frames.allocate();
    auto* bytes = memory.map().to_virtual<unsigned char>(frame);
    CHECK(bytes[7] == 0xa5);  // garbage left as it was
    REQUIRE(frames.free(frame));
    PhysicalAddress zeroed = *frames.allocate_zeroed();
    REQUIRE(zeroed == frame);
    for (size_t i = 0; i < PageSize; ++i) REQUIRE(bytes[i] == 0);
}

TEST_CASE("frame allocator never hands one frame to two threads") {
    FakeMemory memory(16 * MiB);
    PhysicalRange ram = memory.ram();
    FrameAllocator frames;
    REQUIRE(frames.init(&ram, 1, nullptr, 0, memory.map()));
    const size_t total = frames.free_frames();
    constexpr int ThreadCount = 4;
    std::atomic<bool> corrupted{false};
    std::vector<std::vector<PhysicalAddress>> kept(ThreadCount);

    auto worker = [&](int id) {
        std::vector<PhysicalAddress> held;
        for (int round = 0; round < 200; ++round) {
            for (int i = 0; i < 8; ++i) {
                Result<PhysicalAddress> frame = (i % 4 == 3) ? frames.allocate_contiguous(2, 2) : frames.allocate();
                if (!frame) continue;
                *memory.map().to_virtual<uint64_t>(*frame) = (uint64_t(id) << 32) | *frame;
                held.push_back(*frame);
                if (i % 4 == 3) {
                    *memory.map().to_virtual<uint64_t>(*frame + PageSize) = (uint64_t(id) << 32) | (*frame + PageSize);
                    held.push_back(*frame + PageSize);
                }
            }
            // Free about half, after checking nobody else wrote into them.
            while (held.size() > 40) {
                PhysicalAddress frame = held.front();
                held.erase(held.begin());
                if (*memory.map().to_virtual<uint64_t>(frame) != ((uint64_t(id) << 32) | frame)) corrupted = true;
                if (!frames.free(frame)) corrupted = true;
            }
        }
        for (PhysicalAddress frame : held) {
            if (*memory.map().to_virtual<uint64_t>(frame) != ((uint64_t(id) << 32) | frame)) corrupted = true;
        }
        kept[id] = held;
    };
    std::vector<std::thread> threads;
    for (int id = 0; id < ThreadCount; ++id) threads.emplace_back(worker, id);
    for (auto& thread : threads) thread.join();

    CHECK_FALSE(corrupted);
    std::set<PhysicalAddress> all;
    size_t count = 0;
    for (auto& held : kept) {
        all.insert(held.begin(), held.end());
        count += held.size();
    }
    CHECK(all.size() == count);
    CHECK(frames.free_frames() == total - count);
    for (PhysicalAddress frame : all) REQUIRE(frames.free(frame));
    CHECK(frames.free_frames() == total);
}

TEST_CASE("frame allocator survives ranges at the top of the address space") {
    FakeMemory memory(1 * MiB);
    PhysicalRange ram[] = {memory.ram(), {~uint64_t{0} - 0x2fff, 0x3000}};
    PhysicalRange reserved[] = {{~uint64_t{0} - 10, 100}};  // wraps: saturated, not overflowed
    FrameAllocator frames;
    // The span would reach the top of memory: its bitmaps cannot fit in 1 MiB of RAM.
    CHECK(frames.init(ram, 2, reserved, 1, memory.map()).error() == Error::NoMemory);
    CHECK(frames.allocate().error() == Error::NoMemory);
    CHECK(frames.free(FakeMemory::Base).error() == Error::InvalidArgument);
    REQUIRE(frames.init(ram, 1, reserved, 1, memory.map()));
    CHECK(frames.total_frames() == 255);
}

namespace {
bool reserve_allowed = false;
bool may_use_reserve_for_test() { return reserve_allowed; }
} // namespace

TEST_CASE("frame allocator keeps its reserve for those the hook lets in") {
    FakeMemory memory(4 * MiB);
    PhysicalRange ram = memory.ram();
    FrameAllocator frames;
    REQUIRE(frames.init(&ram, 1, nullptr, 0, memory.map()));
    constexpr size_t Reserve = 100;
    frames.set_reserve(Reserve, may_use_reserve_for_test);
    CHECK(frames.reserve_frames() == Reserve);
    reserve_allowed = false;
    std::vector<PhysicalAddress> taken = allocate_all(frames);
    CHECK(taken.size() == 1023 - Reserve);  // stopped with the reserve left free
    CHECK(frames.free_frames() == Reserve);
    CHECK(frames.allocate_contiguous(1).error() == Error::NoMemory);
    // Freeing a few lets exactly that many be taken again, never the reserve.
    REQUIRE(frames.free(taken.back()));
    taken.pop_back();
    CHECK(frames.allocate_contiguous(2).error() == Error::NoMemory);
    Result<PhysicalAddress> one = frames.allocate();
    REQUIRE(one);
    taken.push_back(*one);
    CHECK(frames.allocate().error() == Error::NoMemory);
    // Those the hook lets in take the reserve down to the last frame.
    reserve_allowed = true;
    std::vector<PhysicalAddress> reserve = allocate_all(frames);
    CHECK(reserve.size() == Reserve);
    CHECK(frames.free_frames() == 0);
    for (PhysicalAddress frame : reserve) REQUIRE(frames.free(frame));
    for (PhysicalAddress frame : taken) REQUIRE(frames.free(frame));
    CHECK(frames.free_frames() == 1023);
}
