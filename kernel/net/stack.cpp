// The network stack's integration: the stack lock, lwIP's clock and timers, the network bottom half,
// and the interfaces (loopback, one per NetDevice). docs/network.md, "The stack".
#include "kernel/net/stack.hpp"

#include <atomic>

#include "kernel/arch/riscv/irq_lock.hpp"
#include "kernel/arch/riscv/timer.hpp"
#include "kernel/console/log.hpp"
#include "kernel/lib/bootargs.hpp"
#include "kernel/lib/counters.hpp"
#include "kernel/sched/kernel_thread.hpp"
#include "kernel/lib/random.hpp"
#include "kernel/net/device.hpp"
#include "kernel/sched/bottom_half.hpp"

#include "lwip/dhcp.h"
#include "lwip/etharp.h"
#include "lwip/init.h"
#include "lwip/ip4_addr.h"
#include "lwip/memp.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/stats.h"
#include "lwip/timeouts.h"
#include "netif/ethernet.h"

// lwIP's platform functions (arch/cc.h, lwip/sys.h, libc/stdlib.h).
extern "C" {
uint32_t sys_now(void) { return static_cast<uint32_t>(kernel::riscv::timer::nanoseconds_since_boot() / 1000000); }
uint32_t cokernel_lwip_random(void) { return static_cast<uint32_t>(kernel::random_u64()); }
void cokernel_lwip_diagnostic(const char* message) { kernel::println("lwip: {}", message); }
// An lwIP assertion is a bug in the kernel's use of lwIP (assertions on bad input are off,
// LWIP_NOASSERT_ON_ERROR): say where, and go on as lwIP's code does after its assertion.
void cokernel_lwip_assert(const char* message, const char* file, int line) {
    kernel::println("lwip: assertion failed: {} ({}:{})", message, file, line);
}
int atoi(const char* text) {
    int value = 0;
    bool negative = *text == '-';
    if (negative || *text == '+') ++text;
    while (*text >= '0' && *text <= '9') value = value * 10 + (*text++ - '0');
    return negative ? -value : value;
}
}

namespace kernel::net {

namespace {

IrqSpinLock stack_lock;
bool enabled = false;  // written once at boot, before any socket exists

// When lwIP's next timeout is due (timebase units); the tick raises the bottom half from then on.
std::atomic<uint64_t> next_timeout{~0ull};

struct DeviceInterface {
    netif interface;
    NetDevice* device;
};
DeviceInterface interfaces[MaxDevices];
size_t interface_count = 0;

void network_work(void*);
proc::BottomHalf network_half("net", network_work);

constexpr size_t ReceiveBudget = 64;  // frames per device per run; more re-raises

uint64_t timebase_after_ms(uint32_t ms) {
    return riscv::timer::now() + riscv::timer::frequency() / 1000 * ms;
}

// The caller holds the lock.
void schedule_next_timeout() {
    uint32_t sleep = sys_timeouts_sleeptime();
    if (sleep == SYS_TIMEOUTS_SLEEPTIME_INFINITE || sleep > 1000) sleep = 1000;
    next_timeout.store(timebase_after_ms(sleep), std::memory_order_relaxed);
}

// NetDevice::receive's deliver: one frame into a pool pbuf, to the interface's input (ethernet_input).
void deliver_frame(void* context, const void* frame, size_t length) {
    auto* entry = static_cast<DeviceInterface*>(context);
    pbuf* packet = pbuf_alloc(PBUF_RAW, static_cast<u16_t>(length), PBUF_POOL);
    if (!packet) {  // the pbuf pool is empty: the frame is lost, as on a busy link
        counters::count(counters::FramesDropped);
        return;
    }
    counters::count(counters::FramesReceived);
    pbuf_take(packet, frame, static_cast<u16_t>(length));
    if (entry->interface.input(packet, &entry->interface) != ERR_OK) pbuf_free(packet);
}

// The bottom half: frames from every device, then lwIP's timers. Under the stack lock.
void network_work(void*) {
    counters::count(counters::NetworkRuns);
    lock();
    bool more = false;
    for (size_t i = 0; i < interface_count; ++i) {
        DeviceInterface& entry = interfaces[i];
        if (entry.device->receive(deliver_frame, &entry, ReceiveBudget) == ReceiveBudget) more = true;
    }
    sys_check_timeouts();
    unlock();
    if (more) network_half.raise();
}

void device_notify(void*) { network_half.raise(); }

// netif linkoutput: one frame (a pbuf chain) to the device. The stack lock is held.
err_t device_output(netif* interface, pbuf* packet) {
    auto* entry = static_cast<DeviceInterface*>(interface->state);
    if (packet->tot_len > MaxFrameLength) return ERR_BUF;
    counters::count(counters::FramesSent);
    if (packet->next == nullptr) {
        return entry->device->transmit(packet->payload, packet->len) ? ERR_OK : ERR_MEM;
    }
    static uint8_t frame[MaxFrameLength];  // guarded by the stack lock
    pbuf_copy_partial(packet, frame, packet->tot_len, 0);
    return entry->device->transmit(frame, packet->tot_len) ? ERR_OK : ERR_MEM;
}

err_t device_interface_init(netif* interface) {
    auto* entry = static_cast<DeviceInterface*>(interface->state);
    interface->name[0] = 'e';
    interface->name[1] = 'n';
    interface->mtu = 1500;
    interface->hwaddr_len = ETH_HWADDR_LEN;
    entry->device->mac_address(interface->hwaddr);
    interface->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET | NETIF_FLAG_LINK_UP;
    interface->output = etharp_output;
    interface->linkoutput = device_output;
    return ERR_OK;
}

void report_address(netif* interface) {
    if (ip4_addr_isany_val(*netif_ip4_addr(interface))) return;
    char address[16], gateway[16];
    ip4addr_ntoa_r(netif_ip4_addr(interface), address, sizeof(address));
    ip4addr_ntoa_r(netif_ip4_gw(interface), gateway, sizeof(gateway));
    int prefix = __builtin_popcount(lwip_ntohl(netif_ip4_netmask(interface)->addr));
    println("net: {}{}: {}/{} gateway {}", interface->name[0], interface->name[1], address, prefix, gateway);
}

// `ip=ADDR/PREFIX,GATEWAY` (GATEWAY optional). False when malformed.
bool parse_static(std::string_view text, ip4_addr_t& address, ip4_addr_t& mask, ip4_addr_t& gateway) {
    size_t slash = text.find('/');
    if (slash == std::string_view::npos || slash >= 16) return false;
    char buffer[16];
    for (size_t i = 0; i < slash; ++i) buffer[i] = text[i];
    buffer[slash] = 0;
    if (!ip4addr_aton(buffer, &address)) return false;
    std::string_view rest = text.substr(slash + 1);
    size_t comma = rest.find(',');
    std::string_view prefix_text = rest.substr(0, comma);
    if (prefix_text.empty() || prefix_text.size() > 2) return false;
    uint32_t prefix = 0;
    for (char c : prefix_text) {
        if (c < '0' || c > '9') return false;
        prefix = prefix * 10 + static_cast<uint32_t>(c - '0');
    }
    if (prefix > 32) return false;
    mask.addr = lwip_htonl(prefix == 0 ? 0 : ~0u << (32 - prefix));
    ip4_addr_set_zero(&gateway);
    if (comma != std::string_view::npos) {
        std::string_view gateway_text = rest.substr(comma + 1);
        if (gateway_text.size() >= 16) return false;
        for (size_t i = 0; i < gateway_text.size(); ++i) buffer[i] = gateway_text[i];
        buffer[gateway_text.size()] = 0;
        if (!ip4addr_aton(buffer, &gateway)) return false;
    }
    return true;
}

} // namespace

void lock() { stack_lock.lock(); }

void poll_loopback() {
    if (enabled) netif_poll_all();
}

void unlock() {
    if (enabled) {
        netif_poll_all();
        schedule_next_timeout();
    }
    stack_lock.unlock();
}

void unlock_without_poll() { stack_lock.unlock(); }

bool network_enabled() { return enabled; }

namespace {
NetModel model = NetModel::Coroutine;  // set once at boot
} // namespace

NetModel default_net_model() { return model; }

void timer_tick(uint64_t now) {
    if (now >= next_timeout.load(std::memory_order_relaxed) && network_half.started()) {
        next_timeout.store(~0ull, std::memory_order_relaxed);  // the run sets the next one
        network_half.raise();
    }
}

StackUsage stack_usage() {
    StackGuard guard;
    StackUsage usage{};
    usage.heap_used = lwip_stats.mem.used;
    usage.tcp_pcbs = lwip_stats.memp[MEMP_TCP_PCB]->used + lwip_stats.memp[MEMP_TCP_PCB_LISTEN]->used;
    usage.udp_pcbs = lwip_stats.memp[MEMP_UDP_PCB]->used;
    usage.pbufs = lwip_stats.memp[MEMP_PBUF_POOL]->used;
    return usage;
}

void init_network(std::string_view bootargs) {
    BootArgs args(bootargs);
    if (args.value("net") == "off") {
        println("net: off (boot argument net=off)");
        return;
    }
    std::string_view chosen = args.value("netmodel");
    if (chosen == "thread") model = NetModel::Thread;
    else if (!chosen.empty() && chosen != "coroutine")
        println("net: ignoring netmodel={} (coroutine or thread): coroutine", chosen);
    if (auto threads = proc::init_kernel_threads(); !threads)
        println("net: no kernel threads ({}): sockets of the thread model fail with ENOMEM", error_name(threads.error()));
    ip4_addr_t address, mask, gateway;
    bool static_address = args.has("ip");
    if (static_address && !parse_static(args.value("ip"), address, mask, gateway)) {
        println("net: ignoring malformed ip={} (ADDR/PREFIX,GATEWAY): DHCP instead", args.value("ip"));
        static_address = false;
    }
    {
        StackGuard guard;
        lwip_init();  // the loopback interface (127.0.0.1) included
        for (size_t i = 0; i < device_count() && interface_count < MaxDevices; ++i) {
            DeviceInterface& entry = interfaces[interface_count];
            entry.device = device(i);
            ip4_addr_t any;
            ip4_addr_set_zero(&any);
            bool first = interface_count == 0;
            const ip4_addr_t* a = first && static_address ? &address : &any;
            const ip4_addr_t* m = first && static_address ? &mask : &any;
            const ip4_addr_t* g = first && static_address ? &gateway : &any;
            if (!netif_add(&entry.interface, a, m, g, &entry, device_interface_init, ethernet_input)) {
                println("net: cannot add an interface for {}", entry.device->name());
                continue;
            }
            ++interface_count;
            netif_set_status_callback(&entry.interface, report_address);
            if (first) netif_set_default(&entry.interface);
            netif_set_up(&entry.interface);
            entry.device->set_notify(device_notify, nullptr);
            if (!(first && static_address) && dhcp_start(&entry.interface) != ERR_OK)
                println("net: no DHCP on {} (out of memory)", entry.device->name());
        }
        enabled = true;
    }
    if (auto started = network_half.start(); !started) {
        // Without its bottom half the stack still serves loopback sockets (their calls poll), but
        // no frames are received and no timers run.
        println("net: no bottom half ({}): devices and TCP timers are not served", error_name(started.error()));
    }
    println("net: lwIP {}, loopback 127.0.0.1, {} device interface(s){}, sockets on kernel {}", LWIP_VERSION_STRING,
            interface_count, static_address ? " (static address)" : interface_count ? " (DHCP)" : "",
            model == NetModel::Thread ? "threads (netmodel=thread)" : "coroutines");
}

} // namespace kernel::net
