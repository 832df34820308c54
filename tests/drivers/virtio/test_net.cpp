// VirtioNet (drivers/virtio/net.*) over a fake transport and fake DMA memory: negotiation, refusal,
// running out of memory at bring-up, transmit with reclaim and a full ring, receive with reposting.
#include <catch2/catch.hpp>

#include <cstring>
#include <vector>

#include "drivers/virtio/net.hpp"
#include "fake_device.hpp"

using drivers::virtio::VirtioNet;
using kernel::Error;
namespace status = drivers::virtio::status;
namespace feature = drivers::virtio::feature;
namespace net_feature = drivers::virtio::net_feature;

namespace {

struct Received {
    std::vector<std::vector<uint8_t>> frames;
    static void deliver(void* context, const void* frame, size_t length) {
        auto* self = static_cast<Received*>(context);
        auto* bytes = static_cast<const uint8_t*>(frame);
        self->frames.emplace_back(bytes, bytes + length);
    }
};

// The device receives `frame`: written after a zero header into the next posted buffer.
void device_receives(fake::QueueDevice& rx, const std::vector<uint8_t>& frame, size_t header = 12) {
    fake::Chain chain;
    REQUIRE(rx.pop(chain));
    REQUIRE(chain.buffers.size() == 1);
    REQUIRE((chain.buffers[0].flags & 2) != 0);  // device-writable
    REQUIRE(chain.buffers[0].length >= header + frame.size());
    auto* buffer = reinterpret_cast<uint8_t*>(chain.buffers[0].address);
    std::memset(buffer, 0, header);
    std::memcpy(buffer + header, frame.data(), frame.size());
    rx.push_used(chain.head, static_cast<uint32_t>(header + frame.size()));
}

std::vector<uint8_t> frame_of(size_t length, uint8_t seed) {
    std::vector<uint8_t> frame(length);
    for (size_t i = 0; i < length; ++i) frame[i] = static_cast<uint8_t>(seed + i * 7);
    return frame;
}

} // namespace

TEST_CASE("virtio-net: negotiation accepts VERSION_1 and MAC only, posts every receive buffer") {
    fake::Transport transport;
    fake::Dma dma;
    transport.offered |= net_feature::Checksum | net_feature::MergeableReceiveBuffers | feature::EventIndex |
                         net_feature::Status | net_feature::ControlQueue;
    VirtioNet net;
    REQUIRE(net.init(transport, dma, "net0"));
    CHECK(transport.driver_features == (feature::Version1 | net_feature::Mac));
    CHECK(net.features() == (feature::Version1 | net_feature::Mac));
    CHECK(transport.status_writes.front() == 0);  // reset first
    CHECK(transport.status_register == (status::Acknowledge | status::Driver | status::FeaturesOk | status::DriverOk));
    uint8_t mac[6];
    net.mac_address(mac);
    CHECK(std::memcmp(mac, transport.config, 6) == 0);
    CHECK(std::string(net.name()) == "net0");

    REQUIRE(transport.queues.count(0) == 1);
    REQUIRE(transport.queues.count(1) == 1);
    CHECK(net.receive_queue_size() == VirtioNet::WantedQueueSize);  // 256 allowed, 128 wanted
    fake::QueueDevice& rx = transport.queues[0];
    CHECK(rx.pending() == net.receive_queue_size());
    CHECK(net.receive_buffers_posted() == net.receive_queue_size());
    // The receive queue was notified, after DRIVER_OK.
    REQUIRE(transport.notifies[0] == 1);
    CHECK((transport.status_at_notify.at(0) & status::DriverOk) != 0);
}

TEST_CASE("virtio-net: queue size follows the device's maximum (power of two)") {
    fake::Transport transport;
    fake::Dma dma;
    transport.max_size = 48;
    VirtioNet net;
    REQUIRE(net.init(transport, dma, "net0"));
    CHECK(net.receive_queue_size() == 32);
    CHECK(net.transmit_queue_size() == 32);
}

TEST_CASE("virtio-net: devices it cannot drive are refused, FAILED, with nothing left allocated") {
    fake::Transport transport;
    fake::Dma dma;
    SECTION("no VERSION_1 on the modern interface") { transport.offered = net_feature::Mac; }
    SECTION("no MAC") { transport.offered = feature::Version1; }
    SECTION("FEATURES_OK does not stick") { transport.accept_features = false; }
    SECTION("no transmit queue") { transport.queue_count = 1; }
    VirtioNet net;
    CHECK(net.init(transport, dma, "net0").error() == Error::Unsupported);
    bool failed = false;
    for (uint8_t written : transport.status_writes) failed |= (written & status::Failed) != 0;
    CHECK(failed);
    CHECK((transport.status_register & status::DriverOk) == 0);
    CHECK(dma.live.empty());
    CHECK(transport.notifies.empty());
}

TEST_CASE("virtio-net: running out of DMA memory at any step is NoMemory, never a leak") {
    for (int allowed = 0; allowed < 4; ++allowed) {
        fake::Transport transport;
        fake::Dma dma;
        dma.fail_after = allowed;
        VirtioNet net;
        CHECK(net.init(transport, dma, "net0").error() == Error::NoMemory);
        CHECK(dma.live.empty());
        CHECK(dma.allocations == allowed);
    }
    fake::Transport transport;
    fake::Dma dma;
    dma.fail_after = 4;  // rings and slots of both queues: enough
    VirtioNet net;
    CHECK(net.init(transport, dma, "net0"));
}

TEST_CASE("virtio-net: the legacy interface: 32 feature bits, no FEATURES_OK, 10-byte header") {
    fake::Transport transport;
    fake::Dma dma;
    transport.is_legacy = true;
    transport.offered = net_feature::Mac | net_feature::Status;
    VirtioNet net;
    REQUIRE(net.init(transport, dma, "net0"));
    CHECK(transport.driver_features == net_feature::Mac);
    for (uint8_t written : transport.status_writes) CHECK((written & status::FeaturesOk) == 0);
    auto frame = frame_of(60, 1);
    REQUIRE(net.transmit(frame.data(), frame.size()));
    fake::Chain chain;
    REQUIRE(transport.queues[1].pop(chain));
    CHECK(chain.buffers[0].length == 10 + 60);
    CHECK(std::memcmp(reinterpret_cast<uint8_t*>(chain.buffers[0].address) + 10, frame.data(), 60) == 0);
    device_receives(transport.queues[0], frame_of(42, 9), 10);
    Received got;
    CHECK(net.receive(Received::deliver, &got, 8) == 1);
    CHECK(got.frames.at(0) == frame_of(42, 9));
}

TEST_CASE("virtio-net: transmit copies the frame after a zero header and reclaims completions") {
    fake::Transport transport;
    fake::Dma dma;
    VirtioNet net;
    REQUIRE(net.init(transport, dma, "net0"));
    fake::QueueDevice& tx = transport.queues[1];
    uint8_t dummy[1] = {};
    CHECK(net.transmit(dummy, 0).error() == Error::InvalidArgument);
    std::vector<uint8_t> huge(kernel::net::MaxFrameLength + 1);
    CHECK(net.transmit(huge.data(), huge.size()).error() == Error::InvalidArgument);

    auto frame = frame_of(kernel::net::MaxFrameLength, 3);
    REQUIRE(net.transmit(frame.data(), frame.size()));
    CHECK(transport.notifies[1] == 1);
    fake::Chain chain;
    REQUIRE(tx.pop(chain));
    REQUIRE(chain.buffers.size() == 1);
    CHECK((chain.buffers[0].flags & 2) == 0);  // device-readable
    CHECK(chain.buffers[0].length == 12 + frame.size());
    auto* bytes = reinterpret_cast<uint8_t*>(chain.buffers[0].address);
    for (int i = 0; i < 12; ++i) CHECK(bytes[i] == 0);
    CHECK(std::memcmp(bytes + 12, frame.data(), frame.size()) == 0);
    CHECK(net.transmits_in_flight() == 1);
    tx.push_used(chain.head, 0);
    // The device wants no notification: none is sent.
    tx.set_no_notify(true);
    REQUIRE(net.transmit(frame.data(), 100));
    CHECK(transport.notifies[1] == 1);
    CHECK(net.transmits_in_flight() == 1);  // the first was reclaimed by this transmit
    CHECK(net.statistics().frames_sent == 2);
}

TEST_CASE("virtio-net: a full transmit ring is NoMemory, counted, and out-of-order completions free it") {
    fake::Transport transport;
    fake::Dma dma;
    transport.max_size = 8;
    VirtioNet net;
    REQUIRE(net.init(transport, dma, "net0"));
    fake::QueueDevice& tx = transport.queues[1];
    std::vector<fake::Chain> held;
    uint64_t sent = 0;
    // Many rounds: fill the ring, check it refuses, complete a random-ish subset out of order.
    for (int round = 0; round < 20000; ++round) {
        auto frame = frame_of(60 + round % 100, static_cast<uint8_t>(round));
        auto result = net.transmit(frame.data(), frame.size());
        if (!result) {
            REQUIRE(result.error() == Error::NoMemory);
            REQUIRE(net.transmits_in_flight() == 8);
            fake::Chain chain;
            while (tx.pop(chain)) held.push_back(chain);
            // Complete every other held chain, last first.
            for (size_t i = held.size(); i-- > 0;)
                if ((i + round) % 2 == 0) {
                    tx.push_used(held[i].head, 0);
                    held.erase(held.begin() + static_cast<long>(i));
                }
            continue;
        }
        ++sent;
    }
    auto stats = net.statistics();
    CHECK(stats.frames_sent == sent);
    CHECK(stats.transmit_ring_full == 20000 - sent);
    CHECK(stats.transmit_ring_full > 1000);
    CHECK(sent > 10000);
    CHECK(tx.avail_index() == static_cast<uint16_t>(sent));  // wrapped past 65,535 if sent > 65,535
    CHECK(net.bad_completions() == 0);
}

TEST_CASE("virtio-net: receive delivers oldest first within the budget and reposts every buffer") {
    fake::Transport transport;
    fake::Dma dma;
    transport.max_size = 16;
    VirtioNet net;
    REQUIRE(net.init(transport, dma, "net0"));
    fake::QueueDevice& rx = transport.queues[0];
    int notifies_before = transport.notifies[0];

    for (uint8_t i = 0; i < 5; ++i) device_receives(rx, frame_of(60 + i, i));
    Received got;
    CHECK(net.receive(Received::deliver, &got, 2) == 2);
    REQUIRE(got.frames.size() == 2);
    CHECK(got.frames[0] == frame_of(60, 0));
    CHECK(got.frames[1] == frame_of(61, 1));
    CHECK(net.receive_buffers_posted() == 16);  // the two reposted at once
    CHECK(transport.notifies[0] == notifies_before + 1);
    CHECK(net.receive(Received::deliver, &got, 100) == 3);
    CHECK(got.frames.back() == frame_of(64, 4));
    CHECK(net.receive(Received::deliver, &got, 100) == 0);

    // A frame no longer than the header is dropped and its buffer reposted; so is an oversized one.
    fake::Chain chain;
    REQUIRE(rx.pop(chain));
    rx.push_used(chain.head, 12);
    REQUIRE(rx.pop(chain));
    rx.push_used(chain.head, 12 + kernel::net::MaxFrameLength + 1);
    CHECK(net.receive(Received::deliver, &got, 100) == 0);
    CHECK(net.statistics().receive_dropped == 2);
    CHECK(net.statistics().frames_received == 5);
    CHECK(net.receive_buffers_posted() == 16);

    // 70,000 frames: the 16-bit indices wrap; the device never runs out of buffers.
    Received many;
    for (int i = 0; i < 70000; ++i) {
        device_receives(rx, frame_of(42 + i % 1400, static_cast<uint8_t>(i)));
        if (i % 7 == 6) {
            net.receive(Received::deliver, &many, 100);
            for (auto& f : many.frames) REQUIRE(f.size() >= 42);
            many.frames.clear();
        }
    }
    net.receive(Received::deliver, &many, 100);
    CHECK(net.statistics().frames_received == 70005);
    CHECK(net.receive_buffers_posted() == 16);
    CHECK(rx.used_index() == static_cast<uint16_t>(70007));
}

TEST_CASE("virtio-net: the interrupt only acknowledges, the bottom half calls notify") {
    fake::Transport transport;
    fake::Dma dma;
    VirtioNet net;
    REQUIRE(net.init(transport, dma, "net0"));
    CHECK(net.interrupt() == 0);
    net.bottom_half();  // no notify set yet: nothing happens
    int calls = 0;
    net.set_notify([](void* context) { ++*static_cast<int*>(context); }, &calls);
    transport.pending_interrupt = drivers::virtio::interrupt::UsedBuffer;
    CHECK(net.interrupt() == drivers::virtio::interrupt::UsedBuffer);
    CHECK(transport.pending_interrupt == 0);
    CHECK(calls == 0);  // the top half does not call it
    net.bottom_half();
    CHECK(calls == 1);
}
