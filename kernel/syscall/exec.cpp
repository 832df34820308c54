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

long errno_of_copy(Error error) { return error == Error::Truncated ? -Errno::ArgumentsTooLong : -Errno::Fault; }

// A NULL-terminated array of strings (argv, envp), copied from user memory.
struct StringList {
    char strings[MaxArgumentBytes];      // each NUL-terminated, back to back
    const char* items[MaxArguments];     // into strings
    size_t count = 0;
    ProgramStrings view() const { return {items, count}; }
};
static_assert(MaxEnvironment <= MaxArguments && MaxEnvironmentBytes <= MaxArgumentBytes);

// Copies the array at `array` (0: empty) of at most `max_count` strings and `max_bytes` bytes.
// Returns 0 or a negated errno: -EFAULT for a bad pointer, -E2BIG beyond the limits.
long copy_string_list(const AddressSpace& space, uint64_t array, size_t max_count, size_t max_bytes, StringList& list) {
    size_t used = 0;
    for (list.count = 0; array != 0; ++list.count) {
        uint64_t pointer;
        if (!space.copy_from_user(&pointer, array + list.count * 8, sizeof(pointer))) return -Errno::Fault;
        if (pointer == 0) break;
        if (list.count == max_count) return -Errno::ArgumentsTooLong;
        auto length = copy_string_from_user(space, list.strings + used, max_bytes - used, pointer);
        if (!length) return errno_of_copy(length.error());
        list.items[list.count] = list.strings + used;
        used += *length + 1;
    }
    return 0;
}

// A program path and its arguments, copied from user memory.
struct ProgramRequest {
    char path[MaxPath];
    StringList arguments;
};

// Copies `path` and the NULL-terminated array `argv`. Returns 0 or a negated errno: -EFAULT for a
// bad pointer, -E2BIG for a path of MaxPath bytes or more, more than MaxArguments arguments or more
// than MaxArgumentBytes of them, -EINVAL for an empty argv.
long copy_program_request(const AddressSpace& space, uint64_t path, uint64_t argv, ProgramRequest& request) {
    if (auto copied = copy_string_from_user(space, request.path, sizeof(request.path), path); !copied)
        return errno_of_copy(copied.error());
    if (argv == 0) return -Errno::Fault;
    if (long copied = copy_string_list(space, argv, MaxArguments, MaxArgumentBytes, request.arguments); copied < 0)
        return copied;
    return request.arguments.count == 0 ? -Errno::Invalid : 0;
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
    options.may_power_off = thread.process->is_init;  // init designates what it starts (the shell)
    options.may_use_reserve = thread.process->is_init;
    // The child starts with its parent's memory limit (never more: memory_limit.hpp).
    options.memory_limit = __atomic_load_n(&thread.process->memory_limit, __ATOMIC_RELAXED);
    uint32_t pid = 0;
    options.spawned_pid = &pid;  // the record may be reaped by a sibling thread before spawn returns
    auto child = spawn(request.path, request.arguments.items, request.arguments.count, options);
    if (!child) return errno_of(child.error());
    return pid;
}

// execve(path, argv, envp): runs the archive's program `path` in the calling process with the
// NULL-terminated argv and envp (NULL: an empty environment), which the new program finds on its
// stack as on Linux. On success the call "returns" 0, the new program's a0 at its entry (psABI).
long sys_execve(Thread& thread, SyscallArguments a) {
    const AddressSpace& space = thread.process->address_space;
    ProgramRequest request;
    if (long copied = copy_program_request(space, a[0], a[1], request); copied < 0) return copied;
    StringList environment;
    if (long copied = copy_string_list(space, a[2], MaxEnvironment, MaxEnvironmentBytes, environment); copied < 0)
        return copied;
    // Asynchronous calls in flight would finish into the new program: refused, as documented.
    if (async_calls_in_flight(*thread.process) != 0) return -Errno::Busy;
    if (auto executed = execute(thread, request.path, request.arguments.view(), environment.view()); !executed)
        return errno_of(executed.error());
    release_async_calls(*thread.process);  // its ring went with the old address space
    return 0;
}

} // namespace kernel::proc
