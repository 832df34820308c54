// System calls that start programs from the initial archive: spawn (a new child process, project
// number 1024) and execve (221, the calling process's program replaced).
#include "kernel/proc/process.hpp"
#include "kernel/syscall/async_call.hpp"
#include "kernel/syscall/dispatch.hpp"
#include "kernel/syscall/handlers.hpp"

namespace kernel::proc {

namespace {

constexpr size_t MaxPath = 256;

// Copies a NUL-terminated string of at most capacity-1 bytes from user memory. InvalidArgument for
// a bad pointer, Truncated when it does not fit.
Result<size_t> copy_string_from_user(const AddressSpace& space, char* destination, size_t capacity, uint64_t source) {
    for (size_t i = 0; i < capacity; ++i) {
        if (!space.copy_from_user(&destination[i], source + i, 1)) return Error::InvalidArgument;
        if (destination[i] == '\0') return i;
    }
    return Error::Truncated;
}

long errno_of(Error error) {
    switch (error) {
    case Error::NotFound: return -Errno::NoEntry;
    case Error::Malformed: return -Errno::NotExecutable;
    case Error::NoMemory: return -Errno::NoMemory;
    case Error::Truncated: return -Errno::ArgumentsTooLong;
    default: return -Errno::Invalid;
    }
}

long errno_of_copy(Error error) { return error == Error::Truncated ? -Errno::ArgumentsTooLong : -Errno::Fault; }

// A program path and its arguments, copied from user memory.
struct ProgramRequest {
    char path[MaxPath];
    char strings[MaxArgumentBytes];        // the arguments, each NUL-terminated, back to back
    const char* arguments[MaxArguments];   // into strings
    size_t count = 0;
};

// Copies `path` and the NULL-terminated array `argv`. Returns 0 or a negated errno: -EFAULT for a
// bad pointer, -E2BIG for a path of MaxPath bytes or more, more than MaxArguments arguments or more
// than MaxArgumentBytes of them, -EINVAL for an empty argv.
long copy_program_request(const AddressSpace& space, uint64_t path, uint64_t argv, ProgramRequest& request) {
    if (auto copied = copy_string_from_user(space, request.path, sizeof(request.path), path); !copied)
        return errno_of_copy(copied.error());
    size_t used = 0;
    for (request.count = 0;; ++request.count) {
        uint64_t pointer;
        if (!space.copy_from_user(&pointer, argv + request.count * 8, sizeof(pointer))) return -Errno::Fault;
        if (pointer == 0) break;
        if (request.count == MaxArguments) return -Errno::ArgumentsTooLong;
        auto length = copy_string_from_user(space, request.strings + used, sizeof(request.strings) - used, pointer);
        if (!length) return errno_of_copy(length.error());
        request.arguments[request.count] = request.strings + used;
        used += *length + 1;
    }
    return request.count == 0 ? -Errno::Invalid : 0;
}

// Checks a NULL-terminated array of strings that is not kept (execve's envp): the same limits as
// argv. Returns 0 or a negated errno.
long check_string_array(const AddressSpace& space, uint64_t array) {
    size_t bytes = 0;
    for (size_t count = 0;; ++count) {
        uint64_t pointer;
        if (!space.copy_from_user(&pointer, array + count * 8, sizeof(pointer))) return -Errno::Fault;
        if (pointer == 0) return 0;
        if (count == MaxArguments) return -Errno::ArgumentsTooLong;
        for (char c = 1; c != '\0'; ++bytes) {
            if (bytes == MaxArgumentBytes) return -Errno::ArgumentsTooLong;
            if (!space.copy_from_user(&c, pointer++, 1)) return -Errno::Fault;
        }
    }
}

} // namespace

// spawn(path, argv): creates a process running the archive's program `path` with the NULL-terminated
// argv (argv[0] included) as a child of the caller; returns its pid. The child inherits the
// caller's descriptors (those without close-on-exec), in the same slots.
long sys_spawn(Thread& thread, SyscallArguments a) {
    ProgramRequest request;
    if (long copied = copy_program_request(thread.process->address_space, a[0], a[1], request); copied < 0)
        return copied;
    SpawnOptions options;  // a child starts at its parent's priority and cap
    options.parent_pid = thread.process->pid;
    options.priority = thread.process->priority;
    options.priority_cap = thread.process->priority_cap;
    options.inherit_files = &thread.process->files;
    auto child = spawn(request.path, request.arguments, request.count, options);
    if (!child) return errno_of(child.error());
    return (*child)->pid;
}

// execve(path, argv, envp): runs the archive's program `path` in the calling process. envp must be
// NULL or a valid NULL-terminated array of strings; the new program gets an empty environment. On
// success the call "returns" argc, which is the new program's a0 at its entry.
long sys_execve(Thread& thread, SyscallArguments a) {
    const AddressSpace& space = thread.process->address_space;
    ProgramRequest request;
    if (long copied = copy_program_request(space, a[0], a[1], request); copied < 0) return copied;
    if (a[2] != 0)
        if (long checked = check_string_array(space, a[2]); checked < 0) return checked;
    // Asynchronous calls in flight would finish into the new program: refused, as documented.
    if (async_calls_in_flight(*thread.process) != 0) return -Errno::Busy;
    if (auto executed = execute(thread, request.path, request.arguments, request.count); !executed)
        return errno_of(executed.error());
    release_async_calls(*thread.process);  // its ring went with the old address space
    return static_cast<long>(request.count);
}

} // namespace kernel::proc
