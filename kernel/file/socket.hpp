// Sockets: AF_INET stream (TCP) and datagram (UDP) sockets over lwIP's raw API, each a File
// (docs/network.md, "Sockets").
//
// Every field of a Socket is guarded by the stack lock (kernel/net/stack.hpp), lwIP's callbacks
// included; waiters_ is the WaitQueue its calls wait on (lock order: stack lock, then waiters_.lock).
// A call that must wait takes waiters_.lock while still holding the stack lock, drops the stack lock
// and waits (WaitOn): a callback that would wake it needs the stack lock first, so no wake-up is lost.
// lwIP's callbacks only change the state and wake every waiter; the calls re-check.
//
// The calls that may wait are system-call coroutines (kernel/syscall/call.hpp) and serve both forms:
// a thread blocks in them, an asynchronous call suspends in them as a kernel coroutine. User buffers
// are checked and copied by the same code on both paths (AddressSpace::copy_to_user/copy_from_user,
// under the stack lock, straight between the user's pages and lwIP's pbufs).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "abi/result.hpp"
#include "abi/socket.hpp"
#include "kernel/file/file.hpp"
#include "kernel/proc/memory_limit.hpp"
#include "kernel/proc/thread.hpp"

struct tcp_pcb;
struct udp_pcb;
struct pbuf;

namespace kernel::proc {

class Call;
class CallThreads;
struct CallMemory;

// A new socket with one reference (for the caller's descriptor): NoMemory (also when its record
// would pass `owner`'s memory limit: it is charged to owner's account until freed, as are the
// connections accepted on it; memory_limit.hpp), or NotFound when lwIP has no protocol control block
// left (the caller's -ENOBUFS).
enum class SocketType : uint8_t { Stream, Datagram };
Result<File*> create_socket(Process& owner, SocketType type, bool nonblocking);

// Sockets that exist (not yet freed): for tests that check nothing leaks.
size_t socket_count();

class Socket final : public File {
public:
    // The system calls (kernel/syscall/socket.cpp decodes the registers). Results as the system
    // calls return them: a count or 0, or a negated errno.
    long bind(const cokernel::abi::SocketAddressIn& address);
    long listen(int backlog);
    Call accept(CallMemory& memory, Process& process, uint64_t address, uint64_t address_length, int flags);
    Call connect(CallMemory& memory, Process& process, cokernel::abi::SocketAddressIn address);
    Call send_to(CallMemory& memory, Process& process, uint64_t buffer, uint64_t length, uint64_t address,
                 uint64_t address_length);
    Call receive_from(CallMemory& memory, Process& process, uint64_t buffer, uint64_t length, uint64_t address,
                      uint64_t address_length);
    long name(cokernel::abi::SocketAddressIn& out, bool peer);
    long set_option(int level, int option, int value);
    long get_option(int level, int option, int& value);
    long shutdown(int how);

    Call read(CallMemory& memory, Process& process, uint64_t buffer, uint64_t length) override;
    Call write(CallMemory& memory, Process& process, uint64_t buffer, uint64_t length) override;
    uint32_t status_flags() const override;
    Socket* as_socket() override { return this; }

    // The rest is the implementation's (socket.cpp): public for its lwIP callbacks.
    enum class State : uint8_t { Fresh, Listening, Connecting, Connected, Closed };
    static constexpr size_t DatagramQueue = 32;
    static constexpr long WouldBlock = 1L << 40;  // a try_ function's "not yet"

    explicit Socket(SocketType type, bool nonblocking);
    void attach(tcp_pcb* pcb);  // callbacks of a TCP pcb to this socket
    void detach_and_close();    // the stack lock held
    long try_receive(const AddressSpace& space, uint64_t buffer, uint64_t length, uint64_t address,
                     uint64_t address_length);
    long try_send(const AddressSpace& space, uint64_t buffer, uint64_t length, const cokernel::abi::SocketAddressIn* to);
    long take_error();
    // The stack lock held: the socket's calls from now on run on kernel threads (true) or not.
    // False (nothing changed) when its runner cannot be had.
    bool use_threads(bool on);
    // The call is to run on this socket's kernel threads if it uses them (before the call first runs).
    void route(Call& call);

    SocketType type;
    bool nonblocking;
    State state = State::Fresh;
    bool end_of_stream = false;  // TCP: the peer's FIN arrived
    bool shut_read = false;
    bool shut_write = false;
    bool reuse_address = false;
    bool no_delay = false;
    long pending_error = 0;      // a negated errno to report once (SO_ERROR, or the next call)
    int receive_buffer = 0;      // SO_RCVBUF / SO_SNDBUF as set (lwIP's window is fixed)
    int send_buffer = 0;
    tcp_pcb* tcp = nullptr;
    udp_pcb* udp = nullptr;
    pbuf* received = nullptr;    // TCP: the bytes not yet read, a pbuf chain
    // UDP: datagrams not yet read, a ring.
    struct Datagram {
        pbuf* data;
        uint32_t address;  // network order
        uint16_t port;     // host order
    };
    Datagram datagrams[DatagramQueue];
    uint32_t datagram_head = 0;
    uint32_t datagram_count = 0;
    // A listener's connections not yet accepted, FIFO.
    Socket* accept_head = nullptr;
    Socket* accept_tail = nullptr;
    Socket* next_accepted = nullptr;
    uint32_t accept_count = 0;
    uint32_t backlog = 0;
    WaitQueue waiters;
    // The thread model: the kernel threads that run its calls, made when the socket first takes
    // that model and kept until it is freed (written once under the stack lock; read without it).
    // `threaded` says whether calls go there now (a socket option may change it between calls).
    std::atomic<CallThreads*> call_threads{nullptr};
    std::atomic<bool> threaded{false};
    uint8_t last_priority = 0;   // CK_LAST_PRIORITY: the priority its latest finished wait ran for
    Socket* previous = nullptr;  // the list of every socket (sockets_lock)
    Socket* next = nullptr;
    MemoryCharge charge;         // the record, on its creator's account (or its listener's)

private:
    void last_reference_dropped() override;
};

} // namespace kernel::proc
