// Small helpers for the network programs (echo-server, nc, nettest): IPv4 addresses and ports in
// the Linux sockaddr_in layout (abi/socket.hpp).
#pragma once

#include "user/lib/syscall.hpp"

#include "abi/socket.hpp"
#include "user/lib/print.hpp"

namespace user {

using cokernel::abi::SocketAddressIn;

// "a.b.c.d" into network order; false when malformed.
inline bool parse_ipv4(const char* text, uint32_t& out) {
    uint32_t value = 0;
    for (int part = 0; part < 4; ++part) {
        if (*text < '0' || *text > '9') return false;
        uint32_t byte = 0;
        while (*text >= '0' && *text <= '9') byte = byte * 10 + static_cast<uint32_t>(*text++ - '0');
        if (byte > 255) return false;
        value = value << 8 | byte;
        if (part < 3 && *text++ != '.') return false;
    }
    if (*text) return false;
    out = cokernel::abi::host_to_network32(value);
    return true;
}

inline SocketAddressIn inet_address(uint32_t host_order_address, uint16_t port) {
    SocketAddressIn address{};
    address.family = cokernel::abi::AddressFamilyInet;
    address.port = cokernel::abi::host_to_network16(port);
    address.address = cokernel::abi::host_to_network32(host_order_address);
    return address;
}

inline SocketAddressIn loopback(uint16_t port) { return inet_address(cokernel::abi::InetLoopback, port); }

// Writes all of [data, data + length); the count written, or the first error.
inline long write_all(int fd, const void* data, long length) {
    long done = 0;
    while (done < length) {
        long n = write(fd, static_cast<const char*>(data) + done, static_cast<size_t>(length - done));
        if (n <= 0) return n < 0 ? n : -1;
        done += n;
    }
    return done;
}

} // namespace user
