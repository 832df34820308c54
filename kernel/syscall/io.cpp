// System calls of the I/O family: read, write and close on a process's file descriptors
// (kernel/file/file.hpp), and pipe2.
#include "kernel/file/file.hpp"
#include "kernel/file/pipe.hpp"
#include "kernel/syscall/call.hpp"
#include "kernel/syscall/dispatch.hpp"
#include "kernel/syscall/handlers.hpp"

namespace kernel::proc {

namespace {

constexpr uint64_t OpenCloseOnExec = 0x80000;  // O_CLOEXEC (asm-generic/fcntl.h)

// The file's read or write, holding a reference to the file until the call ends.
template <typename Operation>
Call with_file(CallMemory& memory, Process& process, uint64_t fd, Operation operation) {
    File* file = process.files.get(static_cast<int64_t>(fd));
    if (!file) return finished_call(memory, -Errno::BadFile);
    Call call = operation(*file);
    if (!call.valid()) {
        file->release();
        return call;
    }
    call.hold(*file);
    return call;
}

} // namespace

// read(fd, buffer, length)
Call sys_read(CallMemory& memory, Process& process, CallArguments a) {
    return with_file(memory, process, a[0], [&](File& file) { return file.read(memory, process, a[1], a[2]); });
}

// write(fd, buffer, length)
Call sys_write(CallMemory& memory, Process& process, CallArguments a) {
    return with_file(memory, process, a[0], [&](File& file) { return file.write(memory, process, a[1], a[2]); });
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
    auto pipe = create_pipe(*thread.process);
    if (!pipe) return -Errno::TooManyFilesInSystem;  // no memory, or past the limit: Linux's -ENFILE
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
