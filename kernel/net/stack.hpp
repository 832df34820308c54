// The network stack: lwIP 2.1.3 (NO_SYS, raw API) driven by the kernel (docs/network.md).
//
// Exactly one context is inside lwIP at a time: every caller holds the stack lock (StackGuard, or
// lock()/unlock() below). The callers are
//   * socket system calls (kernel/file/socket.cpp), on a thread's kernel stack or in a kernel
//     coroutine of an asynchronous call;
//   * the network bottom half ("net", kernel/sched/bottom_half.hpp): raised by a device's notify
//     (frames arrived) and by the timer tick when lwIP's next timeout is due; it receives frames
//     from every device and runs sys_check_timeouts, so TCP retransmission, delayed ACKs and
//     TIME_WAIT happen on time.
// lwIP's callbacks (recv, sent, accept, connected, err) therefore run under the lock too; they only
// queue data and wake waiters (lock order: the stack lock, then a WaitQueue's lock).
//
// The lock is an IrqSpinLock: held with interrupts off, never across a wait. unlock() first delivers
// what lwIP queued on the loopback interface (netif_poll_all), so 127.0.0.1 traffic needs no
// timer to move.
#pragma once

#include <cstdint>
#include <string_view>

#include "abi/result.hpp"

namespace kernel::net {

// At boot, after the bottom halves can start and the drivers registered their devices: lwIP's
// initialisation, the loopback interface, one interface per kernel::net::device(i) (DHCP, or a
// static address from `ip=ADDR/PREFIX,GATEWAY`), the network bottom half. `net=off` leaves the
// network out (sockets then fail with -ENETDOWN).
void init_network(std::string_view bootargs);
bool network_enabled();

// The kernel side of a new socket (docs/network.md, "Two kernel-side models"): Coroutine (the
// default) or Thread (boot argument netmodel=thread). A socket may change its own with
// setsockopt(SOL_COKERNEL, CK_NETMODEL); an accepted connection takes its listener's.
enum class NetModel : uint8_t { Coroutine, Thread };
NetModel default_net_model();

void lock();
// Polls the loopback interface, recomputes when the next lwIP timeout is due, releases the lock.
void unlock();
// Releases the lock without polling: for a waiter that has just polled and found nothing to do.
void unlock_without_poll();
// Delivers what lwIP queued on the loopback interface. The caller holds the lock.
void poll_loopback();

struct StackGuard {
    StackGuard() { lock(); }
    ~StackGuard() { unlock(); }
    StackGuard(const StackGuard&) = delete;
    StackGuard& operator=(const StackGuard&) = delete;
};

// From the timer's tick hook (interrupt context): raises the network bottom half when lwIP's next
// timeout is due.
void timer_tick(uint64_t now);

// For tests and the monitor: lwIP's pools in use (memp and heap), to check nothing leaks.
struct StackUsage {
    uint64_t heap_used;
    uint64_t tcp_pcbs;
    uint64_t udp_pcbs;
    uint64_t pbufs;  // pool pbufs in use
};
StackUsage stack_usage();

} // namespace kernel::net
