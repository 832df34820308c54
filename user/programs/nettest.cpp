// nettest: sockets over the loopback interface (127.0.0.1), servers and clients inside the guest
// (docs/network.md). Each check prints a line; the process exits 0 only if every one passed. The
// kernel self-test `net` runs it and then checks that every socket was freed and the kernel's memory
// is back to its figure.
//
//   nettest            every check: refused connections, bad pointers (both forms), non-blocking
//                      calls, names, EADDRINUSE, TCP echo through bin/echo-server (threads) and
//                      bin/echo-server --async (coroutines) with a checksum, many connections at
//                      once, UDP echo (both forms), a client killed mid-transfer
//   nettest warm       opens and closes a few dozen connections (the self-test's warm-up)
//   nettest limited    kernel threads (the thread model) within the process's memory limit
//   nettest priority H priority reaches the kernel (H: the harts, for what can be asserted): a
//                      high-priority read is served before low-priority ones, and a capped child
//                      (nettest capped H) is served at its cap
//   nettest hold PORT  connects to PORT and writes without reading until killed
//   nettest client A.B.C.D PORT BYTES
//                      the guest as a client (tests/net/host_net_test.py: a host listener at
//                      10.0.2.2): sends BYTES of pattern(), shuts its side down, reads until end of
//                      file and checks that BYTES of pattern() ^ 0x5a came back
#include "user/lib/async.hpp"
#include "user/lib/format.hpp"
#include "user/lib/net.hpp"
#include "user/lib/runtime.hpp"

using user::Runtime;
using user::SocketAddressIn;
using user::Task;

namespace {

namespace abi = cokernel::abi;

constexpr uint16_t SyncServerPort = 7001;   // guest ports: nothing here leaves the guest
constexpr uint16_t AsyncServerPort = 7002;
constexpr uint16_t ClosedPort = 9;
constexpr long EchoBytes = 4 * 1024 * 1024;
constexpr long Round = 32 * 1024;  // below what the server's window and send buffer hold together
constexpr int ManyConnections = 32;

int failures = 0;

void expect(bool condition, const char* what, long got = 0, long wanted = 0) {
    if (condition) return;
    user::println("nettest: FAILED {} (got {}, wanted {})", what, got, wanted);
    ++failures;
}

long now_ms() {
    abi::Timespec t{};
    user::clock_gettime(1, &t);
    return t.seconds * 1000 + t.nanoseconds / 1'000'000;
}

void sleep_ms(long ms) {
    abi::Timespec t{ms / 1000, (ms % 1000) * 1'000'000};
    user::nanosleep(&t);
}

uint8_t pattern(long offset) { return static_cast<uint8_t>(offset * 131 + (offset >> 9) * 7 + (offset >> 17)); }

int tcp_socket(int flags = 0) {
    return static_cast<int>(user::socket(abi::AddressFamilyInet, abi::SocketStream | flags));
}

long connect_to(int fd, uint16_t port) {
    SocketAddressIn address = user::loopback(port);
    return user::connect(fd, &address, sizeof(address));
}

// Connects to a server that may still be starting: retries refused connections for 20 s.
int connect_retrying(uint16_t port) {
    const long deadline = now_ms() + 20'000;
    for (;;) {
        int fd = tcp_socket();
        if (fd < 0) return fd;
        long r = connect_to(fd, port);
        if (r == 0) return fd;
        user::close(fd);
        if (r != -ECONNREFUSED || now_ms() > deadline) return static_cast<int>(r);
        sleep_ms(20);
    }
}

uint16_t local_port(int fd) {
    SocketAddressIn name{};
    uint32_t length = sizeof(name);
    if (user::getsockname(fd, &name, &length) != 0) return 0;
    return abi::host_to_network16(name.port);
}

// A listener on an ephemeral port of 127.0.0.1, and a connected pair through it.
struct Pair {
    int listener = -1, client = -1, server = -1;
    bool open() {
        listener = tcp_socket();
        SocketAddressIn any = user::loopback(0);
        if (listener < 0 || user::bind(listener, &any, sizeof(any)) != 0 || user::listen(listener, 8) != 0) return false;
        client = tcp_socket();
        if (client < 0 || connect_to(client, local_port(listener)) != 0) return false;
        server = static_cast<int>(user::accept(listener));
        return server >= 0;
    }
    void close() {
        user::close(client);
        user::close(server);
        user::close(listener);
    }
};

long spawn_program(const char* path, const char* a, const char* b = nullptr, const char* c = nullptr) {
    const char* argv[] = {path, a, b, c, nullptr};
    return user::spawn(path, argv);
}

long wait_status(long pid) {
    int status = -1;
    if (user::wait4(pid, &status, 0) != pid) return -1;
    return status;
}

// ---- checks ----

Task<> refused(Runtime&) {
    int fd = tcp_socket();
    long r = connect_to(fd, ClosedPort);
    expect(r == -ECONNREFUSED, "sync connect to a closed port gives ECONNREFUSED", r, -ECONNREFUSED);
    user::close(fd);
    fd = tcp_socket();
    SocketAddressIn address = user::loopback(ClosedPort);
    r = co_await user::async_connect(fd, &address, sizeof(address));
    expect(r == -ECONNREFUSED, "async connect to a closed port gives ECONNREFUSED", r, -ECONNREFUSED);
    user::close(fd);
    user::println("nettest: refused ok");
}

Task<> bad_pointers(Runtime&) {
    Pair pair;
    expect(pair.open(), "loopback pair");
    void* bad = reinterpret_cast<void*>(16);
    long r = user::write(pair.client, bad, 100);
    expect(r == -EFAULT, "sync write from a bad buffer", r, -EFAULT);
    r = co_await user::async_write(pair.client, bad, 100);
    expect(r == -EFAULT, "async write from a bad buffer", r, -EFAULT);
    r = user::read(pair.server, bad, 100);
    expect(r == -EFAULT, "sync read into a bad buffer", r, -EFAULT);
    r = co_await user::async_read(pair.server, bad, 100);
    expect(r == -EFAULT, "async read into a bad buffer", r, -EFAULT);
    r = user::sendto(pair.client, bad, 10, 0);
    expect(r == -EFAULT, "sync sendto from a bad buffer", r, -EFAULT);
    r = co_await user::async_recvfrom(pair.server, bad, 10);
    expect(r == -EFAULT, "async recvfrom into a bad buffer", r, -EFAULT);
    int fd = tcp_socket();
    r = user::connect(fd, bad, sizeof(SocketAddressIn));
    expect(r == -EFAULT, "sync connect with a bad address", r, -EFAULT);
    r = co_await user::async_connect(fd, bad, sizeof(SocketAddressIn));
    expect(r == -EFAULT, "async connect with a bad address", r, -EFAULT);
    user::close(fd);
    // Data that arrived is not lost by a read into a bad buffer.
    expect(user::write(pair.client, "abc", 3) == 3, "write 3 bytes");
    r = user::read(pair.server, bad, 3);
    expect(r == -EFAULT, "read of waiting data into a bad buffer", r, -EFAULT);
    char got[4] = {};
    r = user::read(pair.server, got, 3);
    expect(r == 3 && got[0] == 'a' && got[2] == 'c', "the bytes are still there", r, 3);
    r = user::accept(pair.listener, bad, reinterpret_cast<uint32_t*>(bad));
    expect(r == -EFAULT, "accept with a bad address", r, -EFAULT);
    r = user::kernel_usage(reinterpret_cast<user::KernelUsageRecord*>(bad));
    expect(r == -EFAULT, "kernel_usage into a bad record", r, -EFAULT);
    user::KernelUsageRecord usage{};
    r = user::kernel_usage(&usage);
    expect(r == 0 && usage.sockets >= 3 && usage.free_frames > 0, "kernel_usage counts the pair's sockets",
           static_cast<long>(usage.sockets), 3);
    r = user::kernel_counters(reinterpret_cast<user::KernelCountersRecord*>(bad));
    expect(r == -EFAULT, "kernel_counters into a bad record", r, -EFAULT);
    user::KernelCountersRecord first{}, second{};
    r = user::kernel_counters(&first);
    expect(r == 0 && first.syscalls > 0 && first.frames_sent > 0, "kernel_counters counts calls and frames", r, 0);
    r = user::kernel_counters(&second);
    expect(r == 0 && second.syscalls > first.syscalls, "kernel_counters counts its own call",
           static_cast<long>(second.syscalls - first.syscalls), 1);
    pair.close();
    user::println("nettest: efault ok");
}

void names_and_errors() {
    Pair pair;
    expect(pair.open(), "loopback pair");
    SocketAddressIn peer{};
    uint32_t length = sizeof(peer);
    long r = user::getpeername(pair.client, &peer, &length);
    expect(r == 0 && length == sizeof(peer) && peer.port == abi::host_to_network16(local_port(pair.listener)) &&
               peer.address == abi::host_to_network32(abi::InetLoopback),
           "getpeername of the client is the listener", r, 0);
    expect(local_port(pair.server) == local_port(pair.listener), "accepted socket's port", local_port(pair.server));
    // The listener's port is taken.
    int other = tcp_socket();
    SocketAddressIn same = user::loopback(local_port(pair.listener));
    r = user::bind(other, &same, sizeof(same));
    expect(r == -EADDRINUSE, "bind to a port in use", r, -EADDRINUSE);
    user::close(other);
    // Non-blocking calls.
    int nonblocking = tcp_socket(abi::SocketNonBlocking);
    SocketAddressIn any = user::loopback(0);
    user::bind(nonblocking, &any, sizeof(any));
    user::listen(nonblocking, 4);
    r = user::accept4(nonblocking, nullptr, nullptr, abi::SocketNonBlocking);
    expect(r == -EAGAIN, "accept on an idle non-blocking listener", r, -EAGAIN);
    user::close(nonblocking);
    long accepted = -1;
    {
        int listener = tcp_socket(abi::SocketNonBlocking);
        user::bind(listener, &any, sizeof(any));
        user::listen(listener, 4);
        int client = tcp_socket();
        connect_to(client, local_port(listener));
        accepted = user::accept4(listener, nullptr, nullptr, abi::SocketNonBlocking | abi::SocketCloseOnExec);
        expect(accepted >= 0, "accept4 of a waiting connection", accepted);
        char byte;
        r = user::read(static_cast<int>(accepted), &byte, 1);
        expect(r == -EAGAIN, "read on an idle non-blocking socket", r, -EAGAIN);
        // Options.
        int one = 1, value = 0;
        uint32_t size = sizeof(value);
        expect(user::setsockopt(client, abi::ProtocolTcp, abi::TcpNoDelay, &one, sizeof(one)) == 0, "TCP_NODELAY");
        expect(user::getsockopt(client, abi::ProtocolTcp, abi::TcpNoDelay, &value, &size) == 0 && value == 1,
               "TCP_NODELAY reads back", value, 1);
        expect(user::getsockopt(client, abi::SocketLevel, abi::OptionError, &value, &size) == 0 && value == 0,
               "SO_ERROR", value, 0);
        // The peer closes: end of file, then a write to a reset connection fails.
        user::close(client);
        sleep_ms(50);
        r = user::read(static_cast<int>(accepted), &byte, 1);
        expect(r == 0, "read after the peer closed gives end of file", r, 0);
        user::close(static_cast<int>(accepted));
        user::close(listener);
    }
    r = user::read(99, &length, 1);
    expect(r == -EBADF, "read of a closed descriptor", r, -EBADF);
    int pipe_fds[2];
    user::pipe2(pipe_fds);
    r = user::listen(pipe_fds[0], 1);
    expect(r == -ENOTSOCK, "listen on a pipe", r, -ENOTSOCK);
    user::close(pipe_fds[0]);
    user::close(pipe_fds[1]);
    pair.close();
    user::println("nettest: calls ok");
}

// Echo of EchoBytes through `fd` in rounds (write a round, read it back), synchronous calls.
bool echo_sync(int fd) {
    static uint8_t out[Round], in[Round];
    for (long offset = 0; offset < EchoBytes; offset += Round) {
        for (long i = 0; i < Round; ++i) out[i] = pattern(offset + i);
        if (user::write_all(fd, out, Round) != Round) return false;
        for (long got = 0; got < Round;) {
            long n = user::read(fd, in + got, static_cast<size_t>(Round - got));
            if (n <= 0) return false;
            got += n;
        }
        uint32_t sum_out = 0, sum_in = 0;
        for (long i = 0; i < Round; ++i) {
            sum_out = sum_out * 31 + out[i];
            sum_in = sum_in * 31 + in[i];
        }
        if (sum_out != sum_in) return false;
    }
    return true;
}

// The same with asynchronous calls, from a coroutine.
Task<bool> echo_async(Runtime&, int fd) {
    static uint8_t out[Round], in[Round];
    for (long offset = 0; offset < EchoBytes; offset += Round) {
        for (long i = 0; i < Round; ++i) out[i] = pattern(offset + i);
        for (long done = 0; done < Round;) {
            long n = co_await user::async_write(fd, out + done, static_cast<size_t>(Round - done));
            if (n <= 0) co_return false;
            done += n;
        }
        for (long got = 0; got < Round;) {
            long n = co_await user::async_read(fd, in + got, static_cast<size_t>(Round - got));
            if (n <= 0) co_return false;
            got += n;
        }
        uint32_t sum_out = 0, sum_in = 0;
        for (long i = 0; i < Round; ++i) {
            sum_out = sum_out * 31 + out[i];
            sum_in = sum_in * 31 + in[i];
        }
        if (sum_out != sum_in) co_return false;
    }
    co_return true;
}

// Many connections open at once, each echoing a short message.
Task<bool> many(Runtime&, uint16_t port) {
    int fds[ManyConnections];
    bool ok = true;
    for (int i = 0; i < ManyConnections; ++i) {
        fds[i] = connect_retrying(port);
        if (fds[i] < 0) {
            user::println("nettest: connection {} to port {}: {}", i, port, fds[i]);
            ok = false;
        }
    }
    for (int i = 0; i < ManyConnections && ok; ++i) {
        char message[64];
        for (int j = 0; j < 64; ++j) message[j] = static_cast<char>('A' + (i + j) % 26);
        long n = co_await user::async_write(fds[i], message, sizeof(message));
        if (n != 64) {
            user::println("nettest: write on connection {} to port {}: {}", i, port, n);
            ok = false;
        }
    }
    for (int i = 0; i < ManyConnections && ok; ++i) {
        char reply[64];
        for (long got = 0; got < 64 && ok;) {
            long n = co_await user::async_read(fds[i], reply + got, static_cast<size_t>(64 - got));
            if (n <= 0) {
                user::println("nettest: read on connection {} to port {}: {}", i, port, n);
                ok = false;
            }
            got += n;
        }
        for (int j = 0; j < 64 && ok; ++j)
            if (reply[j] != static_cast<char>('A' + (i + j) % 26)) ok = false;
    }
    for (int fd : fds)
        if (fd >= 0) user::close(fd);
    co_return ok;
}

Task<> udp(Runtime&) {
    int a = static_cast<int>(user::socket(abi::AddressFamilyInet, abi::SocketDatagram));
    int b = static_cast<int>(user::socket(abi::AddressFamilyInet, abi::SocketDatagram));
    SocketAddressIn any = user::loopback(0);
    expect(a >= 0 && b >= 0 && user::bind(a, &any, sizeof(any)) == 0, "UDP sockets");
    SocketAddressIn to_a = user::loopback(local_port(a));
    long r = user::sendto(b, "ping", 4, 0, &to_a, sizeof(to_a));
    expect(r == 4, "UDP sendto", r, 4);
    char buffer[16] = {};
    SocketAddressIn from{};
    uint32_t from_length = sizeof(from);
    r = user::recvfrom(a, buffer, sizeof(buffer), 0, &from, &from_length);
    expect(r == 4 && buffer[0] == 'p' && buffer[3] == 'g', "UDP recvfrom", r, 4);
    expect(from.port == abi::host_to_network16(local_port(b)) && from_length == sizeof(from), "UDP source address");
    // Echo back, asynchronous forms.
    r = co_await user::async_sendto(a, buffer, 4, 0, &from, sizeof(from));
    expect(r == 4, "UDP async_sendto", r, 4);
    char reply[16] = {};
    r = co_await user::async_recvfrom(b, reply, sizeof(reply));
    expect(r == 4 && reply[1] == 'i', "UDP async_recvfrom of the echo", r, 4);
    // A datagram is truncated to the buffer, and the rest is gone.
    user::sendto(b, "0123456789", 10, 0, &to_a, sizeof(to_a));
    r = user::recvfrom(a, buffer, 3);
    expect(r == 3 && buffer[2] == '2', "UDP truncation", r, 3);
    int nonblocking = static_cast<int>(user::socket(abi::AddressFamilyInet, abi::SocketDatagram | abi::SocketNonBlocking));
    user::bind(nonblocking, &any, sizeof(any));
    r = user::recvfrom(nonblocking, buffer, sizeof(buffer));
    expect(r == -EAGAIN, "UDP non-blocking recvfrom", r, -EAGAIN);
    user::close(nonblocking);
    user::close(a);
    user::close(b);
    user::println("nettest: udp ok");
}

// ---- the kernel-side model of one socket (SOL_COKERNEL, CK_NETMODEL) ----

int net_model(int fd) {
    int value = -1;
    uint32_t length = sizeof(value);
    long r = user::getsockopt(fd, abi::CokernelLevel, abi::OptionNetModel, &value, &length);
    return r == 0 ? value : static_cast<int>(r);
}

int last_call_priority(int fd) {
    int value = -1;
    uint32_t length = sizeof(value);
    long r = user::getsockopt(fd, abi::CokernelLevel, abi::OptionLastCallPriority, &value, &length);
    return r == 0 ? value : static_cast<int>(r);
}

// A connection switched to the other model by the socket option: both forms, bad buffers, end of
// file, on the server's side (its calls run on kernel threads when the boot's default is coroutines,
// and on coroutines when it is threads).
Task<> per_socket_model(Runtime&) {
    Pair pair;
    expect(pair.open(), "a connected pair for the socket option");
    int before = net_model(pair.server);
    expect(before == abi::NetModelCoroutine || before == abi::NetModelThread, "CK_NETMODEL reads", before);
    int other = before == abi::NetModelThread ? abi::NetModelCoroutine : abi::NetModelThread;
    long r = user::setsockopt(pair.server, abi::CokernelLevel, abi::OptionNetModel, &other, sizeof(other));
    expect(r == 0 && net_model(pair.server) == other, "CK_NETMODEL switches the socket's model", r);
    int bad = 7;
    r = user::setsockopt(pair.server, abi::CokernelLevel, abi::OptionNetModel, &bad, sizeof(bad));
    expect(r == -EINVAL, "CK_NETMODEL refuses an unknown model", r, -EINVAL);
    char buffer[8] = {};
    user::write(pair.client, "abc", 3);
    r = user::read(pair.server, buffer, sizeof(buffer));
    expect(r == 3 && buffer[2] == 'c', "switched model: synchronous read", r, 3);
    user::write(pair.client, "de", 2);
    r = co_await user::async_read(pair.server, buffer, sizeof(buffer));
    expect(r == 2 && buffer[1] == 'e', "switched model: asynchronous read", r, 2);
    r = co_await user::async_write(pair.server, "fgh", 3);
    expect(r == 3, "switched model: asynchronous write", r, 3);
    r = user::read(pair.client, buffer, sizeof(buffer));
    expect(r == 3 && buffer[0] == 'f', "switched model: the peer reads it", r, 3);
    auto* nowhere = reinterpret_cast<char*>(0x10);
    user::write(pair.client, "i", 1);
    r = user::read(pair.server, nowhere, 4);
    expect(r == -EFAULT, "switched model: EFAULT, synchronous", r, -EFAULT);
    r = co_await user::async_read(pair.server, nowhere, 4);
    expect(r == -EFAULT, "switched model: EFAULT, asynchronous", r, -EFAULT);
    r = co_await user::async_read(pair.server, buffer, 1);
    expect(r == 1 && buffer[0] == 'i', "switched model: a bad read consumed nothing", r, 1);
    user::close(pair.client);
    r = co_await user::async_read(pair.server, buffer, sizeof(buffer));
    expect(r == 0, "switched model: end of file", r, 0);
    user::close(pair.server);
    user::close(pair.listener);
    long limited = spawn_program("bin/nettest", "limited");
    long status = limited > 0 ? wait_status(limited) : -1;
    expect(status == 0, "kernel threads within the memory limit (nettest limited)", status, 0);
    user::println("nettest: socket option CK_NETMODEL ok (now {})", other == abi::NetModelThread ? "threads" : "coroutines");
}

// nettest limited: kernel threads are charged to the memory limit of the process whose call made
// them; one that cannot be had is -ENOMEM to the caller (a refusal for the asynchronous form), and a
// connection's idle thread serves its next call without any new charge.
Task<int> run_limited(Runtime&) {
    Pair first, second;
    if (!first.open() || !second.open()) {
        expect(false, "two connected pairs");
        co_return 1;
    }
    int thread_model = abi::NetModelThread;
    user::setsockopt(first.server, abi::CokernelLevel, abi::OptionNetModel, &thread_model, sizeof(thread_model));
    user::setsockopt(second.server, abi::CokernelLevel, abi::OptionNetModel, &thread_model, sizeof(thread_model));
    char byte = 0;
    long before = user::memory_usage();
    user::write(first.client, "a", 1);
    long r = user::read(first.server, &byte, 1);  // its kernel thread is made now
    long after = user::memory_usage();
    expect(r == 1 && byte == 'a', "a call on a kernel thread", r, 1);
    expect(after - before >= 16384, "the kernel thread is charged to the caller's memory", after - before, 16384);
    r = user::set_memory_limit(static_cast<size_t>(after + 4096));
    expect(r == 0, "set_memory_limit", r, 0);
    user::write(second.client, "b", 1);
    r = user::read(second.server, &byte, 1);
    expect(r == -ENOMEM, "no room for a new kernel thread: ENOMEM (synchronous)", r, -ENOMEM);
    r = co_await user::async_read(second.server, &byte, 1);
    expect(r == -ENOMEM, "no room for a new kernel thread: ENOMEM (asynchronous, refused)", r, -ENOMEM);
    user::write(first.client, "c", 1);
    r = co_await user::async_read(first.server, &byte, 1);
    expect(r == 1 && byte == 'c', "the connection's idle thread serves its next call", r, 1);
    int coroutine_model = abi::NetModelCoroutine;
    user::setsockopt(second.server, abi::CokernelLevel, abi::OptionNetModel, &coroutine_model, sizeof(coroutine_model));
    r = user::read(second.server, &byte, 1);
    expect(r == 1 && byte == 'b', "the byte is still there for a kernel coroutine", r, 1);
    first.close();
    second.close();
    if (failures == 0) user::println("nettest: limited ok");
    co_return failures == 0 ? 0 : 1;
}

// ---- priority reaches the kernel (nettest priority HARTS, nettest capped HARTS) ----

constexpr int LowReaders = 12;
constexpr uint32_t LowPriority = 40;
constexpr uint32_t HighPriority = 2;
constexpr int PriorityCap = 20;

// One byte read asynchronously: the byte, or the error.
Task<long> read_one(Runtime&, int fd) {
    uint8_t byte = 0;
    long r = co_await user::async_read(fd, &byte, 1);
    co_return r == 1 ? static_cast<long>(byte) : (r < 0 ? r : -1000);
}

// Sleeps (so that lower-priority coroutines run and submit) until `count` calls are in flight.
Task<bool> calls_in_flight(Runtime& runtime, uint32_t count) {
    const long deadline = now_ms() + 20'000;
    while (__atomic_load_n(&runtime.completion_ring->in_flight, __ATOMIC_ACQUIRE) < count) {
        if (now_ms() > deadline) co_return false;
        abi::Timespec pause{0, 5'000'000};
        co_await user::async_nanosleep(&pause);
    }
    co_return true;
}

// LowReaders coroutines at LowPriority and one at HighPriority wait in async_read for one byte each
// on one socket; then LowReaders + 1 bytes (0, 1, 2, ...) arrive in one segment and wake them all at
// once. The kernel serves the calls in its priority order, so the byte a reader gets is its place in
// that order: the high-priority one must get byte 0 (on one hart, where nothing runs beside the
// order; on several, harts take calls in parallel, and only the set of bytes is checked). Then one
// read at HighPriority alone: the kernel's record (CK_LAST_PRIORITY) names the priority it served,
// `expected_priority` (the cap where the process has one).
Task<int> run_priority(Runtime& runtime, long harts, int expected_priority) {
    Pair pair;
    if (!pair.open()) {
        expect(false, "a connected pair for the priority test");
        co_return 1;
    }
    user::JoinHandle<long> lows[LowReaders];
    bool low_spawned[LowReaders] = {};
    for (int i = 0; i < LowReaders; ++i) {
        auto low = user::spawn(runtime, read_one(runtime, pair.server), LowPriority);
        if (low) lows[i] = static_cast<user::JoinHandle<long>&&>(*low);
        low_spawned[i] = static_cast<bool>(low);
    }
    // The low ones submit first (the high one is spawned once they all wait).
    auto lows_waiting = co_await calls_in_flight(runtime, LowReaders);
    expect(lows_waiting && *lows_waiting, "the low-priority reads wait in the kernel");
    auto high = user::spawn(runtime, read_one(runtime, pair.server), HighPriority);
    auto high_waiting = co_await calls_in_flight(runtime, LowReaders + 1);
    expect(high_waiting && *high_waiting, "the high-priority read waits in the kernel");
    uint8_t bytes[LowReaders + 1];
    for (int i = 0; i <= LowReaders; ++i) bytes[i] = static_cast<uint8_t>(i);
    long r = user::write(pair.client, bytes, sizeof(bytes));
    expect(r == static_cast<long>(sizeof(bytes)), "write the bytes", r);
    bool seen[LowReaders + 1] = {};
    long high_byte = -1;
    if (high) {
        auto got = co_await *high;
        high_byte = got ? *got : -1;
    }
    if (high_byte >= 0 && high_byte <= LowReaders) seen[high_byte] = true;
    bool every_low = true;
    for (int i = 0; i < LowReaders; ++i) {
        long byte = -1;
        if (low_spawned[i]) {
            auto got = co_await lows[i];
            byte = got ? *got : -1;
        }
        if (byte < 0 || byte > LowReaders || seen[byte]) every_low = false;
        else seen[byte] = true;
    }
    expect(every_low && high_byte >= 0, "every reader got a byte of its own", high_byte);
    if (harts == 1)
        expect(high_byte == 0, "the high-priority call was served first in the kernel", high_byte, 0);
    user::println("nettest: priority order: the high-priority reader got byte {} of {} ({} hart(s))", high_byte,
                  LowReaders + 1, harts);
    auto alone = user::spawn(runtime, read_one(runtime, pair.server), HighPriority);
    auto alone_waiting = co_await calls_in_flight(runtime, 1);
    expect(alone_waiting && *alone_waiting, "the single read waits in the kernel");
    user::write(pair.client, "z", 1);
    long z = -1;
    if (alone) {
        auto got = co_await *alone;
        z = got ? *got : -1;
    }
    expect(z == 'z', "the single read", z, 'z');
    int served = last_call_priority(pair.server);
    expect(served == expected_priority, "the kernel served the call at the waiter's priority, clamped to the cap",
           served, expected_priority);
    user::println("nettest: priority {} served at {} (cap {})", HighPriority, served,
                  expected_priority == PriorityCap ? PriorityCap : 0);
    pair.close();
    co_return failures == 0 ? 0 : 1;
}

// The capped child: waits until its parent has set its cap, then runs the same test.
Task<int> run_capped(Runtime& runtime, long harts) {
    static abi::ProcessRecord records[256];
    const long self = user::getpid();
    const long deadline = now_ms() + 20'000;
    for (;;) {
        long count = user::process_list(records, 256);
        bool capped = false;
        for (long i = 0; i < count && i < 256; ++i)
            if (records[i].pid == static_cast<uint32_t>(self)) capped = records[i].priority_cap == PriorityCap;
        if (capped) break;
        if (now_ms() > deadline) {
            expect(false, "the parent set the cap");
            co_return 1;
        }
        sleep_ms(5);
    }
    auto ran = co_await run_priority(runtime, harts, PriorityCap);
    co_return ran ? *ran : 1;
}

Task<int> priority_tests(Runtime& runtime, long harts) {
    auto ran = co_await run_priority(runtime, harts, static_cast<int>(HighPriority));
    int status = ran ? *ran : 1;
    char harts_text[8];
    int n = 0;
    for (long h = harts > 0 && harts < 1000 ? harts : 1; h; h /= 10) harts_text[n++] = static_cast<char>('0' + h % 10);
    char reversed[8];
    for (int i = 0; i < n; ++i) reversed[i] = harts_text[n - 1 - i];
    reversed[n] = 0;
    long child = spawn_program("bin/nettest", "capped", reversed);
    long capped = child > 0 ? user::set_priority_cap(child, PriorityCap) : child;
    expect(child > 0 && capped == 0, "spawn the capped child and set its cap", capped);
    long child_status = child > 0 ? wait_status(child) : -1;
    expect(child_status == 0, "the capped child's checks", child_status, 0);
    if (failures == 0) user::println("nettest: priority ok");
    co_return status == 0 && failures == 0 ? 0 : 1;
}

int run_hold(uint16_t port) {
    int fd = connect_retrying(port);
    if (fd < 0) return 1;
    static uint8_t chunk[8192];
    user::println("nettest: holding");
    for (;;)
        if (user::write(fd, chunk, sizeof(chunk)) < 0) return 1;
}

int run_client(const char* host, uint16_t port, long bytes) {
    SocketAddressIn address = user::inet_address(0, port);
    if (!user::parse_ipv4(host, address.address)) return 2;
    int fd = tcp_socket();
    long r = user::connect(fd, &address, sizeof(address));
    if (r != 0) {
        user::println("nettest: client: connect to {} port {}: {}", host, port, r);
        return 1;
    }
    static uint8_t block[16384];
    for (long offset = 0; offset < bytes; offset += static_cast<long>(sizeof(block))) {
        long n = bytes - offset < static_cast<long>(sizeof(block)) ? bytes - offset : static_cast<long>(sizeof(block));
        for (long i = 0; i < n; ++i) block[i] = pattern(offset + i);
        if (long w = user::write_all(fd, block, n); w != n) {
            user::println("nettest: client: write: {}", w);
            return 1;
        }
    }
    user::shutdown(fd, abi::ShutdownWrite);
    long got = 0, wrong = 0;
    for (;;) {
        long n = user::read(fd, block, sizeof(block));
        if (n < 0) {
            user::println("nettest: client: read: {}", n);
            return 1;
        }
        if (n == 0) break;
        for (long i = 0; i < n; ++i)
            if (block[i] != static_cast<uint8_t>(pattern(got + i) ^ 0x5a)) ++wrong;
        got += n;
    }
    user::close(fd);
    bool ok = got == bytes && wrong == 0;
    user::println("nettest: client {}: sent {} bytes, received {} ({} wrong)", ok ? "ok" : "FAILED", bytes, got, wrong);
    return ok ? 0 : 1;
}

int run_warm() {
    Pair pairs[24];
    for (auto& pair : pairs)
        if (!pair.open()) return 1;
    // One call on each kernel-side model (the runner and worker records of the thread model too).
    for (int model : {abi::NetModelCoroutine, abi::NetModelThread}) {
        char byte = 0;
        user::setsockopt(pairs[0].server, abi::CokernelLevel, abi::OptionNetModel, &model, sizeof(model));
        if (user::write(pairs[0].client, "w", 1) != 1 || user::read(pairs[0].server, &byte, 1) != 1) return 1;
    }
    for (auto& pair : pairs) pair.close();
    int u = static_cast<int>(user::socket(abi::AddressFamilyInet, abi::SocketDatagram));
    user::close(u);
    return 0;
}

} // namespace

// The mode is the whole first argument ("capped" and "client" share their first letter).
bool mode_is(int argc, char** argv, const char* mode) {
    if (argc < 2) return false;
    const char* given = argv[1];
    while (*given && *given == *mode) ++given, ++mode;
    return *given == 0 && *mode == 0;
}

Task<int> async_main(Runtime& runtime, int argc, char** argv) {
    if (mode_is(argc, argv, "warm")) co_return run_warm();
    if (argc > 2 && mode_is(argc, argv, "hold")) co_return run_hold(static_cast<uint16_t>(user::parse_decimal(argv[2])));
    if (mode_is(argc, argv, "limited")) {
        auto ran = co_await run_limited(runtime);
        co_return ran ? *ran : 1;
    }
    if (argc > 2 && (mode_is(argc, argv, "priority") || mode_is(argc, argv, "capped"))) {
        long harts = user::parse_decimal(argv[2]);
        auto ran = mode_is(argc, argv, "priority") ? co_await priority_tests(runtime, harts) : co_await run_capped(runtime, harts);
        co_return ran ? *ran : 1;
    }
    if (argc > 4 && mode_is(argc, argv, "client"))
        co_return run_client(argv[2], static_cast<uint16_t>(user::parse_decimal(argv[3])), user::parse_decimal(argv[4]));
    if (argc > 1) {
        user::println("usage: nettest [warm | hold PORT | limited | priority HARTS | capped HARTS | client A.B.C.D PORT BYTES]");
        co_return 2;
    }

    co_await refused(runtime);
    co_await bad_pointers(runtime);
    names_and_errors();
    co_await udp(runtime);
    co_await per_socket_model(runtime);

    long sync_server = spawn_program("bin/echo-server", "7001");
    long async_server = spawn_program("bin/echo-server", "--async", "7002");
    expect(sync_server > 0 && async_server > 0, "spawn the echo servers", sync_server);

    long start = now_ms();
    int fd = connect_retrying(SyncServerPort);
    expect(fd >= 0, "connect to the threaded echo server", fd);
    if (fd >= 0) {
        expect(echo_sync(fd), "4 MiB echo through the threaded server, synchronous calls");
        user::close(fd);
    }
    user::println("nettest: echo threads ok ({} ms)", now_ms() - start);
    start = now_ms();
    fd = connect_retrying(AsyncServerPort);
    expect(fd >= 0, "connect to the coroutine echo server", fd);
    if (fd >= 0) {
        auto echoed = co_await echo_async(runtime, fd);
        expect(echoed && *echoed, "4 MiB echo through the coroutine server, asynchronous calls");
        user::close(fd);
    }
    user::println("nettest: echo coroutines ok ({} ms)", now_ms() - start);

    auto many_async = co_await many(runtime, AsyncServerPort);
    expect(many_async && *many_async, "32 connections at once to the coroutine server");
    auto many_threads = co_await many(runtime, SyncServerPort);
    expect(many_threads && *many_threads, "32 connections at once to the threaded server");
    user::println("nettest: many ok");

    // A client killed while it writes: its socket is closed (reset), the server goes on.
    long holder = spawn_program("bin/nettest", "hold", "7001");
    sleep_ms(500);
    expect(user::kill(holder, 9) == 0, "kill the holding client");
    long status = wait_status(holder);
    expect(status != 0, "the holding client was killed", status);
    fd = connect_retrying(SyncServerPort);
    expect(fd >= 0 && user::write(fd, "x", 1) == 1, "the server still serves");
    char byte = 0;
    expect(fd >= 0 && user::read(fd, &byte, 1) == 1 && byte == 'x', "echo after the kill");
    user::close(fd);
    user::println("nettest: kill ok");

    user::kill(sync_server, 9);
    user::kill(async_server, 9);
    wait_status(sync_server);
    wait_status(async_server);
    if (failures == 0) user::println("nettest: ok");
    co_return failures == 0 ? 0 : 1;
}
