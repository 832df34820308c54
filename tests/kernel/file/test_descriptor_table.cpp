// DescriptorTable: the per-process descriptor slots, over a counted stand-in for File. Checks the
// reference each slot holds (no leak, no double release), lowest-free-slot allocation, dup3-style
// replacement, close-on-exec, inheritance, and concurrent install/close from several threads.
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>
#include <vector>

#include "kernel/file/descriptor_table.hpp"

using kernel::Error;

namespace {

struct Counted {
    std::atomic<int> references{0};
    std::atomic<int> dropped{0};         // times the count fell to 0
    std::atomic<int> over_released{0};   // releases without a reference (checked by ~Counted)
    void acquire() { references.fetch_add(1); }
    void release() {
        int before = references.fetch_sub(1);
        if (before <= 0) over_released.fetch_add(1);  // no REQUIRE here: called from threads
        if (before == 1) dropped.fetch_add(1);
    }
    ~Counted() { CHECK(over_released == 0); }
};

using Table = kernel::proc::DescriptorTable<Counted, 8>;

// An object with the one reference the caller hands to the table.
Counted& referenced(Counted& object) {
    object.acquire();
    return object;
}

} // namespace

TEST_CASE("descriptor table: lowest free slot, full table, get and close") {
    Table table;
    Counted objects[9];
    for (int i = 0; i < 8; ++i) CHECK(*table.install(referenced(objects[i]), false) == i);
    auto full = table.install(referenced(objects[8]), false);
    REQUIRE_FALSE(full);
    CHECK(full.error() == Error::NotFound);
    CHECK(objects[8].references == 0);  // the refused reference was dropped

    CHECK(table.close(3));
    CHECK(objects[3].references == 0);
    CHECK(objects[3].dropped == 1);
    CHECK_FALSE(table.close(3));  // already empty: -EBADF
    CHECK_FALSE(table.close(-1));
    CHECK_FALSE(table.close(8));
    CHECK(*table.install(referenced(objects[8]), false) == 3);  // the lowest free slot again

    Counted* got = table.get(3);
    REQUIRE(got == &objects[8]);
    CHECK(objects[8].references == 2);
    got->release();
    CHECK(table.get(100) == nullptr);
    CHECK(table.get(-5) == nullptr);

    table.close_all();
    for (auto& object : objects) CHECK(object.references == 0);
}

TEST_CASE("descriptor table: install_from and install_at") {
    Table table;
    Counted a, b, c, d;
    CHECK(*table.install(referenced(a), false) == 0);
    CHECK(*table.install_from(5, referenced(b), false) == 5);
    CHECK(*table.install_from(5, referenced(c), false) == 6);
    CHECK_FALSE(table.install_from(-1, referenced(d), false));
    CHECK(d.references == 0);
    CHECK_FALSE(table.install_from(8, referenced(d), false));
    CHECK(d.references == 0);

    CHECK(table.install_at(5, referenced(d), true));  // replaces b
    CHECK(b.references == 0);
    CHECK(d.references == 1);
    CHECK(table.close_on_exec_flag(5));
    CHECK_FALSE(table.install_at(9, referenced(a), false));
    CHECK(a.references == 1);  // only the slot-0 reference is left
    table.close_all();
    CHECK(a.references == 0);
    CHECK(c.references == 0);
    CHECK(d.references == 0);
}

TEST_CASE("descriptor table: close-on-exec and inheritance") {
    Table parent, child;
    Counted kept, closed;
    REQUIRE(*parent.install(referenced(kept), false) == 0);
    REQUIRE(*parent.install(referenced(closed), true) == 1);
    CHECK_FALSE(parent.close_on_exec_flag(0));
    CHECK(parent.close_on_exec_flag(1));
    CHECK_FALSE(parent.close_on_exec_flag(2));  // empty slot

    child.inherit_from(parent);
    CHECK(kept.references == 2);
    CHECK(closed.references == 1);  // close-on-exec is not inherited
    CHECK(child.get(1) == nullptr);

    parent.set_close_on_exec_flag(0, true);
    parent.close_on_exec();
    CHECK(kept.references == 1);
    CHECK(closed.references == 0);
    child.close_all();
    CHECK(kept.references == 0);
    CHECK(kept.dropped == 1);
}

TEST_CASE("descriptor table: threads installing and closing at once lose no reference") {
    Table table;
    constexpr int Threads = 4;
    constexpr int Rounds = 20000;
    Counted objects[Threads];
    std::vector<std::thread> threads;
    for (int t = 0; t < Threads; ++t) {
        threads.emplace_back([&, t] {
            for (int round = 0; round < Rounds; ++round) {
                auto fd = table.install(referenced(objects[t]), false);
                if (!fd) continue;  // table full for the moment: the reference was dropped
                Counted* got = table.get(*fd);
                // The slot may already have been replaced by another thread's install_at below.
                if (got) got->release();
                if (round % 7 == 0) (void)table.install_at(*fd, referenced(objects[t]), true);
                (void)table.close(*fd);
            }
        });
    }
    for (auto& thread : threads) thread.join();
    table.close_all();
    for (auto& object : objects) CHECK(object.references == 0);
}
