// echo-server [--async] [--udp | --close-after N | --discard | --source] PORT: a TCP (or UDP) server
// on 0.0.0.0:PORT (docs/network.md).
//
//   echo-server PORT          one thread per connection, each blocking in read and write
//   echo-server --async PORT  one coroutine per connection on the process's executor, with the
//                             asynchronous accept/read/write (co_await user::async_read, ...)
//
// What each connection gets (the same in both forms):
//   (default)        its bytes echoed back until it closes
//   --close-after N  its first N bytes echoed back, then the server closes (the guest closes first)
//   --discard        what it sends is read and dropped; at its end of file the server writes the
//                    count in decimal and a newline, then closes (host->guest throughput)
//   --source         an endless stream of bytes, until a write fails (guest->host throughput)
//   --udp            no connections: every datagram is sent back to where it came from
//
// Prints "echo-server: listening on PORT (pid PID)" once it serves, and a line for each connection that ends
// with an error ("echo-server: read: -104" for a reset). Runs until killed.
#include "user/lib/async.hpp"
#include "user/lib/format.hpp"
#include "user/lib/malloc.hpp"
#include "user/lib/net.hpp"
#include "user/lib/runtime.hpp"

// Coroutines: each connection has one read (or write) waiting in the kernel, the listener an accept;
// the default 64 calls in flight would refuse the 65th connection's read with -EAGAIN. 512 is twice
// what the host tests hold open (within a process's share of the work executor, 1,536:
// docs/reliability.md); past it a call is retried.
namespace user {
extern const uint32_t completion_ring_capacity = 512;
extern const uint32_t async_calls_in_flight_limit = 512;
} // namespace user

using user::Runtime;
using user::Task;

namespace {

namespace abi = cokernel::abi;

constexpr size_t BufferBytes = 16384;
constexpr size_t StackBytes = 64 * 1024;
// One thread per connection, and the host tests hold 256 connections open at once: 512 threads (twice
// that). A thread costs its 64 KiB stack
// (reserved; the pages it touches, about 20 KiB, are taken) and a kernel stack of 16 KiB.
constexpr int MaxThreads = 512;
constexpr size_t DatagramBytes = 65536;

enum class Mode { Echo, CloseAfter, Discard, Source, Udp };
Mode mode = Mode::Echo;
long close_after = 0;

void report(const char* what, long result) {
    if (result < 0) user::println("echo-server: {}: {}", what, result);
}

int open_socket(long port) {
    bool udp = mode == Mode::Udp;
    int fd = static_cast<int>(
        user::socket(abi::AddressFamilyInet, (udp ? abi::SocketDatagram : abi::SocketStream) | abi::SocketCloseOnExec));
    if (fd < 0) {
        user::println("echo-server: socket: {}", fd);
        return fd;
    }
    int one = 1;
    user::setsockopt(fd, abi::SocketLevel, abi::OptionReuseAddress, &one, sizeof(one));
    user::SocketAddressIn address = user::inet_address(0, static_cast<uint16_t>(port));
    if (long r = user::bind(fd, &address, sizeof(address)); r < 0) {
        user::println("echo-server: bind to port {}: {}", port, r);
        return static_cast<int>(r);
    }
    if (!udp) {
        if (long r = user::listen(fd, 128); r < 0) {
            user::println("echo-server: listen: {}", r);
            return static_cast<int>(r);
        }
    }
    user::println("echo-server: listening on {}{} (pid {})", port, udp ? " udp" : "", user::getpid());
    return fd;
}

// The --source stream: this block of bytes, again and again.
void fill_source(char* block) {
    for (size_t i = 0; i < BufferBytes; ++i) block[i] = static_cast<char>('a' + i % 26);
}

// The count line of --discard, into `text` (at least 24 bytes); its length.
size_t count_line(long count, char* text) {
    char digits[21];
    const char* d = user::decimal_text(static_cast<unsigned long>(count), digits);
    size_t n = 0;
    while (d[n]) {
        text[n] = d[n];
        ++n;
    }
    text[n++] = '\n';
    return n;
}

// ---- Threads: one per connection. ----

struct ThreadSlot {
    int tid_word = 0;  // the thread's id while it runs (CLONE_CHILD_CLEARTID clears it)
    long stack = 0;
    int fd = -1;
};
ThreadSlot slots[MaxThreads];

void serve_sync(int fd) {
    static_assert(BufferBytes <= StackBytes / 2);
    char buffer[BufferBytes];
    if (mode == Mode::Source) {
        fill_source(buffer);
        for (;;) {
            long w = user::write_all(fd, buffer, BufferBytes);
            if (w != static_cast<long>(BufferBytes)) {
                report("write", w);
                return;
            }
        }
    }
    long total = 0;
    for (;;) {
        size_t want = sizeof(buffer);
        if (mode == Mode::CloseAfter) {
            if (total >= close_after) return;
            if (static_cast<long>(want) > close_after - total) want = static_cast<size_t>(close_after - total);
        }
        long n = user::read(fd, buffer, want);
        if (n < 0) {
            report("read", n);
            return;
        }
        if (n == 0) break;
        total += n;
        if (mode == Mode::Discard) continue;
        if (long w = user::write_all(fd, buffer, n); w != n) {
            report("write", w);
            return;
        }
    }
    if (mode == Mode::Discard) {
        char text[24];
        size_t length = count_line(total, text);
        report("write", user::write_all(fd, text, length));
    }
}

int serve_connection(void* argument) {
    auto* slot = static_cast<ThreadSlot*>(argument);
    serve_sync(slot->fd);
    user::close(slot->fd);
    return 0;
}

int run_threads(int listener) {
    for (;;) {
        long fd = user::accept(listener);
        if (fd < 0) {
            if (fd == -EMFILE || fd == -ENOBUFS || fd == -ENOMEM) continue;
            user::println("echo-server: accept: {}", fd);
            return 1;
        }
        ThreadSlot* slot = nullptr;
        for (auto& candidate : slots)
            if (__atomic_load_n(&candidate.tid_word, __ATOMIC_ACQUIRE) == 0) {
                slot = &candidate;
                break;
            }
        if (!slot) {  // every thread busy: refuse this connection
            user::println("echo-server: all {} threads busy: connection refused", MaxThreads);
            user::close(static_cast<int>(fd));
            continue;
        }
        if (!slot->stack) {
            slot->stack = user::mmap(0, StackBytes, user::PROT_READ | user::PROT_WRITE, user::MAP_PRIVATE | user::MAP_ANONYMOUS);
            if (slot->stack < 0) {
                slot->stack = 0;
                user::close(static_cast<int>(fd));
                continue;
            }
        }
        slot->fd = static_cast<int>(fd);
        if (user::spawn_thread(serve_connection, slot, reinterpret_cast<void*>(slot->stack + StackBytes), &slot->tid_word) <= 0)
            user::close(static_cast<int>(fd));
    }
}

int run_udp_sync(int fd) {
    static char datagram[DatagramBytes];
    for (;;) {
        user::SocketAddressIn from{};
        uint32_t length = sizeof(from);
        long n = user::recvfrom(fd, datagram, sizeof(datagram), 0, &from, &length);
        if (n < 0) {
            report("recvfrom", n);
            continue;
        }
        report("sendto", user::sendto(fd, datagram, static_cast<size_t>(n), 0, &from, sizeof(from)));
    }
}

// ---- Coroutines: one per connection, asynchronous calls. ----

Task<long> write_all_async(Runtime&, int fd, const char* data, long n) {
    long done = 0;
    while (done < n) {
        long w = co_await user::async_write(fd, data + done, static_cast<size_t>(n - done));
        if (w == -EAGAIN) {  // no call slot free: every one is with another connection
            co_await user::yield_now();
            continue;
        }
        if (w <= 0) co_return w;
        done += w;
    }
    co_return done;
}

Task<> echo_connection(Runtime& runtime, int fd) {
    char* buffer = static_cast<char*>(user::malloc(BufferBytes));
    long total = 0;
    if (buffer && mode == Mode::Source) {
        fill_source(buffer);
        for (;;) {
            auto w = co_await write_all_async(runtime, fd, buffer, BufferBytes);
            if (!w || *w != static_cast<long>(BufferBytes)) {
                report("write", w ? *w : -ENOMEM);
                break;
            }
        }
    } else {
        while (buffer) {
            size_t want = BufferBytes;
            if (mode == Mode::CloseAfter) {
                if (total >= close_after) break;
                if (static_cast<long>(want) > close_after - total) want = static_cast<size_t>(close_after - total);
            }
            long n = co_await user::async_read(fd, buffer, want);
            if (n == -EAGAIN) {  // no call slot free (the socket is blocking: never "no data")
                co_await user::yield_now();
                continue;
            }
            if (n <= 0) {
                report("read", n);
                if (n == 0 && mode == Mode::Discard) {
                    char text[24];
                    size_t length = count_line(total, text);
                    auto w = co_await write_all_async(runtime, fd, text, static_cast<long>(length));
                    report("write", w ? *w : -ENOMEM);
                }
                break;
            }
            total += n;
            if (mode == Mode::Discard) continue;
            auto w = co_await write_all_async(runtime, fd, buffer, n);
            if (!w || *w != n) {
                report("write", w ? *w : -ENOMEM);
                break;
            }
        }
    }
    user::free(buffer);
    user::close(fd);
}

Task<int> run_udp_async(Runtime&, int fd) {
    static char datagram[DatagramBytes];
    for (;;) {
        user::SocketAddressIn from{};
        uint32_t length = sizeof(from);
        long n = co_await user::async_recvfrom(fd, datagram, sizeof(datagram), 0, &from, &length);
        if (n == -EAGAIN) {
            co_await user::yield_now();
            continue;
        }
        if (n < 0) {
            report("recvfrom", n);
            continue;
        }
        report("sendto", co_await user::async_sendto(fd, datagram, static_cast<size_t>(n), 0, &from, sizeof(from)));
    }
}

bool equal(const char* a, const char* b) {
    while (*a && *a == *b) ++a, ++b;
    return *a == *b;
}

} // namespace

Task<int> async_main(Runtime& runtime, int argc, char** argv) {
    bool async = false;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; ++i) {
        if (equal(argv[i], "--async")) async = true;
        else if (equal(argv[i], "--udp")) mode = Mode::Udp;
        else if (equal(argv[i], "--discard")) mode = Mode::Discard;
        else if (equal(argv[i], "--source")) mode = Mode::Source;
        else if (equal(argv[i], "--close-after") && i + 1 < argc) {
            mode = Mode::CloseAfter;
            close_after = user::parse_decimal(argv[++i]);
        } else break;
    }
    if (i + 1 != argc) {
        user::println("usage: echo-server [--async] [--udp | --close-after N | --discard | --source] PORT");
        co_return 2;
    }
    long port = user::parse_decimal(argv[i]);
    int fd = open_socket(port);
    if (fd < 0) co_return 1;
    if (mode == Mode::Udp) {
        if (!async) co_return run_udp_sync(fd);
        auto result = co_await run_udp_async(runtime, fd);
        co_return result ? *result : 1;
    }
    if (!async) co_return run_threads(fd);
    user::add_poll_threads(runtime, 1);
    for (;;) {
        long connection = co_await user::async_accept(fd);
        if (connection < 0) {
            if (connection == -EMFILE || connection == -ENOBUFS || connection == -ENOMEM || connection == -EAGAIN) {
                co_await user::yield_now();
                continue;
            }
            user::println("echo-server: accept: {}", connection);
            co_return 1;
        }
        auto handle = user::spawn(runtime, echo_connection(runtime, static_cast<int>(connection)), user::DefaultPriority);
        if (!handle) user::close(static_cast<int>(connection));
    }
}
