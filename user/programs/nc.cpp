// nc HOST PORT: a netcat-like TCP client. Connects to HOST (a dotted IPv4 address) on PORT, sends
// what it reads from standard input, prints what comes back. At the end of its input it shuts its
// sending side down and prints replies until the peer closes. When the peer closes (or resets) the
// connection, nc ends, even if its input has not: from the console there is no end of input.
#include "user/lib/format.hpp"
#include "user/lib/net.hpp"

namespace {

namespace abi = cokernel::abi;

constexpr size_t StackBytes = 64 * 1024;
int socket_fd = -1;
int printer_tid = 0;

// Socket -> standard output, on a thread of its own, until the peer closes.
int print_replies(void*) {
    char buffer[4096];
    for (;;) {
        long n = user::read(socket_fd, buffer, sizeof(buffer));
        if (n <= 0) {
            if (n < 0) user::println("nc: read: {}", n);
            else user::println("nc: closed by the peer");
            user::exit_group(n < 0 ? 1 : 0);
        }
        user::write_all(1, buffer, n);
    }
}

} // namespace

int main(int argc, char** argv) {
    if (argc != 3) {
        user::println("usage: nc HOST PORT");
        return 2;
    }
    uint32_t host = 0;
    if (!user::parse_ipv4(argv[1], host)) {
        user::println("nc: {}: not an IPv4 address", argv[1]);
        return 2;
    }
    user::SocketAddressIn address{};
    address.family = abi::AddressFamilyInet;
    address.port = abi::host_to_network16(static_cast<uint16_t>(user::parse_decimal(argv[2])));
    address.address = host;
    socket_fd = static_cast<int>(user::socket(abi::AddressFamilyInet, abi::SocketStream));
    if (socket_fd < 0) {
        user::println("nc: socket: {}", socket_fd);
        return 1;
    }
    if (long r = user::connect(socket_fd, &address, sizeof(address)); r < 0) {
        user::println("nc: connect to {} port {}: {}", argv[1], argv[2], r);
        return 1;
    }
    long stack = user::mmap(0, StackBytes, user::PROT_READ | user::PROT_WRITE, user::MAP_PRIVATE | user::MAP_ANONYMOUS);
    if (stack < 0 || user::spawn_thread(print_replies, nullptr, reinterpret_cast<void*>(stack + StackBytes), &printer_tid) <= 0) {
        user::println("nc: no thread for replies");
        return 1;
    }
    char line[1024];
    for (;;) {
        long n = user::read(0, line, sizeof(line));
        if (n <= 0) break;
        if (user::write_all(socket_fd, line, n) != n) break;
    }
    user::shutdown(socket_fd, abi::ShutdownWrite);
    user::join_thread(&printer_tid);
    user::close(socket_fd);
    return 0;
}
