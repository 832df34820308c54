// Sockets as Linux riscv64 defines them (sys/socket.h, netinet/in.h, netinet/tcp.h): the address
// structure and the constants of socket, setsockopt and shutdown, for the kernel and the user runtime
// alike (docs/network.md, "Sockets").
#pragma once

#include <cstdint>

namespace cokernel::abi {

// struct sockaddr_in: port and address in network byte order.
struct SocketAddressIn {
    uint16_t family;
    uint16_t port;
    uint32_t address;
    uint8_t zero[8];
};
static_assert(sizeof(SocketAddressIn) == 16);

constexpr int AddressFamilyInet = 2;          // AF_INET
constexpr int SocketStream = 1;               // SOCK_STREAM
constexpr int SocketDatagram = 2;             // SOCK_DGRAM
constexpr int SocketNonBlocking = 04000;      // SOCK_NONBLOCK (O_NONBLOCK)
constexpr int SocketCloseOnExec = 02000000;   // SOCK_CLOEXEC (O_CLOEXEC)
constexpr int ProtocolTcp = 6;                // IPPROTO_TCP
constexpr int ProtocolUdp = 17;               // IPPROTO_UDP

constexpr int SocketLevel = 1;                // SOL_SOCKET
constexpr int OptionReuseAddress = 2;         // SO_REUSEADDR
constexpr int OptionType = 3;                 // SO_TYPE
constexpr int OptionError = 4;                // SO_ERROR
constexpr int OptionKeepAlive = 9;            // SO_KEEPALIVE
constexpr int OptionSendBuffer = 7;           // SO_SNDBUF
constexpr int OptionReceiveBuffer = 8;        // SO_RCVBUF
constexpr int TcpNoDelay = 1;                 // TCP_NODELAY (level IPPROTO_TCP)
// The project's own level (no Linux meaning; docs/network.md, "Two kernel-side models"):
constexpr int CokernelLevel = 0x636b;         // SOL_COKERNEL
constexpr int OptionNetModel = 1;             // CK_NETMODEL: 0 kernel coroutines, 1 kernel threads (set, get)
constexpr int OptionLastCallPriority = 2;     // CK_LAST_PRIORITY: get only: the user priority (clamped)
                                              // the kernel served the socket's latest finished wait at
constexpr int NetModelCoroutine = 0;
constexpr int NetModelThread = 1;

constexpr int ShutdownRead = 0;               // SHUT_RD
constexpr int ShutdownWrite = 1;              // SHUT_WR
constexpr int ShutdownBoth = 2;               // SHUT_RDWR

constexpr uint32_t InetLoopback = 0x7f000001;  // 127.0.0.1, host byte order

constexpr uint16_t host_to_network16(uint16_t value) { return static_cast<uint16_t>((value << 8) | (value >> 8)); }
constexpr uint32_t host_to_network32(uint32_t value) { return __builtin_bswap32(value); }

} // namespace cokernel::abi
