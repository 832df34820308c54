// Sv39 PageTable over fake RAM: leaves of every size, permissions, canonical checks, conflicts,
// unmap, rollback on NoMemory without leaks, destroy, and the shared kernel half.
#include "kernel/mm/page_table.hpp"
#include "tests/kernel/mm/fake_memory.hpp"

#include <catch2/catch.hpp>

#include <vector>

using namespace kernel;
using namespace kernel::mm;
using namespace kernel::mm::testing;

namespace {

constexpr uint64_t RW = pte::Read | pte::Write;
constexpr uint64_t KernelBase = 0xffffffc000000000ull;

struct Fixture {
    explicit Fixture(size_t bytes = 8 * MiB) : memory(bytes) {
        PhysicalRange ram = memory.ram();
        REQUIRE(frames.init(&ram, 1, nullptr, 0, memory.map()));
    }
    PageTable create() {
        Result<PageTable> table = PageTable::create(frames, memory.map());
        REQUIRE(table);
        return *table;
    }
    // Leaves only `count` frames free, returning what it took.
    std::vector<PhysicalAddress> leave_free(size_t count) {
        std::vector<PhysicalAddress> taken;
        while (frames.free_frames() > count) taken.push_back(*frames.allocate());
        return taken;
    }
    FakeMemory memory;
    FrameAllocator frames;
};

} // namespace

TEST_CASE("page table root is zeroed and satp selects Sv39") {
    Fixture fixture;
    size_t before = fixture.frames.free_frames();
    PageTable table = fixture.create();
    CHECK(fixture.frames.free_frames() == before - 1);
    CHECK(table.root() % PageSize == 0);
    CHECK(table.satp() == ((uint64_t{8} << 60) | (table.root() >> 12)));
    auto* entries = fixture.memory.map().to_virtual<uint64_t>(table.root());
    for (size_t i = 0; i < 512; ++i) REQUIRE(entries[i] == 0);
    CHECK(table.translate(0x1000).error() == Error::NotFound);
    table.destroy();
    CHECK(fixture.frames.free_frames() == before);
}

TEST_CASE("page table maps and translates 4 KiB, 2 MiB and 1 GiB leaves") {
    Fixture fixture;
    PageTable table = fixture.create();
    REQUIRE(table.map(0x10000000, 0x80400000, 2 * PageSize, RW));
    REQUIRE(table.map(0x40000000, 0x80200000, 4 * MiB, pte::Read | pte::Execute, LeafSize::MegaPage));
    REQUIRE(table.map(0x80000000, 0xc0000000, 1 * GiB, RW | pte::Global, LeafSize::GigaPage));
    REQUIRE(table.map(KernelBase, 0x80000000, 1 * GiB, RW | pte::Execute, LeafSize::GigaPage));

    Result<Translation> small = table.translate(0x10001abc);
    REQUIRE(small);
    CHECK(small->physical == 0x80401abc);
    CHECK(small->leaf == LeafSize::Page);
    CHECK((small->flags & pte::PermissionMask) == RW);
    CHECK((small->flags & (pte::Valid | pte::Accessed | pte::Dirty)) == (pte::Valid | pte::Accessed | pte::Dirty));

    Result<Translation> mega = table.translate(0x40212345);
    REQUIRE(mega);
    CHECK(mega->physical == 0x80412345);
    CHECK(mega->leaf == LeafSize::MegaPage);
    CHECK((mega->flags & pte::PermissionMask) == (pte::Read | pte::Execute));

    Result<Translation> giga = table.translate(0xbfffffff);
    REQUIRE(giga);
    CHECK(giga->physical == 0xffffffff);
    CHECK(giga->leaf == LeafSize::GigaPage);
    CHECK(giga->flags & pte::Global);

    Result<Translation> kernel = table.translate(KernelBase + 0x200123);
    REQUIRE(kernel);
    CHECK(kernel->physical == 0x80200123);

    CHECK(table.translate(0x10002000).error() == Error::NotFound);
    CHECK(table.translate(0x40400000).error() == Error::NotFound);
    table.destroy();
}

TEST_CASE("page table rejects bad permissions, misalignment and out-of-range addresses") {
    Fixture fixture;
    size_t before = fixture.frames.free_frames();
    PageTable table = fixture.create();
    CHECK(table.map(0x1000, 0x1000, PageSize, 0).error() == Error::InvalidArgument);              // no R or X
    CHECK(table.map(0x1000, 0x1000, PageSize, pte::Write).error() == Error::InvalidArgument);     // W without R
    CHECK(table.map(0x1000, 0x1000, PageSize, pte::Read | pte::Valid).error() == Error::InvalidArgument);
    CHECK(table.map(0x1000, 0x1000, PageSize, pte::Read | pte::Dirty).error() == Error::InvalidArgument);
    CHECK(table.map(0x1001, 0x1000, PageSize, pte::Read).error() == Error::InvalidArgument);
    CHECK(table.map(0x1000, 0x1800, PageSize, pte::Read).error() == Error::InvalidArgument);
    CHECK(table.map(0x1000, 0x1000, 100, pte::Read).error() == Error::InvalidArgument);
    CHECK(table.map(0x1000, 0x1000, 0, pte::Read).error() == Error::InvalidArgument);
    CHECK(table.map(0x1000, 0, 2 * MiB, pte::Read, LeafSize::MegaPage).error() == Error::InvalidArgument);
    CHECK(table.map(0, 0x1000, 2 * MiB, pte::Read, LeafSize::MegaPage).error() == Error::InvalidArgument);
    CHECK(table.map(0, 0x200000, GiB, pte::Read, LeafSize::GigaPage).error() == Error::InvalidArgument);
    CHECK(table.map(0, PhysicalAddressLimit, PageSize, pte::Read).error() == Error::InvalidArgument);
    CHECK(table.map(0, PhysicalAddressLimit - PageSize, 2 * PageSize, pte::Read).error() == Error::InvalidArgument);
    CHECK(table.map(0, 0, PageSize, pte::Read, static_cast<LeafSize>(8192)).error() == Error::InvalidArgument);

    REQUIRE(table.map(0x2000, 0x3000, PageSize, pte::Execute | pte::User));  // execute-only is legal
    Result<Translation> code = table.translate(0x2000);
    REQUIRE(code);
    CHECK((code->flags & pte::PermissionMask) == (pte::Execute | pte::User));
    table.destroy();
    CHECK(fixture.frames.free_frames() == before);
}

TEST_CASE("page table rejects non-canonical virtual addresses") {
    Fixture fixture;
    PageTable table = fixture.create();
    CHECK(is_canonical_sv39(0x3fffffffff));
    CHECK(is_canonical_sv39(0xffffffc000000000));
    CHECK_FALSE(is_canonical_sv39(0x4000000000));
    CHECK_FALSE(is_canonical_sv39(0xffffff8000000000));
    CHECK_FALSE(is_canonical_sv39(0x8000000000000000));

    CHECK(table.map(0x4000000000, 0x1000, PageSize, RW).error() == Error::InvalidArgument);
    CHECK(table.map(0x0000800000000000, 0x1000, PageSize, RW).error() == Error::InvalidArgument);
    CHECK(table.map(0x3ffffff000, 0x1000, 2 * PageSize, RW).error() == Error::InvalidArgument);  // runs off the top
    CHECK(table.translate(0x4000000000).error() == Error::InvalidArgument);
    CHECK(table.unmap(0x4000000000, PageSize).error() == Error::InvalidArgument);

    REQUIRE(table.map(0x3ffffff000, 0x1000, PageSize, RW));              // last lower-half page
    REQUIRE(table.map(0xfffffffffffff000, 0x2000, PageSize, RW));        // last page of all
    CHECK(table.translate(0xffffffffffffffff)->physical == 0x2fff);
    REQUIRE(table.unmap(0xfffffffffffff000, PageSize));
    table.destroy();
}

TEST_CASE("page table refuses to map over present entries and keeps them") {
    Fixture fixture;
    PageTable table = fixture.create();
    REQUIRE(table.map(0x200000, 0x80000000, PageSize, RW));
    size_t before = fixture.frames.free_frames();

    CHECK(table.map(0x200000, 0x90000000, PageSize, RW).error() == Error::AlreadyExists);
    // A 2 MiB leaf where a table already is, and 4 KiB pages inside a 2 MiB leaf.
    CHECK(table.map(0x200000, 0x80000000, 2 * MiB, RW, LeafSize::MegaPage).error() == Error::AlreadyExists);
    REQUIRE(table.map(0x600000, 0x80600000, 2 * MiB, RW, LeafSize::MegaPage));
    before = fixture.frames.free_frames();
    CHECK(table.map(0x601000, 0x1000, PageSize, RW).error() == Error::AlreadyExists);
    CHECK(table.map(0, 0, GiB, RW, LeafSize::GigaPage).error() == Error::AlreadyExists);

    // A range whose sixth page is taken: the first five are rolled back.
    REQUIRE(table.map(0x10005000, 0x5000, PageSize, RW));
    before = fixture.frames.free_frames();
    CHECK(table.map(0x10000000, 0x70000000, 10 * PageSize, RW).error() == Error::AlreadyExists);
    for (uint64_t page = 0; page < 5; ++page) CHECK(table.translate(0x10000000 + page * PageSize).error() == Error::NotFound);
    CHECK(table.translate(0x10005000)->physical == 0x5000);
    CHECK(fixture.frames.free_frames() == before);

    CHECK(table.translate(0x200000)->physical == 0x80000000);
    CHECK(table.translate(0x6abcde)->physical == 0x806abcde);
    table.destroy();
}

TEST_CASE("page table unmap removes leaves, frees emptied tables and refuses to split large leaves") {
    Fixture fixture;
    size_t initial = fixture.frames.free_frames();
    PageTable table = fixture.create();
    size_t after_create = fixture.frames.free_frames();

    REQUIRE(table.map(0x7fe000, 0x1000, 4 * PageSize, RW));  // crosses a 2 MiB boundary: two level-0 tables
    CHECK(fixture.frames.free_frames() == after_create - 3);
    REQUIRE(table.unmap(0x7ff000, PageSize));
    CHECK(table.translate(0x7ff000).error() == Error::NotFound);
    CHECK(table.translate(0x7fe000));
    CHECK(fixture.frames.free_frames() == after_create - 3);
    REQUIRE(table.unmap(0x7fe000, PageSize));  // that level-0 table is now empty
    CHECK(fixture.frames.free_frames() == after_create - 2);
    REQUIRE(table.unmap(0, 1 * GiB));          // the rest, holes skipped
    CHECK(table.translate(0x800000).error() == Error::NotFound);
    CHECK(fixture.frames.free_frames() == after_create);

    REQUIRE(table.map(0x40000000, 0x80000000, 4 * MiB, RW, LeafSize::MegaPage));
    CHECK(table.unmap(0x40000000, PageSize).error() == Error::InvalidArgument);
    CHECK(table.unmap(0x40100000, 2 * MiB).error() == Error::InvalidArgument);
    CHECK(table.translate(0x40000000));  // a refused unmap changes nothing
    CHECK(table.translate(0x40300000));
    REQUIRE(table.unmap(0x40200000, 2 * MiB));
    CHECK(table.translate(0x40000000));
    CHECK(table.translate(0x40200000).error() == Error::NotFound);
    REQUIRE(table.unmap(0x40000000, 2 * MiB));
    CHECK(fixture.frames.free_frames() == after_create);
    table.destroy();
    CHECK(fixture.frames.free_frames() == initial);
}

TEST_CASE("map_range picks the largest leaf alignment allows") {
    Fixture fixture;
    PageTable table = fixture.create();
    // Three pages below a 1 GiB boundary, then 1 GiB, then 2 MiB, then one page.
    uint64_t va = GiB - 3 * PageSize;
    uint64_t pa = 0x100000000 - 3 * PageSize;
    uint64_t size = 3 * PageSize + GiB + 2 * MiB + PageSize;
    REQUIRE(table.map_range(va, pa, size, RW));
    CHECK(table.translate(va)->leaf == LeafSize::Page);
    CHECK(table.translate(GiB)->leaf == LeafSize::GigaPage);
    CHECK(table.translate(GiB + 12345)->physical == 0x100000000 + 12345);
    CHECK(table.translate(2 * GiB)->leaf == LeafSize::MegaPage);
    CHECK(table.translate(2 * GiB + 2 * MiB)->leaf == LeafSize::Page);
    CHECK(table.translate(2 * GiB + 2 * MiB + PageSize).error() == Error::NotFound);

    // Physical misalignment forces small leaves even when va would allow big ones.
    REQUIRE(table.map_range(8 * GiB, 0x80001000, 2 * MiB, RW));
    CHECK(table.translate(8 * GiB)->leaf == LeafSize::Page);
    CHECK(table.translate(8 * GiB + 2 * MiB - 1)->physical == 0x80001000 + 2 * MiB - 1);
    table.destroy();
}

TEST_CASE("page table rolls back a map that runs out of frames, leaking nothing") {
    // Fail at every possible point: the range below needs 3 new table pages (a level-1 table for the
    // second GiB and two level-0 tables), while its first half reuses the neighbour's level-0 table.
    for (size_t spare = 0; spare <= 4; ++spare) {
        Fixture fixture;
        PageTable table = fixture.create();
        REQUIRE(table.map(0x3fe00000, 0x1000, PageSize, RW));  // an existing neighbour
        std::vector<PhysicalAddress> taken = fixture.leave_free(spare);
        size_t before = fixture.frames.free_frames();
        uint64_t va = GiB - 2 * MiB + PageSize;  // shares the neighbour's level-0 table
        uint64_t size = 4 * MiB;                   // crosses the 1 GiB boundary
        Result<void> mapped = table.map(va, 0x90000000, size, RW);
        if (spare < 3) {
            CHECK(mapped.error() == Error::NoMemory);
            CHECK(fixture.frames.free_frames() == before);
            for (uint64_t page = va; page < va + size; page += 64 * PageSize) {
                CHECK(table.translate(page).error() == Error::NotFound);
            }
        } else {
            REQUIRE(mapped);
            CHECK(table.translate(va + size - 1)->physical == 0x90000000 + size - 1);
        }
        CHECK(table.translate(0x3fe00000)->physical == 0x1000);
        for (PhysicalAddress frame : taken) REQUIRE(fixture.frames.free(frame));
        size_t with_table = fixture.frames.free_frames();
        table.destroy();
        CHECK(fixture.frames.free_frames() > with_table);
    }
}

TEST_CASE("page table creation and huge-leaf maps report NoMemory cleanly") {
    Fixture fixture;
    std::vector<PhysicalAddress> taken = fixture.leave_free(0);
    CHECK(PageTable::create(fixture.frames, fixture.memory.map()).error() == Error::NoMemory);
    REQUIRE(fixture.frames.free(taken.back()));
    taken.pop_back();
    PageTable table = fixture.create();
    CHECK(table.map(0, 0, GiB, RW, LeafSize::GigaPage));  // needs no table page
    CHECK(table.map(GiB, 0, 2 * MiB, RW, LeafSize::MegaPage).error() == Error::NoMemory);
    CHECK(table.translate(GiB).error() == Error::NotFound);
    table.destroy();
    CHECK(fixture.frames.free_frames() == 1);
}

TEST_CASE("destroy frees every table page and no mapped frame") {
    Fixture fixture(16 * MiB);
    size_t before = fixture.frames.free_frames();
    PhysicalAddress data = *fixture.frames.allocate();
    PageTable table = fixture.create();
    for (uint64_t i = 0; i < 40; ++i) REQUIRE(table.map(i * 3 * MiB + 7 * GiB * (i % 3), data, PageSize, RW));
    REQUIRE(table.map(KernelBase + GiB, 0x80000000, 2 * MiB, RW, LeafSize::MegaPage));
    CHECK(fixture.frames.free_frames() < before - 40);
    table.destroy();
    CHECK(table.root() == 0);
    CHECK(fixture.frames.free_frames() == before - 1);
    CHECK(fixture.frames.is_allocated(data));
    table.destroy();  // a second destroy is a no-op
    CHECK(fixture.frames.free_frames() == before - 1);
}

TEST_CASE("address spaces share the kernel half without owning it") {
    Fixture fixture;
    size_t before = fixture.frames.free_frames();
    PageTable kernel = fixture.create();
    REQUIRE(kernel.populate_kernel_half());
    CHECK(fixture.frames.free_frames() == before - 1 - 256);
    REQUIRE(kernel.map(KernelBase, 0x80200000, PageSize, RW | pte::Global));

    PageTable user = fixture.create();
    REQUIRE(user.map(0x10000, 0x81000000, PageSize, RW | pte::User));
    REQUIRE(user.copy_kernel_half(kernel));
    CHECK(user.translate(KernelBase)->physical == 0x80200000);
    // A later kernel mapping is visible through the shared level-1 tables.
    REQUIRE(kernel.map(KernelBase + 5 * GiB, 0x80300000, PageSize, RW | pte::Global));
    CHECK(user.translate(KernelBase + 5 * GiB)->physical == 0x80300000);
    // The user tree may not change the kernel half.
    CHECK(user.map(KernelBase + 0x1000, 0x1000, PageSize, RW).error() == Error::InvalidArgument);
    CHECK(user.unmap(KernelBase, PageSize).error() == Error::InvalidArgument);
    CHECK(kernel.translate(0x10000).error() == Error::NotFound);

    // Unmapping in the kernel half keeps the level-1 table.
    size_t mapped = fixture.frames.free_frames();
    REQUIRE(kernel.unmap(KernelBase + 5 * GiB, PageSize));
    CHECK(fixture.frames.free_frames() == mapped + 1);  // only the level-0 table went

    user.destroy();
    CHECK(kernel.translate(KernelBase)->physical == 0x80200000);
    kernel.destroy();
    CHECK(fixture.frames.free_frames() == before);

    // populate_kernel_half rolls back on NoMemory.
    PageTable small = fixture.create();
    std::vector<PhysicalAddress> taken = fixture.leave_free(100);
    CHECK(small.populate_kernel_half().error() == Error::NoMemory);
    CHECK(fixture.frames.free_frames() == 100);
    for (PhysicalAddress frame : taken) REQUIRE(fixture.frames.free(frame));
    small.destroy();
    CHECK(fixture.frames.free_frames() == before);
}

TEST_CASE("translate reports malformed entries instead of following them") {
    Fixture fixture;
    PageTable table = fixture.create();
    auto* root = fixture.memory.map().to_virtual<uint64_t>(table.root());
    root[1] = (0x80000000ull >> 12) << pte::PpnShift | pte::Valid | pte::Write;  // W without R
    CHECK(table.translate(GiB).error() == Error::Malformed);
    root[2] = (0x80001000ull >> 12) << pte::PpnShift | pte::Valid | pte::Read;  // 1 GiB leaf, misaligned PPN
    CHECK(table.translate(2 * GiB).error() == Error::Malformed);
    root[1] = root[2] = 0;
    table.destroy();
}

TEST_CASE("kept tables stay when their mappings go, and a failed keep_tables frees what it made") {
    Fixture fixture;
    size_t before = fixture.frames.free_frames();
    PageTable table = fixture.create();
    constexpr uint64_t Area = KernelBase + 64 * GiB;
    // Two level-0 tables (the range crosses a 2 MiB boundary) and their level-1 table.
    REQUIRE(table.keep_tables(Area + 2 * MiB - PageSize, 2 * PageSize));
    size_t kept = fixture.frames.free_frames();
    CHECK(kept == before - 1 - 3);
    REQUIRE(table.keep_tables(Area + 2 * MiB - PageSize, 2 * PageSize));  // nothing more to make
    CHECK(fixture.frames.free_frames() == kept);
    REQUIRE(table.map(Area + 2 * MiB, 0x80200000, PageSize, RW | pte::Global));
    CHECK(fixture.frames.free_frames() == kept);  // no table needed
    REQUIRE(table.unmap(Area + 2 * MiB, PageSize));
    CHECK(fixture.frames.free_frames() == kept);  // and none freed
    CHECK(table.translate(Area + 2 * MiB).error() == Error::NotFound);
    // A failed map over a kept table keeps it too.
    REQUIRE(table.map(Area, 0x80200000, PageSize, RW));
    CHECK(table.map(Area, 0x80200000, PageSize, RW).error() == Error::AlreadyExists);
    REQUIRE(table.unmap(Area, PageSize));
    CHECK(fixture.frames.free_frames() == kept);
    // Ranges with a larger leaf are refused.
    REQUIRE(table.map(0x40000000, 0x80200000, 2 * MiB, RW, LeafSize::MegaPage));
    size_t with_leaf = fixture.frames.free_frames();
    CHECK(table.keep_tables(0x40000000, PageSize).error() == Error::InvalidArgument);
    CHECK(fixture.frames.free_frames() == with_leaf);
    // Out of frames half-way (the level-1 table made, not the level-0 one; in the user half, where
    // level-1 tables are not kept by themselves): the tables made by the call are freed again.
    std::vector<PhysicalAddress> taken = fixture.leave_free(1);
    CHECK(table.keep_tables(0x2000000000, PageSize).error() == Error::NoMemory);
    CHECK(fixture.frames.free_frames() == 1);
    CHECK(table.translate(0x2000000000).error() == Error::NotFound);
    for (PhysicalAddress frame : taken) REQUIRE(fixture.frames.free(frame));
    table.destroy();
    CHECK(fixture.frames.free_frames() == before);
}
