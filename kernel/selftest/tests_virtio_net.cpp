// Self-test of the network device without a TCP/IP stack (selftest=virtio-net, booted with net=off so
// that the stack neither sets the notify function nor takes the frames; needs QEMU's user network, so
// it runs only when named): hand-built ARP requests "who has 10.0.2.2, tell 10.0.2.15" through
// NetDevice::transmit, answered by the user network's gateway.
//   1. One request: the reply arrives within 5 s, through the interrupt, the bottom half and the
//      notify function, and every field of it is checked.
//   2. 1,000 requests back to back: both rings wrap several times; a full transmit ring is waited
//      out (the next notify), never a failure; most requests are answered.
#include <atomic>

#include "kernel/arch/riscv/timer.hpp"
#include "kernel/net/device.hpp"
#include "kernel/sched/scheduler.hpp"
#include "kernel/selftest/selftest.hpp"

namespace kernel {

namespace {

constexpr uint8_t OurAddress[4] = {10, 0, 2, 15};
constexpr uint8_t GatewayAddress[4] = {10, 0, 2, 2};
constexpr size_t ArpFrameLength = 60;  // 14 + 28, padded to Ethernet's minimum (no FCS)

struct NetProbe {
    std::atomic<uint64_t> notifies{0};
    uint8_t mac[net::MacAddressLength] = {};
    uint64_t replies = 0;       // ARP replies from the gateway to us, every field as expected
    uint64_t bad_replies = 0;   // ARP replies to us with a field wrong
    uint64_t other_frames = 0;  // anything else
    uint8_t gateway_mac[net::MacAddressLength] = {};
};
NetProbe probe;

void on_notify(void* context) { static_cast<NetProbe*>(context)->notifies.fetch_add(1); }

bool equal(const uint8_t* a, const uint8_t* b, size_t n) {
    for (size_t i = 0; i < n; ++i)
        if (a[i] != b[i]) return false;
    return true;
}
uint16_t big16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }

void on_frame(void* context, const void* data, size_t length) {
    NetProbe& p = *static_cast<NetProbe*>(context);
    const auto* frame = static_cast<const uint8_t*>(data);
    if (length < 42 || big16(frame + 12) != 0x0806) {
        ++p.other_frames;
        return;
    }
    const uint8_t* arp = frame + 14;
    if (big16(arp + 6) != 2) {  // not a reply
        ++p.other_frames;
        return;
    }
    bool ok = equal(frame, p.mac, 6)                        // to us
              && equal(frame + 6, arp + 8, 6)               // Ethernet source = sender hardware address
              && big16(arp) == 1 && big16(arp + 2) == 0x0800 && arp[4] == 6 && arp[5] == 4
              && equal(arp + 14, GatewayAddress, 4)         // 10.0.2.2 is at ...
              && equal(arp + 18, p.mac, 6) && equal(arp + 24, OurAddress, 4)  // ... tell 10.0.2.15
              && !(arp[8] & 1);                             // a unicast sender address
    if (!ok) {
        ++p.bad_replies;
        return;
    }
    for (size_t i = 0; i < 6; ++i) p.gateway_mac[i] = arp[8 + i];
    ++p.replies;
}

void build_arp_request(uint8_t* frame, const uint8_t* mac) {
    for (size_t i = 0; i < ArpFrameLength; ++i) frame[i] = 0;
    for (size_t i = 0; i < 6; ++i) {
        frame[i] = 0xff;         // broadcast
        frame[6 + i] = mac[i];
    }
    frame[12] = 0x08, frame[13] = 0x06;  // ARP
    uint8_t* arp = frame + 14;
    arp[0] = 0, arp[1] = 1;              // Ethernet
    arp[2] = 0x08, arp[3] = 0x00;        // IPv4
    arp[4] = 6, arp[5] = 4;
    arp[6] = 0, arp[7] = 1;              // request
    for (size_t i = 0; i < 6; ++i) arp[8 + i] = mac[i];
    for (size_t i = 0; i < 4; ++i) arp[14 + i] = OurAddress[i];
    // target hardware address: zero (unknown)
    for (size_t i = 0; i < 4; ++i) arp[24 + i] = GatewayAddress[i];
}

uint64_t deadline_in_milliseconds(uint64_t milliseconds) {
    return riscv::timer::now() + riscv::timer::frequency() * milliseconds / 1000;
}

// Drains the device and runs kernel work on this hart until `done` or the deadline.
template <typename Done>
bool schedule_until(net::NetDevice& device, uint64_t milliseconds, Done done) {
    uint64_t deadline = deadline_in_milliseconds(milliseconds);
    for (;;) {
        while (device.receive(on_frame, &probe, 64) > 0) {}
        if (done()) return true;
        if (riscv::timer::now() >= deadline) return false;
        if (!proc::run_kernel_step()) proc::wait_for_kernel_work();
    }
}

} // namespace

bool selftest_virtio_net() {
    SELFTEST_CHECK(net::device_count() >= 1);
    net::NetDevice& device = *net::device(0);
    device.mac_address(probe.mac);
    println("    device {}: MAC {:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", device.name(), probe.mac[0], probe.mac[1],
            probe.mac[2], probe.mac[3], probe.mac[4], probe.mac[5]);
    SELFTEST_CHECK(!(probe.mac[0] & 1));  // a unicast address
    device.set_notify(on_notify, &probe);
    uint8_t request[ArpFrameLength];
    build_arp_request(request, probe.mac);

    SELFTEST_CHECK(device.transmit(request, 0).error() == Error::InvalidArgument);
    SELFTEST_CHECK(device.transmit(request, net::MaxFrameLength + 1).error() == Error::InvalidArgument);

    // 1. One request, one reply, through interrupt -> bottom half -> notify.
    net::DeviceStatistics before = device.statistics();
    uint64_t notifies_before = probe.notifies.load();
    SELFTEST_CHECK(device.transmit(request, sizeof(request)));
    // Both the reply and a notify (the device's interrupt, its bottom half): the reply may be found
    // by this loop's own receive() before the bottom half has run, but the notify must follow.
    bool answered = schedule_until(device, 5000, [&] { return probe.replies >= 1 && probe.notifies.load() > notifies_before; });
    println("    one request: {} reply, {} bad, {} other frames, {} notifies", probe.replies, probe.bad_replies,
            probe.other_frames, probe.notifies.load() - notifies_before);
    SELFTEST_CHECK(answered);
    SELFTEST_CHECK(probe.replies == 1);
    SELFTEST_CHECK(probe.bad_replies == 0);
    println("    10.0.2.2 is at {:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", probe.gateway_mac[0], probe.gateway_mac[1],
            probe.gateway_mac[2], probe.gateway_mac[3], probe.gateway_mac[4], probe.gateway_mac[5]);
    net::DeviceStatistics after = device.statistics();
    SELFTEST_CHECK(after.frames_sent - before.frames_sent == 1);
    SELFTEST_CHECK(after.frames_received - before.frames_received >= 1);

    // 2. 1,000 requests as fast as the ring takes them. A full ring is waited out until the next
    // notify (a transmit completion interrupts); 30 s without any progress fails.
    constexpr uint64_t Count = 1000;
    before = device.statistics();
    uint64_t replies_before = probe.replies;
    uint64_t full = 0;
    for (uint64_t sent = 0; sent < Count;) {
        // Read before the attempt: a completion after transmit()'s reclaim notifies after this.
        uint64_t seen = probe.notifies.load();
        auto result = device.transmit(request, sizeof(request));
        if (result) {
            ++sent;
            continue;
        }
        SELFTEST_CHECK(result.error() == Error::NoMemory);
        ++full;
        SELFTEST_CHECK(schedule_until(device, 30000, [&] { return probe.notifies.load() != seen; }));
    }
    // The replies to the last ones (bounded wait: all of them, or 10 s).
    schedule_until(device, 10000, [&] { return probe.replies - replies_before >= Count; });
    after = device.statistics();
    uint64_t replies = probe.replies - replies_before;
    println("    {} requests: {} replies, {} bad, transmit ring full {} times (waited out), {} received, {} dropped",
            Count, replies, probe.bad_replies, full, after.frames_received - before.frames_received,
            after.receive_dropped - before.receive_dropped);
    SELFTEST_CHECK(after.frames_sent - before.frames_sent == Count);
    SELFTEST_CHECK(after.transmit_ring_full - before.transmit_ring_full == full);
    SELFTEST_CHECK(probe.bad_replies == 0);
    SELFTEST_CHECK(replies * 2 >= Count);  // QEMU may drop some under load; half is the floor
    return true;
}

} // namespace kernel
