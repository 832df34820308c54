// System calls of the I/O family: the console as file descriptors 0, 1 and 2.
#include "kernel/console/console.hpp"
#include "kernel/proc/process.hpp"
#include "kernel/proc/scheduler.hpp"
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

namespace kernel::proc {

namespace {
// Threads waiting in read(0) for console input; woken by the UART's receive interrupt.
WaitQueue console_readers;
constexpr size_t ReadChunk = 256;
} // namespace

void wake_console_readers() { wake_all_locked(console_readers); }

void init_console_input() { console::set_receive_hook(wake_console_readers); }

long sys_read(Thread& thread, SyscallArguments a) {
    uint64_t fd = a[0], buffer = a[1], length = a[2];
    if (fd != 0) return -Errno::BadFile;
    const AddressSpace& space = thread.process->address_space;
    if (!space.check_user_range(buffer, length, Access::Write)) return -Errno::Fault;
    if (length == 0) return 0;
    // Wait for the first byte; then take what is there, without waiting for more.
    int first;
    for (;;) {
        console_readers.lock.lock();
        first = console::try_read();
        if (first >= 0) {
            console_readers.lock.unlock();
            break;
        }
        sleep_on(console_readers);
        if (thread.process->exit_requested.load()) return -Errno::Interrupted;
    }
    char chunk[ReadChunk];
    size_t count = 0;
    chunk[count++] = static_cast<char>(first);
    for (int c; count < length && count < ReadChunk && (c = console::try_read()) >= 0;) chunk[count++] = static_cast<char>(c);
    if (!space.copy_to_user(buffer, chunk, count)) return -Errno::Fault;
    return static_cast<long>(count);
}

} // namespace kernel::proc
