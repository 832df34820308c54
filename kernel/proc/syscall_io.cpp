// System calls of the I/O family: read, write and close on a process's file descriptors
// (kernel/proc/file.hpp), and pipe2.
#include "kernel/proc/file.hpp"
#include "kernel/proc/pipe.hpp"
#include "kernel/proc/syscall.hpp"
#include "kernel/proc/syscall_handlers.hpp"

namespace kernel::proc {

namespace {

// Runs `operation` on the file behind `fd`, holding a reference to it for the call's duration.
template <typename Operation>
long with_file(Thread& thread, uint64_t fd, Operation operation) {
    File* file = thread.process->files.get(static_cast<int64_t>(fd));
    if (!file) return -Errno::BadFile;
    long result = operation(*file);
    file->release();
    return result;
}

constexpr uint64_t OpenCloseOnExec = 0x80000;  // O_CLOEXEC (asm-generic/fcntl.h)

} // namespace

// read(fd, buffer, length)
long sys_read(Thread& thread, SyscallArguments a) {
    return with_file(thread, a[0], [&](File& file) { return file.read(thread, a[1], a[2]); });
}

// write(fd, buffer, length)
long sys_write(Thread& thread, SyscallArguments a) {
    return with_file(thread, a[0], [&](File& file) { return file.write(thread, a[1], a[2]); });
}

// close(fd)
long sys_close(Thread& thread, SyscallArguments a) {
    if (!thread.process->files.close(static_cast<int64_t>(a[0]))) return -Errno::BadFile;
    return 0;
}

// dup3(old_fd, new_fd, flags): new_fd names the file of old_fd (closing what it named before);
// flags 0 or O_CLOEXEC (for new_fd). Returns new_fd.
long sys_dup3(Thread& thread, SyscallArguments a) {
    int64_t old_fd = static_cast<int64_t>(a[0]), new_fd = static_cast<int64_t>(a[1]);
    uint64_t flags = a[2];
    if ((flags & ~OpenCloseOnExec) || old_fd == new_fd) return -Errno::Invalid;
    FileTable& files = thread.process->files;
    File* file = files.get(old_fd);  // the reference the new slot takes over
    if (!file) return -Errno::BadFile;
    if (!files.install_at(new_fd, *file, flags & OpenCloseOnExec)) return -Errno::BadFile;
    return new_fd;
}

// pipe2(fds, flags): fds[0] the read end, fds[1] the write end (two ints); flags 0 or O_CLOEXEC.
long sys_pipe2(Thread& thread, SyscallArguments a) {
    uint64_t user_fds = a[0], flags = a[1];
    if (flags & ~OpenCloseOnExec) return -Errno::Invalid;
    const AddressSpace& space = thread.process->address_space;
    int fds[2];
    if (!space.check_user_range(user_fds, sizeof(fds), Access::Write)) return -Errno::Fault;
    auto pipe = create_pipe();
    if (!pipe) return -Errno::NoMemory;
    FileTable& files = thread.process->files;
    bool close_on_exec = flags & OpenCloseOnExec;
    auto read_fd = files.install(*pipe->read_end, close_on_exec);
    if (!read_fd) {
        pipe->write_end->release();
        return -Errno::TooManyFiles;
    }
    auto write_fd = files.install(*pipe->write_end, close_on_exec);
    if (!write_fd) {
        (void)files.close(*read_fd);
        return -Errno::TooManyFiles;
    }
    fds[0] = *read_fd;
    fds[1] = *write_fd;
    if (!space.copy_to_user(user_fds, fds, sizeof(fds))) {  // only if another thread unmapped it meanwhile
        (void)files.close(fds[0]);
        (void)files.close(fds[1]);
        return -Errno::Fault;
    }
    return 0;
}

} // namespace kernel::proc
