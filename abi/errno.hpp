// Linux's errno values, defined once for the kernel and the user runtime. A system call returns
// one negated in a0 (the kernel writes `return -Errno::Fault;`). The POSIX names (EFAULT, ...) are
// made from the same list by the user runtime (user/lib/syscall.hpp); they are not defined here,
// because <errno.h> defines them as macros in every hosted build (the kernel's host tests).
//
//     X(POSIX name, value, kernel name, what it says)
#pragma once

#define COKERNEL_ERRNOS(X)                                                     \
    X(EPERM, 1, NotPermitted, "operation not permitted")                       \
    X(ENOENT, 2, NoEntry, "no such file or directory")                         \
    X(ESRCH, 3, NoProcess, "no such process")                                  \
    X(EINTR, 4, Interrupted, "interrupted system call")                        \
    X(ENXIO, 6, NoDeviceOrAddress, "no such device or address")                \
    X(E2BIG, 7, ArgumentsTooLong, "argument list too long")                    \
    X(ENOEXEC, 8, NotExecutable, "exec format error")                          \
    X(EBADF, 9, BadFile, "bad file descriptor")                                \
    X(ECHILD, 10, NoChild, "no child processes")                               \
    X(EAGAIN, 11, TryAgain, "resource temporarily unavailable")                \
    X(ENOMEM, 12, NoMemory, "cannot allocate memory")                          \
    X(EFAULT, 14, Fault, "bad address")                                        \
    X(EBUSY, 16, Busy, "device or resource busy")                              \
    X(EEXIST, 17, Exists, "file exists")                                       \
    X(ENODEV, 19, NoDevice, "no such device")                                  \
    X(EINVAL, 22, Invalid, "invalid argument")                                 \
    X(ENFILE, 23, TooManyFilesInSystem, "too many open files in system")       \
    X(EMFILE, 24, TooManyFiles, "too many open files")                         \
    X(ENOTTY, 25, NotTerminal, "inappropriate ioctl for device")               \
    X(EPIPE, 32, BrokenPipe, "broken pipe")                                    \
    X(ENOSYS, 38, NoSystemCall, "function not implemented")                    \
    X(ENOTSOCK, 88, NotSocket, "socket operation on non-socket")              \
    X(EDESTADDRREQ, 89, DestinationRequired, "destination address required")  \
    X(EMSGSIZE, 90, MessageTooLong, "message too long")                        \
    X(ENOPROTOOPT, 92, NoProtocolOption, "protocol not available")             \
    X(EPROTONOSUPPORT, 93, ProtocolNotSupported, "protocol not supported")     \
    X(EOPNOTSUPP, 95, NotSupported, "operation not supported")                 \
    X(EAFNOSUPPORT, 97, FamilyNotSupported, "address family not supported by protocol") \
    X(EADDRINUSE, 98, AddressInUse, "address already in use")                  \
    X(EADDRNOTAVAIL, 99, AddressNotAvailable, "cannot assign requested address") \
    X(ENETDOWN, 100, NetworkDown, "network is down")                           \
    X(ENETUNREACH, 101, NetworkUnreachable, "network is unreachable")          \
    X(ECONNABORTED, 103, ConnectionAborted, "software caused connection abort") \
    X(ECONNRESET, 104, ConnectionReset, "connection reset by peer")            \
    X(ENOBUFS, 105, NoBuffers, "no buffer space available")                    \
    X(EISCONN, 106, IsConnected, "transport endpoint is already connected")    \
    X(ENOTCONN, 107, NotConnected, "transport endpoint is not connected")      \
    X(ETIMEDOUT, 110, TimedOut, "connection timed out")                        \
    X(ECONNREFUSED, 111, ConnectionRefused, "connection refused")              \
    X(EALREADY, 114, Already, "operation already in progress")                 \
    X(EINPROGRESS, 115, InProgress, "operation now in progress")

namespace cokernel::abi {

namespace Errno {
#define COKERNEL_ERRNO_CONSTANT(posix, value, name, text) constexpr long name = value;
COKERNEL_ERRNOS(COKERNEL_ERRNO_CONSTANT)
#undef COKERNEL_ERRNO_CONSTANT
} // namespace Errno

// What an errno value says ("bad address"), or nullptr for a value not in the list.
constexpr const char* errno_text(long value) {
    switch (value) {
#define COKERNEL_ERRNO_TEXT(posix, number, name, text) \
    case number: return text;
        COKERNEL_ERRNOS(COKERNEL_ERRNO_TEXT)
#undef COKERNEL_ERRNO_TEXT
    }
    return nullptr;
}

} // namespace cokernel::abi
