// The calls every C library makes before and around main (glibc's start-up, stdio, pthreads), with
// Linux's numbers, semantics and errors as far as the process model allows (docs/syscalls.md,
// "Calls for C libraries"): identity, limits, randomness, vectored I/O, descriptor control, the
// console's terminal ioctls, uname. Handlers that need another family's machinery call into it.
#include "kernel/file/file.hpp"
#include "kernel/lib/random.hpp"
#include "kernel/proc/process.hpp"
#include "kernel/syscall/call.hpp"
#include "kernel/syscall/dispatch.hpp"
#include "kernel/syscall/handlers.hpp"

namespace kernel::proc {

namespace {

constexpr uint64_t OpenCloseOnExec = 0x80000;  // O_CLOEXEC
constexpr uint64_t FdCloseOnExec = 1;          // FD_CLOEXEC

// Copies a kernel string into a fixed-size field (NUL-padded, always terminated).
void set_field(char* field, size_t size, const char* text) {
    size_t i = 0;
    for (; i + 1 < size && text[i]; ++i) field[i] = text[i];
    for (; i < size; ++i) field[i] = '\0';
}

} // namespace

// uname(buf): struct utsname, six fields of 65 bytes.
long sys_uname(Thread& thread, SyscallArguments a) {
    struct { char fields[6][65]; } name{};
    set_field(name.fields[0], 65, "cokernel");     // sysname
    set_field(name.fields[1], 65, "cokernel");     // nodename
    set_field(name.fields[2], 65, "6.1.0-cokernel");  // release: what glibc may compare (>= its minimum)
    set_field(name.fields[3], 65, "#1 SMP");       // version
    set_field(name.fields[4], 65, "riscv64");      // machine
    set_field(name.fields[5], 65, "(none)");       // domainname
    if (!thread.process->address_space.copy_to_user(a[0], &name, sizeof(name))) return -Errno::Fault;
    return 0;
}

// getuid, geteuid, getgid, getegid: every process is root (there are no users).
long sys_getuid(Thread&, SyscallArguments) { return 0; }
long sys_geteuid(Thread&, SyscallArguments) { return 0; }
long sys_getgid(Thread&, SyscallArguments) { return 0; }
long sys_getegid(Thread&, SyscallArguments) { return 0; }

// getppid: the parent's pid, 0 for a process the kernel started.
long sys_getppid(Thread& thread, SyscallArguments) { return thread.process->parent_pid; }

// set_robust_list(head, length): accepted (length must be 24, Linux's struct robust_list_head) and
// ignored: no robust futex is released at thread exit (docs/syscalls.md).
long sys_set_robust_list(Thread&, SyscallArguments a) { return a[1] == 24 ? 0 : -Errno::Invalid; }

// prlimit64(pid, resource, new, old): reads the limits the kernel has; RLIMIT_DATA and RLIMIT_AS are
// both the memory limit (memory_limit.hpp; soft and hard alike), which a process may lower: the soft
// value asked for becomes the limit, if the hard one does not rise above it (-EPERM). Setting any
// other limit fails with -EPERM unless it asks for what is already so.
long sys_prlimit64(Thread& thread, SyscallArguments a) {
    uint64_t pid = a[0], resource = a[1], new_limit = a[2], old_limit = a[3];
    if (pid != 0 && pid != thread.process->pid) return -Errno::NoProcess;
    constexpr uint64_t Infinity = ~uint64_t{0};
    constexpr uint64_t ResourceData = 2, ResourceStack = 3, ResourceOpenFiles = 7, ResourceAddressSpace = 9,
                       ResourceCount = 16;
    if (resource >= ResourceCount) return -Errno::Invalid;
    Process& process = *thread.process;
    bool memory = resource == ResourceData || resource == ResourceAddressSpace;
    uint64_t value[2] = {Infinity, Infinity};
    if (resource == ResourceStack) value[0] = value[1] = UserStackSize;
    if (resource == ResourceOpenFiles) value[0] = value[1] = FileTable::Capacity;
    if (memory) {
        uint64_t limit = __atomic_load_n(&process.memory_limit, __ATOMIC_RELAXED);
        if (limit != 0) value[0] = value[1] = limit;
    }
    const AddressSpace& space = process.address_space;
    if (new_limit) {
        uint64_t wanted[2];
        if (!space.copy_from_user(wanted, new_limit, sizeof(wanted))) return -Errno::Fault;
        if (wanted[0] > wanted[1]) return -Errno::Invalid;
        if (memory) {
            if (wanted[1] > value[1] || wanted[0] == 0) return -Errno::NotPermitted;
            if (wanted[0] != Infinity) __atomic_store_n(&process.memory_limit, wanted[0], __ATOMIC_RELAXED);
        } else if (wanted[0] != value[0] || wanted[1] != value[1]) {
            return -Errno::NotPermitted;
        }
    }
    if (old_limit && !space.copy_to_user(old_limit, value, sizeof(value))) return -Errno::Fault;
    return 0;
}

// getrandom(buffer, length, flags): kernel/lib/random.hpp's bytes (never blocks); flags
// GRND_NONBLOCK (1), GRND_RANDOM (2), GRND_INSECURE (4) accepted.
long sys_getrandom(Thread& thread, SyscallArguments a) {
    uint64_t buffer = a[0], length = a[1], flags = a[2];
    if (flags & ~uint64_t{7}) return -Errno::Invalid;
    if (length > 0x7fffffff) length = 0x7fffffff;
    const AddressSpace& space = thread.process->address_space;
    if (!space.check_user_range(buffer, length, Access::Write)) return -Errno::Fault;
    unsigned char chunk[64];
    for (uint64_t done = 0; done < length;) {
        uint64_t size = length - done < sizeof(chunk) ? length - done : sizeof(chunk);
        random_bytes(chunk, size);
        if (!space.copy_to_user(buffer + done, chunk, size)) return -Errno::Fault;
        done += size;
    }
    return static_cast<long>(length);
}

// rseq: not supported; glibc then runs without it.
long sys_rseq(Thread&, SyscallArguments) { return -Errno::NoSystemCall; }

// writev(fd, iov, count) and readv: each element as one write or read, in order; stops at the first
// short transfer or error (the error only if nothing was transferred), as Linux does for most files.
namespace {
long vectored(Thread& thread, SyscallArguments a, CallHandler operation) {
    uint64_t fd = a[0], vector = a[1], count = a[2];
    constexpr uint64_t MaxVector = 1024;  // IOV_MAX
    if (count > MaxVector) return -Errno::Invalid;
    const AddressSpace& space = thread.process->address_space;
    long total = 0;
    for (uint64_t i = 0; i < count; ++i) {
        uint64_t element[2];  // iov_base, iov_len
        if (!space.copy_from_user(element, vector + i * 16, sizeof(element))) return total ? total : -Errno::Fault;
        if (element[1] == 0) continue;
        uint64_t registers[6] = {fd, element[0], element[1], 0, 0, 0};
        long done = run_call(thread, operation, registers);
        if (done < 0) return total ? total : done;
        total += done;
        if (static_cast<uint64_t>(done) < element[1]) break;
    }
    return total;
}
} // namespace

long sys_writev(Thread& thread, SyscallArguments a) { return vectored(thread, a, sys_write); }
long sys_readv(Thread& thread, SyscallArguments a) { return vectored(thread, a, sys_read); }

// dup(fd): the lowest free descriptor names the same file.
long sys_dup(Thread& thread, SyscallArguments a) {
    FileTable& files = thread.process->files;
    File* file = files.get(static_cast<int64_t>(a[0]));
    if (!file) return -Errno::BadFile;
    auto fd = files.install(*file, false);
    if (!fd) {
        file->release();
        return -Errno::TooManyFiles;
    }
    return *fd;
}

// fcntl(fd, command, argument): F_DUPFD (0), F_GETFD (1), F_SETFD (2), F_GETFL (3), F_SETFL (4),
// F_DUPFD_CLOEXEC (1030). Status flags: O_RDWR for the console, O_RDONLY / O_WRONLY for pipe ends;
// F_SETFL accepts and ignores O_NONBLOCK and O_APPEND (docs/syscalls.md).
long sys_fcntl(Thread& thread, SyscallArguments a) {
    int64_t fd = static_cast<int64_t>(a[0]);
    uint64_t command = a[1], argument = a[2];
    FileTable& files = thread.process->files;
    constexpr uint64_t DupFd = 0, GetFd = 1, SetFd = 2, GetFl = 3, SetFl = 4, DupFdCloseOnExec = 1030;
    File* file = files.get(fd);
    if (!file) return -Errno::BadFile;
    long result = -Errno::Invalid;
    switch (command) {
    case DupFd:
    case DupFdCloseOnExec: {
        if (argument >= FileTable::Capacity) {
            result = -Errno::Invalid;
            break;
        }
        auto installed = files.install_from(static_cast<int64_t>(argument), *file, command == DupFdCloseOnExec);
        return installed ? *installed : -Errno::TooManyFiles;  // the new slot took the reference, or it was dropped
    }
    case GetFd: result = files.close_on_exec_flag(fd) ? FdCloseOnExec : 0; break;
    case SetFd: files.set_close_on_exec_flag(fd, argument & FdCloseOnExec); result = 0; break;
    case GetFl: result = file->status_flags(); break;
    case SetFl: result = 0; break;
    default: break;
    }
    file->release();
    return result;
}

// ioctl(fd, request, argument): TCGETS and TIOCGWINSZ on the console (a terminal in canonical mode
// with echo, 80x24); -ENOTTY for other files and requests.
long sys_ioctl(Thread& thread, SyscallArguments a) {
    constexpr uint64_t TerminalGetAttributes = 0x5401, TerminalGetWindowSize = 0x5413;
    FileTable& files = thread.process->files;
    File* file = files.get(static_cast<int64_t>(a[0]));
    if (!file) return -Errno::BadFile;
    bool terminal = file == &console_file();
    file->release();
    if (!terminal || (a[1] != TerminalGetAttributes && a[1] != TerminalGetWindowSize)) return -Errno::NotTerminal;
    const AddressSpace& space = thread.process->address_space;
    if (a[1] == TerminalGetWindowSize) {
        uint16_t size[4] = {24, 80, 0, 0};  // rows, columns, pixels
        return space.copy_to_user(a[2], size, sizeof(size)) ? 0 : -Errno::Fault;
    }
    // struct termios (asm-generic): iflag, oflag, cflag, lflag, line, cc[19].
    struct {
        uint32_t input, output, control, local;
        uint8_t line;
        uint8_t control_characters[19];
    } attributes{};
    attributes.input = 0x100 | 0x400;          // ICRNL | IXON
    attributes.output = 0x1 | 0x4;             // OPOST | ONLCR
    attributes.control = 0xbf | 0x30 | 0x80;   // B38400 | CS8 | CREAD
    attributes.local = 0x1 | 0x2 | 0x8 | 0x10 | 0x20 | 0x200 | 0x8000;  // ISIG ICANON ECHO ECHOE ECHOK ECHOCTL IEXTEN
    const uint8_t characters[] = {3, 28, 127, 21, 4, 0, 1, 0, 17, 19, 26, 0, 18, 15, 23, 22, 0};
    for (size_t i = 0; i < sizeof(characters); ++i) attributes.control_characters[i] = characters[i];
    return space.copy_to_user(a[2], &attributes, sizeof(attributes)) ? 0 : -Errno::Fault;
}

// madvise(address, length, advice): the advice glibc gives (MADV_NORMAL 0, RANDOM 1, SEQUENTIAL 2,
// WILLNEED 3, DONTNEED 4, FREE 8, HUGEPAGE 14, NOHUGEPAGE 15, DONTDUMP 16, DODUMP 17) is accepted
// and has no effect (pages keep their contents even for DONTNEED: docs/syscalls.md).
long sys_madvise(Thread&, SyscallArguments a) {
    if (a[0] % 4096) return -Errno::Invalid;
    switch (a[2]) {
    case 0: case 1: case 2: case 3: case 4: case 8: case 14: case 15: case 16: case 17: return 0;
    default: return -Errno::Invalid;
    }
}

// tkill(tid, signal), tgkill(pid, tid, signal): signal 0 checks; any other ends the whole process
// (no handlers: as kill), if the thread belongs to the caller's process; -ESRCH otherwise.
long sys_tgkill(Thread& thread, SyscallArguments a) {
    uint64_t pid = a[0], tid = a[1], signal = a[2];
    if (signal > 64) return -Errno::Invalid;
    if (pid != thread.process->pid) return -Errno::NoProcess;
    bool found = false;
    {
        ScopedLock guard(thread.process->threads_lock);
        for (Thread* t = thread.process->threads; t; t = t->next_in_process) found = found || t->tid == tid;
    }
    if (!found) return -Errno::NoProcess;
    if (signal == 0) return 0;
    exit_current_process(128 + static_cast<int>(signal), true);
}
long sys_tkill(Thread& thread, SyscallArguments a) {
    uint64_t arguments[6] = {thread.process->pid, a[0], a[1], 0, 0, 0};
    return sys_tgkill(thread, arguments);
}

} // namespace kernel::proc
