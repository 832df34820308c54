// echo-server [--async] PORT: a TCP echo server on 0.0.0.0:PORT (docs/network.md).
//
//   echo-server PORT          one thread per connection, each blocking in read and write
//   echo-server --async PORT  one coroutine per connection on the process's executor, with the
//                             asynchronous accept/read/write (co_await user::async_read, ...)
//
// Prints "echo-server: listening on PORT" once it accepts connections. Runs until killed.
#include "user/lib/async.hpp"
#include "user/lib/format.hpp"
#include "user/lib/malloc.hpp"
#include "user/lib/net.hpp"
#include "user/lib/runtime.hpp"

using user::Runtime;
using user::Task;

namespace {

namespace abi = cokernel::abi;

constexpr size_t BufferBytes = 16384;
constexpr size_t StackBytes = 64 * 1024;
constexpr int MaxThreads = 128;

int listen_on(long port) {
    int fd = static_cast<int>(user::socket(abi::AddressFamilyInet, abi::SocketStream | abi::SocketCloseOnExec));
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
    if (long r = user::listen(fd, 128); r < 0) {
        user::println("echo-server: listen: {}", r);
        return static_cast<int>(r);
    }
    user::println("echo-server: listening on {}", port);
    return fd;
}

// ---- Threads: one per connection. ----

struct ThreadSlot {
    int tid_word = 0;  // the thread's id while it runs (CLONE_CHILD_CLEARTID clears it)
    long stack = 0;
    int fd = -1;
};
ThreadSlot slots[MaxThreads];

int serve_connection(void* argument) {
    auto* slot = static_cast<ThreadSlot*>(argument);
    static_assert(BufferBytes <= StackBytes / 2);
    char buffer[BufferBytes];
    for (;;) {
        long n = user::read(slot->fd, buffer, sizeof(buffer));
        if (n <= 0) break;
        if (user::write_all(slot->fd, buffer, n) != n) break;
    }
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

// ---- Coroutines: one per connection, asynchronous calls. ----

Task<> echo_connection(Runtime&, int fd) {
    char* buffer = static_cast<char*>(user::malloc(BufferBytes));
    while (buffer) {
        long n = co_await user::async_read(fd, buffer, BufferBytes);
        if (n <= 0) break;
        long done = 0;
        while (done < n) {
            long w = co_await user::async_write(fd, buffer + done, static_cast<size_t>(n - done));
            if (w <= 0) break;
            done += w;
        }
        if (done < n) break;
    }
    user::free(buffer);
    user::close(fd);
}

} // namespace

Task<int> async_main(Runtime& runtime, int argc, char** argv) {
    bool async = argc > 1 && argv[1][0] == '-' && argv[1][1] == '-' && argv[1][2] == 'a';
    int port_index = async ? 2 : 1;
    if (argc <= port_index) {
        user::println("usage: echo-server [--async] PORT");
        co_return 2;
    }
    long port = user::parse_decimal(argv[port_index]);
    int listener = listen_on(port);
    if (listener < 0) co_return 1;
    if (!async) co_return run_threads(listener);
    user::add_poll_threads(runtime, 1);
    for (;;) {
        long fd = co_await user::async_accept(listener);
        if (fd < 0) {
            if (fd == -EMFILE || fd == -ENOBUFS || fd == -ENOMEM || fd == -EAGAIN) {
                co_await user::yield_now();
                continue;
            }
            user::println("echo-server: accept: {}", fd);
            co_return 1;
        }
        auto handle = user::spawn(runtime, echo_connection(runtime, static_cast<int>(fd)), user::DefaultPriority);
        if (!handle) user::close(static_cast<int>(fd));
    }
}
