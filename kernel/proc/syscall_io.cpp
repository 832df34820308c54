// System calls of the I/O family: the console as file descriptors 0, 1 and 2.
#include "kernel/console/console.hpp"
#include "kernel/proc/process.hpp"
#include "kernel/proc/syscall.hpp"
#include "kernel/proc/syscall_handlers.hpp"

namespace kernel::proc {

namespace {
constexpr size_t WriteChunk = 256;
}

long sys_write(Thread& thread, SyscallArguments a) {
    uint64_t fd = a[0], buffer = a[1], length = a[2];
    if (fd != 1 && fd != 2) return -Errno::BadFile;
    const AddressSpace& space = thread.process->address_space;
    // The whole buffer is checked first: a bad pointer writes nothing.
    if (!space.check_user_range(buffer, length, Access::Read)) return -Errno::Fault;
    char chunk[WriteChunk];
    for (uint64_t done = 0; done < length;) {
        size_t size = length - done < WriteChunk ? length - done : WriteChunk;
        if (!space.copy_from_user(chunk, buffer + done, size)) return -Errno::Fault;
        console::write(chunk, size);
        done += size;
    }
    return static_cast<long>(length);
}

} // namespace kernel::proc
