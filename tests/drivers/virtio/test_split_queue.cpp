// SplitQueue (drivers/virtio/split_queue.*) against a fake device working on the same memory.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <cstring>
#include <random>
#include <set>

#include "drivers/virtio/split_queue.hpp"
#include "fake_device.hpp"

using drivers::virtio::SplitQueue;
using kernel::Error;

namespace {

// A queue and its device over one zeroed, page-aligned block.
struct Fixture {
    SplitQueue queue;
    fake::QueueDevice device;
    void* memory = nullptr;

    explicit Fixture(uint16_t size) {
        size_t bytes = SplitQueue::memory_bytes(size);
        memory = std::aligned_alloc(4096, bytes);
        std::memset(memory, 0, bytes);
        auto base = reinterpret_cast<uint64_t>(memory);
        REQUIRE(queue.init(size, memory, base));
        // The device's addresses from the spec's layout, computed here independently.
        uint64_t avail = base + 16ull * size;
        uint64_t used = (avail + 6 + 2ull * size + 4095) & ~4095ull;
        REQUIRE(queue.descriptor_table_address() == base);
        REQUIRE(queue.driver_ring_address() == avail);
        REQUIRE(queue.device_ring_address() == used);
        REQUIRE(used + 6 + 8ull * size <= base + bytes);
        device = fake::QueueDevice(base, avail, used, size);
    }
    ~Fixture() { std::free(memory); }
};

SplitQueue::Buffer readable(uint64_t address, uint32_t length) { return {address, length, false}; }
SplitQueue::Buffer writable(uint64_t address, uint32_t length) { return {address, length, true}; }

} // namespace

TEST_CASE("split queue: init rejects bad sizes and misaligned memory") {
    SplitQueue queue;
    void* memory = std::aligned_alloc(4096, SplitQueue::memory_bytes(256));
    std::memset(memory, 0, SplitQueue::memory_bytes(256));
    auto base = reinterpret_cast<uint64_t>(memory);
    CHECK(queue.init(0, memory, base).error() == Error::InvalidArgument);
    CHECK(queue.init(3, memory, base).error() == Error::InvalidArgument);
    CHECK(queue.init(512, memory, base).error() == Error::InvalidArgument);
    CHECK(queue.init(8, static_cast<char*>(memory) + 16, base + 16).error() == Error::InvalidArgument);
    CHECK(queue.init(8, nullptr, 0).error() == Error::InvalidArgument);
    CHECK(queue.init(256, memory, base));
    CHECK(queue.free_descriptors() == 256);
    std::free(memory);
}

TEST_CASE("split queue: a chain reaches the device as written and comes back") {
    Fixture f(8);
    SplitQueue::Buffer chain[] = {readable(0x1000, 12), readable(0x2000, 100), writable(0x3000, 2048)};
    auto head = f.queue.submit(chain, 3);
    REQUIRE(head);
    CHECK(f.queue.free_descriptors() == 5);
    CHECK(f.device.avail_index() == 1);
    CHECK_FALSE(f.queue.has_used());

    fake::Chain seen;
    REQUIRE(f.device.pop(seen));
    CHECK(seen.head == *head);
    REQUIRE(seen.buffers.size() == 3);
    for (size_t i = 0; i < 3; ++i) {
        CHECK(seen.buffers[i].address == chain[i].address);
        CHECK(seen.buffers[i].length == chain[i].length);
        CHECK(((seen.buffers[i].flags & 2) != 0) == chain[i].device_writes);
        CHECK(((seen.buffers[i].flags & 1) != 0) == (i < 2));
    }
    CHECK(f.queue.take_used().error() == Error::NotFound);
    f.device.push_used(seen.head, 1500);
    CHECK(f.queue.has_used());
    auto done = f.queue.take_used();
    REQUIRE(done);
    CHECK(done->head == *head);
    CHECK(done->length == 1500);
    CHECK(f.queue.free_descriptors() == 8);
    CHECK(f.queue.take_used().error() == Error::NotFound);
}

TEST_CASE("split queue: malformed submissions are refused and change nothing") {
    Fixture f(8);
    SplitQueue::Buffer bad_order[] = {writable(0x1000, 10), readable(0x2000, 10)};
    CHECK(f.queue.submit(bad_order, 2).error() == Error::InvalidArgument);
    SplitQueue::Buffer zero[] = {readable(0x1000, 0)};
    CHECK(f.queue.submit(zero, 1).error() == Error::InvalidArgument);
    CHECK(f.queue.submit(zero, 0).error() == Error::InvalidArgument);
    CHECK(f.queue.free_descriptors() == 8);
    CHECK(f.device.avail_index() == 0);
}

TEST_CASE("split queue: exhaustion is NoMemory and leaves the queue usable") {
    Fixture f(8);
    SplitQueue::Buffer one[] = {writable(0x1000, 64)};
    std::set<uint16_t> heads;
    for (int i = 0; i < 8; ++i) {
        auto head = f.queue.submit(one, 1);
        REQUIRE(head);
        heads.insert(*head);
    }
    CHECK(heads.size() == 8);  // distinct descriptors
    CHECK(f.queue.free_descriptors() == 0);
    CHECK(f.queue.submit(one, 1).error() == Error::NoMemory);
    CHECK(f.device.avail_index() == 8);  // nothing published by the failed call

    // Two back: a chain of three still does not fit, a chain of two does.
    fake::Chain seen;
    for (int i = 0; i < 2; ++i) {
        REQUIRE(f.device.pop(seen));
        f.device.push_used(seen.head, 0);
    }
    REQUIRE(f.queue.take_used());
    REQUIRE(f.queue.take_used());
    SplitQueue::Buffer three[] = {readable(1, 1), readable(2, 1), readable(3, 1)};
    CHECK(f.queue.submit(three, 3).error() == Error::NoMemory);
    CHECK(f.queue.free_descriptors() == 2);
    CHECK(f.queue.submit(three, 2));
    CHECK(f.queue.free_descriptors() == 0);
}

TEST_CASE("split queue: out-of-order completion frees the right chains") {
    Fixture f(16);
    // Chains of lengths 1..5 (15 descriptors), completed in reverse order.
    std::vector<uint16_t> heads;
    for (uint32_t length = 1; length <= 5; ++length) {
        std::vector<SplitQueue::Buffer> chain;
        for (uint32_t i = 0; i < length; ++i) chain.push_back(readable(length * 0x1000 + i, length));
        auto head = f.queue.submit(chain.data(), chain.size());
        REQUIRE(head);
        heads.push_back(*head);
    }
    CHECK(f.queue.free_descriptors() == 1);
    std::vector<fake::Chain> chains(5);
    for (auto& chain : chains) REQUIRE(f.device.pop(chain));
    for (int i = 4; i >= 0; --i) f.device.push_used(chains[i].head, static_cast<uint32_t>(chains[i].buffers.size()));
    for (int i = 4; i >= 0; --i) {
        auto done = f.queue.take_used();
        REQUIRE(done);
        CHECK(done->head == heads[i]);
        CHECK(done->length == static_cast<uint32_t>(i + 1));
    }
    CHECK(f.queue.free_descriptors() == 16);
    // Every descriptor can be handed out again: one chain of all 16.
    std::vector<SplitQueue::Buffer> all(16, readable(0x9000, 8));
    CHECK(f.queue.submit(all.data(), all.size()));
}

TEST_CASE("split queue: indices wrap past 65,535 with random chains completed in random order") {
    Fixture f(8);
    std::mt19937 random(12345);
    // In flight, by head: the buffers submitted, to compare with what the device saw.
    std::map<uint16_t, std::vector<uint64_t>> in_flight;
    std::vector<fake::Chain> device_holds;
    uint64_t next_address = 1, submitted = 0, completed = 0;
    const uint64_t Target = 70'000;  // past 65,536 publications and completions
    while (completed < Target) {
        // Submit while there is room (sometimes stop early), chains of 1..3.
        while (submitted < Target && random() % 4 != 0) {
            uint32_t length = 1 + random() % 3;
            std::vector<SplitQueue::Buffer> chain;
            std::vector<uint64_t> addresses;
            for (uint32_t i = 0; i < length; ++i) {
                chain.push_back(i + 1 == length && random() % 2 ? writable(next_address, 32) : readable(next_address, 32));
                addresses.push_back(next_address++);
            }
            uint16_t free_before = f.queue.free_descriptors();
            auto head = f.queue.submit(chain.data(), chain.size());
            if (free_before < length) {
                REQUIRE(head.error() == Error::NoMemory);
                REQUIRE(f.queue.free_descriptors() == free_before);
                break;
            }
            REQUIRE(head);
            REQUIRE(in_flight.count(*head) == 0);
            in_flight[*head] = addresses;
            ++submitted;
        }
        // The device takes what is available and completes a random subset in random order.
        fake::Chain chain;
        while (f.device.pop(chain)) device_holds.push_back(chain);
        std::shuffle(device_holds.begin(), device_holds.end(), random);
        size_t finish = device_holds.empty() ? 0 : 1 + random() % device_holds.size();
        for (size_t i = 0; i < finish; ++i) {
            const fake::Chain& c = device_holds.back();
            auto it = in_flight.find(c.head);
            REQUIRE(it != in_flight.end());
            REQUIRE(c.buffers.size() == it->second.size());
            for (size_t b = 0; b < c.buffers.size(); ++b) REQUIRE(c.buffers[b].address == it->second[b]);
            f.device.push_used(c.head, static_cast<uint32_t>(c.buffers.size()));
            auto done = f.queue.take_used();
            REQUIRE(done);
            REQUIRE(done->head == c.head);
            in_flight.erase(it);
            device_holds.pop_back();
            ++completed;
        }
        uint16_t held = 0;
        for (auto& [head, addresses] : in_flight) held = static_cast<uint16_t>(held + addresses.size());
        REQUIRE(f.queue.free_descriptors() + held == 8);
    }
    CHECK(submitted == Target);
    CHECK(f.device.avail_index() == static_cast<uint16_t>(Target));  // wrapped: 70,000 mod 65,536
    CHECK(f.device.used_index() == static_cast<uint16_t>(Target));
    CHECK(f.queue.bad_completions() == 0);
}

TEST_CASE("split queue: impossible used entries are reported and free nothing") {
    Fixture f(8);
    SplitQueue::Buffer two[] = {readable(0x1000, 8), readable(0x2000, 8)};
    auto head = f.queue.submit(two, 2);
    REQUIRE(head);
    fake::Chain seen;
    REQUIRE(f.device.pop(seen));
    uint16_t second = seen.buffers[0].next;  // in the chain, but not its head

    f.device.push_used(99, 0);  // out of range
    CHECK(f.queue.take_used().error() == Error::Malformed);
    f.device.push_used(second, 0);  // not a head
    CHECK(f.queue.take_used().error() == Error::Malformed);
    CHECK(f.queue.free_descriptors() == 6);
    CHECK(f.queue.bad_completions() == 2);
    // The real completion still works, and only once.
    f.device.push_used(*head, 4);
    auto done = f.queue.take_used();
    REQUIRE(done);
    CHECK(done->head == *head);
    f.device.push_used(*head, 4);  // again: no longer in flight
    CHECK(f.queue.take_used().error() == Error::Malformed);
    CHECK(f.queue.free_descriptors() == 8);
    // An index far ahead of what is in flight.
    REQUIRE(f.queue.submit(two, 1));
    f.device.force_used_index(static_cast<uint16_t>(f.device.used_index() + 5));
    CHECK(f.queue.take_used().error() == Error::Malformed);
    CHECK(f.queue.bad_completions() == 4);
}

TEST_CASE("split queue: notification and interrupt suppression flags") {
    Fixture f(4);
    SplitQueue::Buffer one[] = {readable(1, 1)};
    REQUIRE(f.queue.submit(one, 1));
    CHECK(f.queue.device_wants_notification());
    f.device.set_no_notify(true);
    CHECK_FALSE(f.queue.device_wants_notification());
    f.device.set_no_notify(false);
    CHECK(f.queue.device_wants_notification());
    CHECK(f.device.avail_flags() == 0);
    f.queue.set_interrupts(false);
    CHECK(f.device.avail_flags() == 1);
    f.queue.set_interrupts(true);
    CHECK(f.device.avail_flags() == 0);
}
