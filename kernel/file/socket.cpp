#include "kernel/file/socket.hpp"

#include <new>

#include "kernel/arch/riscv/irq_lock.hpp"
#include "kernel/net/stack.hpp"
#include "kernel/proc/process.hpp"
#include "kernel/sched/scheduler.hpp"
#include "kernel/syscall/call.hpp"
#include "kernel/syscall/call_threads.hpp"
#include "kernel/syscall/dispatch.hpp"

#include "lwip/ip_addr.h"
#include "lwip/pbuf.h"
#include "lwip/tcp.h"
#include "lwip/udp.h"

namespace kernel::proc {

namespace abi = cokernel::abi;

namespace {

// Every socket, so that kill can wake calls waiting in one. Lock order: the stack lock, then
// sockets_lock (a socket made or freed by lwIP's accept or a listener's close), then a socket's
// waiters.lock.
IrqSpinLock sockets_lock;
Socket* sockets = nullptr;
size_t sockets_alive = 0;

// Bytes of one write moved from the user's pages into lwIP per step (tcp_write copies them).
constexpr size_t StagingBytes = 16384;
uint8_t staging[StagingBytes];  // guarded by the stack lock

constexpr size_t MaxDatagram = 65507;

size_t smaller(size_t a, size_t b) { return a < b ? a : b; }

long error_from_lwip(err_t error) {
    switch (error) {
        case ERR_OK: return 0;
        case ERR_MEM: return -Errno::NoBuffers;
        case ERR_BUF: return -Errno::NoBuffers;
        case ERR_TIMEOUT: return -Errno::TimedOut;
        case ERR_RTE: return -Errno::NetworkUnreachable;
        case ERR_INPROGRESS: return -Errno::InProgress;
        case ERR_VAL: return -Errno::Invalid;
        case ERR_WOULDBLOCK: return -Errno::TryAgain;
        case ERR_USE: return -Errno::AddressInUse;
        case ERR_ALREADY: return -Errno::Already;
        case ERR_ISCONN: return -Errno::IsConnected;
        case ERR_CONN: return -Errno::NotConnected;
        case ERR_IF: return -Errno::NetworkUnreachable;
        case ERR_ABRT: return -Errno::ConnectionAborted;
        case ERR_RST: return -Errno::ConnectionReset;
        case ERR_CLSD: return -Errno::NotConnected;
        case ERR_ARG: return -Errno::Invalid;
        default: return -Errno::Invalid;
    }
}

void wake(Socket& socket) { wake_all_locked(socket.waiters); }

// ---- lwIP's callbacks: the stack lock is held (lwIP runs only under it). ----

err_t on_receive(void* argument, tcp_pcb* pcb, pbuf* data, err_t) {
    auto* socket = static_cast<Socket*>(argument);
    if (!socket) {  // not ours any more: drop, as tcp_recv_null does
        if (data) {
            tcp_recved(pcb, data->tot_len);
            pbuf_free(data);
        }
        return ERR_OK;
    }
    if (!data) {
        socket->end_of_stream = true;
    } else if (socket->shut_read) {
        tcp_recved(pcb, data->tot_len);
        pbuf_free(data);
    } else if (socket->received) {
        pbuf_cat(socket->received, data);
    } else {
        socket->received = data;
    }
    wake(*socket);
    return ERR_OK;
}

err_t on_sent(void* argument, tcp_pcb*, u16_t) {
    if (auto* socket = static_cast<Socket*>(argument)) wake(*socket);
    return ERR_OK;
}

// The pcb is already freed by lwIP.
void on_error(void* argument, err_t error) {
    auto* socket = static_cast<Socket*>(argument);
    if (!socket) return;
    socket->tcp = nullptr;
    if (socket->state == Socket::State::Connecting)
        socket->pending_error = error == ERR_RST ? -Errno::ConnectionRefused : -Errno::TimedOut;
    else
        socket->pending_error = error == ERR_RST ? -Errno::ConnectionReset : error_from_lwip(error);
    if (error == ERR_CLSD) socket->pending_error = 0;
    socket->state = Socket::State::Closed;
    wake(*socket);
}

err_t on_connected(void* argument, tcp_pcb*, err_t) {
    auto* socket = static_cast<Socket*>(argument);
    if (!socket) return ERR_ABRT;
    socket->state = Socket::State::Connected;
    wake(*socket);
    return ERR_OK;
}

err_t on_accept(void* argument, tcp_pcb* pcb, err_t error) {
    auto* listener = static_cast<Socket*>(argument);
    if (!listener || !pcb || error != ERR_OK) return ERR_VAL;
    if (listener->accept_count >= listener->backlog) return ERR_MEM;  // lwIP resets it
    // A connection takes its listener's kernel-side model; its runner is made first (no socket to
    // undo when it cannot be had).
    CallThreads* threads = nullptr;
    if (listener->threaded.load(std::memory_order_relaxed) && !(threads = create_call_threads())) return ERR_MEM;
    auto* socket = new (std::nothrow) Socket(SocketType::Stream, false);
    if (!socket) {
        if (threads) close_call_threads(*threads);
        return ERR_MEM;
    }
    if (threads) {
        socket->call_threads.store(threads, std::memory_order_release);
        socket->threaded.store(true, std::memory_order_relaxed);
    }
    socket->charge.take_alike(listener->charge, heap_bytes_of<Socket>());  // bounded by the backlog
    socket->no_delay = listener->no_delay;
    socket->attach(pcb);
    socket->state = Socket::State::Connected;
    (listener->accept_tail ? listener->accept_tail->next_accepted : listener->accept_head) = socket;
    listener->accept_tail = socket;
    ++listener->accept_count;
    wake(*listener);
    return ERR_OK;
}

void on_datagram(void* argument, udp_pcb*, pbuf* data, const ip_addr_t* address, u16_t port) {
    auto* socket = static_cast<Socket*>(argument);
    if (!socket || socket->shut_read || socket->datagram_count == Socket::DatagramQueue) {
        pbuf_free(data);  // the receive queue is full: dropped, as Linux drops beyond SO_RCVBUF
        return;
    }
    Socket::Datagram& slot = socket->datagrams[(socket->datagram_head + socket->datagram_count) % Socket::DatagramQueue];
    slot.data = data;
    slot.address = ip_2_ip4(address)->addr;
    slot.port = port;
    ++socket->datagram_count;
    wake(*socket);
}

void to_lwip(const abi::SocketAddressIn& in, ip_addr_t& address, uint16_t& port) {
    ip_addr_set_ip4_u32_val(address, in.address);
    port = abi::host_to_network16(in.port);
}

abi::SocketAddressIn from_lwip(uint32_t address, uint16_t port) {
    abi::SocketAddressIn out{};
    out.family = abi::AddressFamilyInet;
    out.port = abi::host_to_network16(port);
    out.address = address;
    return out;
}

// Writes an address for recvfrom/accept/getsockname: at most *address_length bytes of it, and its
// full length into *address_length (as Linux). 0 or -EFAULT. Nothing to do for a null address.
long put_address(const AddressSpace& space, uint64_t address, uint64_t address_length, const abi::SocketAddressIn& value) {
    if (!address) return 0;
    uint32_t length = 0;
    if (!space.copy_from_user(&length, address_length, sizeof(length))) return -Errno::Fault;
    if (static_cast<int32_t>(length) < 0) return -Errno::Invalid;
    if (!space.copy_to_user(address, &value, smaller(length, sizeof(value)))) return -Errno::Fault;
    uint32_t full = sizeof(value);
    if (!space.copy_to_user(address_length, &full, sizeof(full))) return -Errno::Fault;
    return 0;
}

// Checks that put_address will succeed (so that a connection or datagram is not consumed for nothing).
long check_address(const AddressSpace& space, uint64_t address, uint64_t address_length) {
    if (!address) return 0;
    uint32_t length = 0;
    if (!space.copy_from_user(&length, address_length, sizeof(length))) return -Errno::Fault;
    if (static_cast<int32_t>(length) < 0) return -Errno::Invalid;
    if (!space.check_user_range(address_length, sizeof(length), Access::Write)) return -Errno::Fault;
    if (length && !space.check_user_range(address, smaller(length, sizeof(abi::SocketAddressIn)), Access::Write))
        return -Errno::Fault;
    return 0;
}

// A call that must wait: takes the socket's queue lock, drops the stack lock (without polling: the
// caller has just polled and found nothing to do), waits. Returns without either lock.
struct WaitForSocket {
    Socket& socket;
    WaitOn wait;
    explicit WaitForSocket(Socket& s) : socket(s), wait(s.waiters) {
        socket.waiters.lock.lock();
        net::unlock_without_poll();
    }
    bool await_ready() const noexcept { return false; }
    bool await_suspend(Call::Handle frame) noexcept { return wait.await_suspend(frame); }
    void await_resume() const noexcept {}
};

} // namespace

Socket::Socket(SocketType socket_type, bool non_blocking) : type(socket_type), nonblocking(non_blocking) {
    ScopedLock guard(sockets_lock);
    next = sockets;
    if (sockets) sockets->previous = this;
    sockets = this;
    ++sockets_alive;
}

void Socket::attach(tcp_pcb* pcb) {
    tcp = pcb;
    tcp_arg(pcb, this);
    tcp_recv(pcb, on_receive);
    tcp_sent(pcb, on_sent);
    tcp_err(pcb, on_error);
    if (no_delay) tcp_nagle_disable(pcb);
}

uint32_t Socket::status_flags() const { return 2 | (nonblocking ? abi::SocketNonBlocking : 0); }

long Socket::take_error() {
    long error = pending_error;
    pending_error = 0;
    return error;
}

bool Socket::use_threads(bool on) {
    if (on && !call_threads.load(std::memory_order_relaxed)) {
        CallThreads* threads = create_call_threads();
        if (!threads) return false;
        call_threads.store(threads, std::memory_order_release);
    }
    threaded.store(on, std::memory_order_relaxed);
    return true;
}

void Socket::route(Call& call) {
    if (!call.valid() || !threaded.load(std::memory_order_relaxed)) return;
    // Set once and kept while the socket lives (the call holds it), so it is still there when read.
    if (CallThreads* threads = call_threads.load(std::memory_order_acquire)) call.run_on(*threads);
}

// Last reference: close the connection (a reset if unread data remains, as Linux), free what is
// queued, and the socket. Connections waiting to be accepted are reset.
void Socket::detach_and_close() {
    if (tcp) {
        tcp_arg(tcp, nullptr);
        if (state == State::Listening) {
            tcp_accept(tcp, nullptr);
            tcp_close(tcp);
        } else {
            tcp_recv(tcp, nullptr);
            tcp_sent(tcp, nullptr);
            tcp_err(tcp, nullptr);
        }
        if (state == State::Listening) {
        } else if (received || state == State::Fresh || tcp_close(tcp) != ERR_OK) {
            tcp_abort(tcp);
        }
        tcp = nullptr;
    }
    if (udp) {
        udp_remove(udp);
        udp = nullptr;
    }
    if (CallThreads* threads = call_threads.exchange(nullptr, std::memory_order_acq_rel)) {
        threaded.store(false, std::memory_order_relaxed);
        close_call_threads(*threads);  // no call of it is in flight (each holds the socket): its threads end
    }
    if (received) pbuf_free(received);
    received = nullptr;
    for (; datagram_count; --datagram_count, datagram_head = (datagram_head + 1) % DatagramQueue)
        pbuf_free(datagrams[datagram_head].data);
    while (Socket* pending = accept_head) {
        accept_head = pending->next_accepted;
        if (pending->tcp) {
            tcp_arg(pending->tcp, nullptr);
            tcp_err(pending->tcp, nullptr);
            tcp_abort(pending->tcp);
            pending->tcp = nullptr;
        }
        pending->detach_and_close();
        {
            ScopedLock guard(sockets_lock);
            (pending->previous ? pending->previous->next : sockets) = pending->next;
            if (pending->next) pending->next->previous = pending->previous;
            --sockets_alive;
        }
        delete pending;
    }
}

void Socket::last_reference_dropped() {
    {
        net::StackGuard guard;
        detach_and_close();
    }
    {
        ScopedLock guard(sockets_lock);
        (previous ? previous->next : sockets) = next;
        if (next) next->previous = previous;
        --sockets_alive;
    }
    delete this;
}

long Socket::bind(const abi::SocketAddressIn& address) {
    if (address.family != abi::AddressFamilyInet) return -Errno::FamilyNotSupported;
    ip_addr_t ip;
    uint16_t port;
    to_lwip(address, ip, port);
    net::StackGuard guard;
    err_t error;
    if (type == SocketType::Stream) {
        if (!tcp || state != State::Fresh) return -Errno::Invalid;
        if (reuse_address) ip_set_option(tcp, SOF_REUSEADDR);
        error = tcp_bind(tcp, &ip, port);
    } else {
        if (!udp) return -Errno::Invalid;
        if (reuse_address) ip_set_option(udp, SOF_REUSEADDR);
        error = udp_bind(udp, &ip, port);
    }
    if (error == ERR_VAL) return -Errno::AddressNotAvailable;
    return error_from_lwip(error);
}

long Socket::listen(int requested_backlog) {
    if (type != SocketType::Stream) return -Errno::NotSupported;
    uint32_t limit = requested_backlog <= 0 ? 1 : requested_backlog > 1024 ? 1024 : static_cast<uint32_t>(requested_backlog);
    net::StackGuard guard;
    if (state == State::Listening) {
        backlog = limit;
        return 0;
    }
    if (!tcp || state != State::Fresh) return -Errno::Invalid;
    if (tcp->local_port == 0) {  // Linux binds an unbound listener to an ephemeral port
        if (reuse_address) ip_set_option(tcp, SOF_REUSEADDR);
        if (err_t error = tcp_bind(tcp, IP_ADDR_ANY, 0); error != ERR_OK) return error_from_lwip(error);
    }
    err_t error = ERR_OK;
    tcp_pcb* listening = tcp_listen_with_backlog_and_err(tcp, 255, &error);
    if (!listening) return error_from_lwip(error);  // the original pcb is still ours
    tcp = listening;  // lwIP freed the original
    backlog = limit;
    state = State::Listening;
    tcp_arg(tcp, this);
    tcp_accept(tcp, on_accept);
    return 0;
}

Call Socket::accept(CallMemory&, Process& process, uint64_t address, uint64_t address_length, int flags) {
    const AddressSpace& space = process.address_space;
    if (flags & ~(abi::SocketNonBlocking | abi::SocketCloseOnExec)) co_return -Errno::Invalid;
    if (long checked = check_address(space, address, address_length)) co_return checked;
    const uint8_t priority = co_await CallPriority{};
    Socket* accepted = nullptr;
    for (;;) {
        net::lock();
        net::poll_loopback();
        if (state != State::Listening) {
            net::unlock();
            co_return -Errno::Invalid;
        }
        if (accept_head) {
            accepted = accept_head;
            accept_head = accepted->next_accepted;
            if (!accept_head) accept_tail = nullptr;
            accepted->next_accepted = nullptr;
            --accept_count;
            accepted->nonblocking = flags & abi::SocketNonBlocking;
            break;
        }
        if (nonblocking) {
            net::unlock();
            co_return -Errno::TryAgain;
        }
        co_await WaitForSocket(*this);
        if (process.exit_requested.load()) co_return -Errno::Interrupted;
    }
    abi::SocketAddressIn peer{};
    if (accepted->tcp) peer = from_lwip(ip_2_ip4(&accepted->tcp->remote_ip)->addr, accepted->tcp->remote_port);
    last_priority = priority;
    net::unlock();
    accepted->acquire();
    auto fd = process.files.install(*accepted, flags & abi::SocketCloseOnExec);
    if (!fd) co_return -Errno::TooManyFiles;  // the connection is closed (reset) with the dropped reference
    if (long written = put_address(space, address, address_length, peer)) co_return written;
    co_return *fd;
}

Call Socket::connect(CallMemory&, Process& process, abi::SocketAddressIn address) {
    if (address.family != abi::AddressFamilyInet) co_return -Errno::FamilyNotSupported;
    ip_addr_t ip;
    uint16_t port;
    to_lwip(address, ip, port);
    net::lock();
    if (type == SocketType::Datagram) {
        long result = udp ? error_from_lwip(udp_connect(udp, &ip, port)) : -Errno::Invalid;
        net::unlock();
        co_return result;
    }
    switch (state) {
        case State::Fresh: {
            if (!tcp) {
                net::unlock();
                co_return -Errno::Invalid;
            }
            if (reuse_address) ip_set_option(tcp, SOF_REUSEADDR);
            err_t error = tcp_connect(tcp, &ip, port, on_connected);
            if (error != ERR_OK) {
                net::unlock();
                co_return error_from_lwip(error);
            }
            state = State::Connecting;
            if (nonblocking) {
                net::unlock();
                co_return -Errno::InProgress;
            }
            break;
        }
        case State::Connecting:
            if (nonblocking) {
                net::unlock();
                co_return -Errno::Already;
            }
            break;
        case State::Connected:
            net::unlock();
            co_return -Errno::IsConnected;
        case State::Listening:
            net::unlock();
            co_return -Errno::Invalid;
        case State::Closed: {
            long error = take_error();
            net::unlock();
            co_return error ? error : -Errno::Invalid;
        }
    }
    for (;;) {
        net::poll_loopback();
        if (state == State::Connected) {
            net::unlock();
            co_return 0;
        }
        if (state == State::Closed) {
            long error = take_error();
            net::unlock();
            co_return error ? error : -Errno::ConnectionRefused;
        }
        co_await WaitForSocket(*this);
        if (process.exit_requested.load()) co_return -Errno::Interrupted;
        net::lock();
    }
}

// Under the stack lock, just polled. A count, 0 (end of stream), a negated errno, or WouldBlock.
long Socket::try_receive(const AddressSpace& space, uint64_t buffer, uint64_t length, uint64_t address,
                         uint64_t address_length) {
    if (type == SocketType::Datagram) {
        if (!datagram_count) return shut_read ? 0 : WouldBlock;
        Datagram& datagram = datagrams[datagram_head];
        size_t count = smaller(length, datagram.data->tot_len);  // the rest is lost, as Linux without MSG_TRUNC
        size_t done = 0;
        for (pbuf* piece = datagram.data; piece && done < count; piece = piece->next) {
            size_t part = smaller(piece->len, count - done);
            if (!space.copy_to_user(buffer + done, piece->payload, part)) return -Errno::Fault;
            done += part;
        }
        if (long written = put_address(space, address, address_length, from_lwip(datagram.address, datagram.port)))
            return written;
        pbuf_free(datagram.data);
        datagram_head = (datagram_head + 1) % DatagramQueue;
        --datagram_count;
        return static_cast<long>(count);
    }
    if (received) {
        size_t count = smaller(length, received->tot_len);
        size_t done = 0;
        // Bytes are consumed only once all of them are copied (a bad buffer loses nothing).
        for (pbuf* piece = received; piece && done < count; piece = piece->next) {
            size_t part = smaller(piece->len, count - done);
            if (!space.copy_to_user(buffer + done, piece->payload, part)) return -Errno::Fault;
            done += part;
        }
        if (address) {  // a stream socket gives no source address (Linux sets the length to 0)
            uint32_t zero = 0;
            if (!space.copy_to_user(address_length, &zero, sizeof(zero))) return -Errno::Fault;
        }
        received = pbuf_free_header(received, static_cast<u16_t>(count));
        for (size_t left = count; tcp && left;) {
            u16_t part = static_cast<u16_t>(smaller(left, 0xffff));
            tcp_recved(tcp, part);
            left -= part;
        }
        return static_cast<long>(count);
    }
    if (long error = take_error()) return error;
    if (end_of_stream || shut_read || state == State::Closed) return 0;
    if (state != State::Connected && state != State::Connecting) return -Errno::NotConnected;
    return WouldBlock;
}

Call Socket::receive_from(CallMemory&, Process& process, uint64_t buffer, uint64_t length, uint64_t address,
                          uint64_t address_length) {
    const AddressSpace& space = process.address_space;
    if (!space.check_user_range(buffer, length, Access::Write)) co_return -Errno::Fault;
    if (long checked = check_address(space, address, address_length)) co_return checked;
    if (length == 0 && type == SocketType::Stream) co_return 0;
    const uint8_t priority = co_await CallPriority{};
    for (;;) {
        net::lock();
        net::poll_loopback();
        long result = try_receive(space, buffer, length, address, address_length);
        if (result != WouldBlock) {
            last_priority = priority;
            net::unlock();
            co_return result;
        }
        if (nonblocking) {
            net::unlock();
            co_return -Errno::TryAgain;
        }
        co_await WaitForSocket(*this);
        if (process.exit_requested.load()) co_return -Errno::Interrupted;
    }
}

// Under the stack lock, just polled. Bytes taken (> 0), a negated errno, or WouldBlock.
long Socket::try_send(const AddressSpace& space, uint64_t buffer, uint64_t length, const abi::SocketAddressIn* to) {
    if (type == SocketType::Datagram) {
        if (!udp) return -Errno::Invalid;
        if (shut_write) return -Errno::BrokenPipe;
        if (length > MaxDatagram) return -Errno::MessageTooLong;
        ip_addr_t ip;
        uint16_t port = 0;
        if (to) {
            if (to->family != abi::AddressFamilyInet) return -Errno::FamilyNotSupported;
            to_lwip(*to, ip, port);
        } else if (!(udp->flags & UDP_FLAGS_CONNECTED)) {
            return -Errno::DestinationRequired;
        }
        pbuf* packet = pbuf_alloc(PBUF_TRANSPORT, static_cast<u16_t>(length), PBUF_RAM);
        if (!packet) return -Errno::NoBuffers;
        if (length && !space.copy_from_user(packet->payload, buffer, length)) {
            pbuf_free(packet);
            return -Errno::Fault;
        }
        err_t error = to ? udp_sendto(udp, packet, &ip, port) : udp_send(udp, packet);
        pbuf_free(packet);
        return error == ERR_OK ? static_cast<long>(length) : error_from_lwip(error);
    }
    if (long error = take_error()) return error;
    if (state == State::Connecting) return WouldBlock;
    if (state == State::Fresh || state == State::Listening) return -Errno::NotConnected;
    if (shut_write || !tcp || state != State::Connected) return -Errno::BrokenPipe;
    size_t room = tcp_sndbuf(tcp);
    if (tcp_sndqueuelen(tcp) >= TCP_SND_QUEUELEN - 4) room = 0;
    if (room == 0) return WouldBlock;
    size_t count = smaller(smaller(room, length), StagingBytes);
    if (!space.copy_from_user(staging, buffer, count)) return -Errno::Fault;
    err_t error = tcp_write(tcp, staging, static_cast<u16_t>(count), TCP_WRITE_FLAG_COPY);
    if (error == ERR_MEM) {
        if (tcp_sndqueuelen(tcp) == 0) return -Errno::NoMemory;  // nothing in flight to make room
        tcp_output(tcp);
        return WouldBlock;
    }
    if (error != ERR_OK) return error_from_lwip(error);
    tcp_output(tcp);
    return static_cast<long>(count);
}

Call Socket::send_to(CallMemory&, Process& process, uint64_t buffer, uint64_t length, uint64_t address,
                     uint64_t address_length) {
    const AddressSpace& space = process.address_space;
    if (!space.check_user_range(buffer, length, Access::Read)) co_return -Errno::Fault;
    abi::SocketAddressIn to{};
    bool has_address = address != 0 && type == SocketType::Datagram;  // ignored on a stream, as Linux
    if (has_address) {
        if (address_length < sizeof(to)) co_return -Errno::Invalid;
        if (!space.copy_from_user(&to, address, sizeof(to))) co_return -Errno::Fault;
    }
    if (type == SocketType::Datagram) {
        net::StackGuard guard;
        co_return try_send(space, buffer, length, has_address ? &to : nullptr);
    }
    if (length == 0) co_return 0;
    uint64_t done = 0;
    // Having sent some bytes, a failure returns their count, as Linux does.
    while (done < length) {
        net::lock();
        net::poll_loopback();
        long result = try_send(space, buffer + done, length - done, nullptr);
        if (result == WouldBlock) {
            if (nonblocking) {
                net::unlock();
                co_return done ? static_cast<long>(done) : -Errno::TryAgain;
            }
            co_await WaitForSocket(*this);
            if (process.exit_requested.load()) co_return done ? static_cast<long>(done) : -Errno::Interrupted;
            continue;
        }
        // Having sent some bytes, a connection error found now is the next call's (Linux keeps the
        // socket's error for it): this call returns the count.
        if (result < 0 && done && pending_error == 0 &&
            (result == -Errno::ConnectionReset || result == -Errno::TimedOut))
            pending_error = result;
        net::unlock();
        if (result < 0) co_return done ? static_cast<long>(done) : result;
        done += static_cast<uint64_t>(result);
    }
    co_return static_cast<long>(done);
}

Call Socket::read(CallMemory& memory, Process& process, uint64_t buffer, uint64_t length) {
    Call call = receive_from(memory, process, buffer, length, 0, 0);
    route(call);
    return call;
}

Call Socket::write(CallMemory& memory, Process& process, uint64_t buffer, uint64_t length) {
    Call call = send_to(memory, process, buffer, length, 0, 0);
    route(call);
    return call;
}

long Socket::name(abi::SocketAddressIn& out, bool peer) {
    net::StackGuard guard;
    if (type == SocketType::Stream) {
        if (peer && (state != State::Connected || !tcp)) return -Errno::NotConnected;
        out = tcp ? (peer ? from_lwip(ip_2_ip4(&tcp->remote_ip)->addr, tcp->remote_port)
                          : from_lwip(ip_2_ip4(&tcp->local_ip)->addr, tcp->local_port))
                  : from_lwip(0, 0);
        return 0;
    }
    if (!udp) return -Errno::Invalid;
    if (peer && !(udp->flags & UDP_FLAGS_CONNECTED)) return -Errno::NotConnected;
    out = peer ? from_lwip(ip_2_ip4(&udp->remote_ip)->addr, udp->remote_port)
               : from_lwip(ip_2_ip4(&udp->local_ip)->addr, udp->local_port);
    return 0;
}

long Socket::set_option(int level, int option, int value) {
    net::StackGuard guard;
    if (level == abi::SocketLevel) {
        switch (option) {
            case abi::OptionReuseAddress:
                reuse_address = value != 0;
                if (tcp) value ? ip_set_option(tcp, SOF_REUSEADDR) : ip_reset_option(tcp, SOF_REUSEADDR);
                if (udp) value ? ip_set_option(udp, SOF_REUSEADDR) : ip_reset_option(udp, SOF_REUSEADDR);
                return 0;
            case abi::OptionReceiveBuffer: receive_buffer = value; return 0;
            case abi::OptionSendBuffer: send_buffer = value; return 0;
            case abi::OptionKeepAlive:
                if (tcp) value ? ip_set_option(tcp, SOF_KEEPALIVE) : ip_reset_option(tcp, SOF_KEEPALIVE);
                return 0;
        }
        return -Errno::NoProtocolOption;
    }
    if (level == abi::CokernelLevel && option == abi::OptionNetModel) {
        if (value != abi::NetModelCoroutine && value != abi::NetModelThread) return -Errno::Invalid;
        return use_threads(value == abi::NetModelThread) ? 0 : -Errno::NoMemory;
    }
    if (level == abi::ProtocolTcp && type == SocketType::Stream && option == abi::TcpNoDelay) {
        no_delay = value != 0;
        if (tcp && state != State::Listening) {
            if (value) tcp_nagle_disable(tcp);
            else tcp_nagle_enable(tcp);
        }
        return 0;
    }
    return -Errno::NoProtocolOption;
}

long Socket::get_option(int level, int option, int& value) {
    net::StackGuard guard;
    if (level == abi::SocketLevel) {
        switch (option) {
            case abi::OptionReuseAddress: value = reuse_address; return 0;
            case abi::OptionType: value = type == SocketType::Stream ? abi::SocketStream : abi::SocketDatagram; return 0;
            case abi::OptionError: value = static_cast<int>(-take_error()); return 0;
            // lwIP's window and send buffer are fixed (lwipopts.h); a value set is remembered.
            case abi::OptionReceiveBuffer: value = receive_buffer ? receive_buffer : TCP_WND; return 0;
            case abi::OptionSendBuffer: value = send_buffer ? send_buffer : TCP_SND_BUF; return 0;
            case abi::OptionKeepAlive: value = tcp && ip_get_option(tcp, SOF_KEEPALIVE); return 0;
        }
        return -Errno::NoProtocolOption;
    }
    if (level == abi::ProtocolTcp && type == SocketType::Stream && option == abi::TcpNoDelay) {
        value = no_delay;
        return 0;
    }
    if (level == abi::CokernelLevel && option == abi::OptionNetModel) {
        value = threaded.load(std::memory_order_relaxed) ? abi::NetModelThread : abi::NetModelCoroutine;
        return 0;
    }
    if (level == abi::CokernelLevel && option == abi::OptionLastCallPriority) {
        value = last_priority;
        return 0;
    }
    return -Errno::NoProtocolOption;
}

long Socket::shutdown(int how) {
    if (how < abi::ShutdownRead || how > abi::ShutdownBoth) return -Errno::Invalid;
    bool read_side = how != abi::ShutdownWrite, write_side = how != abi::ShutdownRead;
    net::StackGuard guard;
    if (type == SocketType::Stream && state != State::Connected) return -Errno::NotConnected;
    if (read_side) {
        shut_read = true;
        if (received) {
            if (tcp) tcp_recved(tcp, received->tot_len);
            pbuf_free(received);
            received = nullptr;
        }
    }
    if (write_side && !shut_write) {
        shut_write = true;
        if (tcp) tcp_shutdown(tcp, 0, 1);  // FIN after what is queued
    }
    wake(*this);
    return 0;
}

Result<File*> create_socket(Process& owner, SocketType type, bool nonblocking) {
    if (!net::network_enabled()) return Error::Unsupported;
    auto* socket = new (std::nothrow) Socket(type, nonblocking);
    if (!socket) return Error::NoMemory;
    if (!socket->charge.take(owner, heap_bytes_of<Socket>())) {
        socket->acquire();
        socket->release();  // unlisted and freed, as any socket
        return Error::NoMemory;
    }
    bool made;
    bool threads_missing = false;
    {
        net::StackGuard guard;
        if (type == SocketType::Stream) {
            socket->tcp = tcp_new_ip_type(IPADDR_TYPE_V4);
            if (socket->tcp) socket->attach(socket->tcp);
            made = socket->tcp != nullptr;
        } else {
            socket->udp = udp_new_ip_type(IPADDR_TYPE_V4);
            if (socket->udp) udp_recv(socket->udp, on_datagram, socket);
            made = socket->udp != nullptr;
        }
        if (made && net::default_net_model() == net::NetModel::Thread && !socket->use_threads(true)) threads_missing = true;
    }
    socket->acquire();
    if (!made || threads_missing) {
        socket->release();  // frees it
        return threads_missing ? Error::NoMemory : Error::NotFound;
    }
    return static_cast<File*>(socket);
}

size_t socket_count() {
    ScopedLock guard(sockets_lock);
    return sockets_alive;
}

} // namespace kernel::proc
