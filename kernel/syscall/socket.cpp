// System calls of the socket family (Linux riscv64 numbers, docs/network.md "Sockets"): they decode
// their registers, find the socket and leave the work to it (kernel/file/socket.cpp).
#include "abi/socket.hpp"
#include "kernel/file/socket.hpp"
#include "kernel/net/stack.hpp"
#include "kernel/proc/process.hpp"
#include "kernel/syscall/call.hpp"
#include "kernel/syscall/dispatch.hpp"
#include "kernel/syscall/handlers.hpp"

namespace kernel::proc {

namespace abi = cokernel::abi;

namespace {

// The socket in slot `fd` with a reference (release() it), or nullptr and the error in *error.
Socket* socket_of(Process& process, uint64_t fd, long* error) {
    File* file = process.files.get(static_cast<int64_t>(fd));
    if (!file) {
        *error = -Errno::BadFile;
        return nullptr;
    }
    Socket* socket = file->as_socket();
    if (!socket) {
        file->release();
        *error = -Errno::NotSocket;
    }
    return socket;
}

// A socket call that may wait: the call holds the socket (one reference) until it ends.
template <typename Operation>
Call with_socket(CallMemory& memory, Process& process, uint64_t fd, Operation operation) {
    long error = 0;
    Socket* socket = socket_of(process, fd, &error);
    if (!socket) return finished_call(memory, error);
    Call call = operation(*socket);
    if (!call.valid()) {
        socket->release();
        return call;
    }
    call.hold(*socket);
    socket->route(call);  // the thread model: the socket's kernel threads run it
    return call;
}

// A sockaddr_in from the user: -EFAULT, -EINVAL for a short length.
long read_address(const AddressSpace& space, uint64_t address, uint64_t length, abi::SocketAddressIn& out) {
    if (length < sizeof(out)) return -Errno::Invalid;
    if (!space.copy_from_user(&out, address, sizeof(out))) return -Errno::Fault;
    return 0;
}

long sync_name(Thread& thread, SyscallArguments a, bool peer) {
    long error = 0;
    Socket* socket = socket_of(*thread.process, a[0], &error);
    if (!socket) return error;
    const AddressSpace& space = thread.process->address_space;
    abi::SocketAddressIn name{};
    long result = socket->name(name, peer);
    socket->release();
    if (result) return result;
    uint32_t length = 0;
    if (!space.copy_from_user(&length, a[2], sizeof(length))) return -Errno::Fault;
    if (static_cast<int32_t>(length) < 0) return -Errno::Invalid;
    if (!space.copy_to_user(a[1], &name, length < sizeof(name) ? length : sizeof(name))) return -Errno::Fault;
    length = sizeof(name);
    if (!space.copy_to_user(a[2], &length, sizeof(length))) return -Errno::Fault;
    return 0;
}

} // namespace

// socket(domain, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol)
long sys_socket(Thread& thread, SyscallArguments a) {
    int domain = static_cast<int>(a[0]), type = static_cast<int>(a[1]), protocol = static_cast<int>(a[2]);
    if (domain != abi::AddressFamilyInet) return -Errno::FamilyNotSupported;
    int flags = type & (abi::SocketNonBlocking | abi::SocketCloseOnExec);
    type &= ~(abi::SocketNonBlocking | abi::SocketCloseOnExec);
    SocketType kind;
    if (type == abi::SocketStream && (protocol == 0 || protocol == abi::ProtocolTcp)) kind = SocketType::Stream;
    else if (type == abi::SocketDatagram && (protocol == 0 || protocol == abi::ProtocolUdp)) kind = SocketType::Datagram;
    else if (type == abi::SocketStream || type == abi::SocketDatagram) return -Errno::ProtocolNotSupported;
    else return -Errno::Invalid;
    auto made = create_socket(*thread.process, kind, flags & abi::SocketNonBlocking);
    if (!made) {
        if (made.error() == Error::Unsupported) return -Errno::NetworkDown;
        return made.error() == Error::NotFound ? -Errno::NoBuffers : -Errno::NoMemory;
    }
    auto fd = thread.process->files.install(**made, flags & abi::SocketCloseOnExec);
    if (!fd) return -Errno::TooManyFiles;
    return *fd;
}

// bind(fd, address, length)
long sys_bind(Thread& thread, SyscallArguments a) {
    abi::SocketAddressIn address;
    if (long error = read_address(thread.process->address_space, a[1], a[2], address)) return error;
    long error = 0;
    Socket* socket = socket_of(*thread.process, a[0], &error);
    if (!socket) return error;
    long result = socket->bind(address);
    socket->release();
    return result;
}

// listen(fd, backlog)
long sys_listen(Thread& thread, SyscallArguments a) {
    long error = 0;
    Socket* socket = socket_of(*thread.process, a[0], &error);
    if (!socket) return error;
    long result = socket->listen(static_cast<int>(a[1]));
    socket->release();
    return result;
}

// accept4(fd, address, length, flags)
Call sys_accept4(CallMemory& memory, Process& process, CallArguments a) {
    return with_socket(memory, process, a[0], [&](Socket& socket) {
        return socket.accept(memory, process, a[1], a[2], static_cast<int>(a[3]));
    });
}

// accept(fd, address, length): accept4 with no flags.
Call sys_accept(CallMemory& memory, Process& process, CallArguments a) {
    return with_socket(memory, process, a[0], [&](Socket& socket) { return socket.accept(memory, process, a[1], a[2], 0); });
}

// connect(fd, address, length)
Call sys_connect(CallMemory& memory, Process& process, CallArguments a) {
    abi::SocketAddressIn address;
    if (long error = read_address(process.address_space, a[1], a[2], address)) return finished_call(memory, error);
    return with_socket(memory, process, a[0], [&](Socket& socket) { return socket.connect(memory, process, address); });
}

// getsockname(fd, address, length), getpeername(fd, address, length)
long sys_getsockname(Thread& thread, SyscallArguments a) { return sync_name(thread, a, false); }
long sys_getpeername(Thread& thread, SyscallArguments a) { return sync_name(thread, a, true); }

// sendto(fd, buffer, length, flags, address, address_length): flags are ignored (MSG_NOSIGNAL is
// what every send does here: there are no signals).
Call sys_sendto(CallMemory& memory, Process& process, CallArguments a) {
    return with_socket(memory, process, a[0], [&](Socket& socket) {
        return socket.send_to(memory, process, a[1], a[2], a[4], a[5]);
    });
}

// recvfrom(fd, buffer, length, flags, address, address_length): flags are ignored.
Call sys_recvfrom(CallMemory& memory, Process& process, CallArguments a) {
    return with_socket(memory, process, a[0], [&](Socket& socket) {
        return socket.receive_from(memory, process, a[1], a[2], a[4], a[5]);
    });
}

// setsockopt(fd, level, option, value, length): int options only.
long sys_setsockopt(Thread& thread, SyscallArguments a) {
    if (a[4] < sizeof(int)) return -Errno::Invalid;
    int value = 0;
    if (!thread.process->address_space.copy_from_user(&value, a[3], sizeof(value))) return -Errno::Fault;
    long error = 0;
    Socket* socket = socket_of(*thread.process, a[0], &error);
    if (!socket) return error;
    long result = socket->set_option(static_cast<int>(a[1]), static_cast<int>(a[2]), value);
    socket->release();
    return result;
}

// getsockopt(fd, level, option, value, length)
long sys_getsockopt(Thread& thread, SyscallArguments a) {
    const AddressSpace& space = thread.process->address_space;
    uint32_t length = 0;
    if (!space.copy_from_user(&length, a[4], sizeof(length))) return -Errno::Fault;
    if (length < sizeof(int)) return -Errno::Invalid;
    if (!space.check_user_range(a[3], sizeof(int), Access::Write)) return -Errno::Fault;
    long error = 0;
    Socket* socket = socket_of(*thread.process, a[0], &error);
    if (!socket) return error;
    int value = 0;
    long result = socket->get_option(static_cast<int>(a[1]), static_cast<int>(a[2]), value);
    socket->release();
    if (result) return result;
    length = sizeof(int);
    if (!space.copy_to_user(a[3], &value, sizeof(value)) || !space.copy_to_user(a[4], &length, sizeof(length)))
        return -Errno::Fault;
    return 0;
}

// shutdown(fd, how)
long sys_shutdown(Thread& thread, SyscallArguments a) {
    long error = 0;
    Socket* socket = socket_of(*thread.process, a[0], &error);
    if (!socket) return error;
    long result = socket->shutdown(static_cast<int>(a[1]));
    socket->release();
    return result;
}

} // namespace kernel::proc
