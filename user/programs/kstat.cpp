// kstat: prints the kernel's figures from kernel_usage (1042): free frames, kernel heap bytes in use,
// sockets, processes, and lwIP's control blocks, pool pbufs and heap (docs/network.md, "Tests"). One
// line, for people and for the host-driven network test (tests/net/host_net_test.py), which compares
// the figures before and after traffic and a killed server.
#include "user/lib/format.hpp"

int main() {
    user::KernelUsageRecord usage{};
    if (long r = user::kernel_usage(&usage); r < 0) {
        user::println("kstat: kernel_usage: {}", r);
        return 1;
    }
    user::println("kstat: free-frames {} heap-bytes {} sockets {} processes {} tcp-pcbs {} udp-pcbs {} pool-pbufs {} "
                  "lwip-heap-bytes {}",
                  usage.free_frames, usage.heap_bytes, usage.sockets, usage.processes, usage.tcp_pcbs, usage.udp_pcbs,
                  usage.pool_pbufs, usage.lwip_heap_bytes);
    return 0;
}
