// Processes: creating one from a program in the initial archive, ending one, and the table that
// keeps them until they are reaped.
#pragma once

#include <cstddef>
#include <cstdint>

#include "abi/result.hpp"
#include "kernel/proc/thread.hpp"

namespace kernel::proc {

constexpr size_t MaxArguments = 16;
constexpr size_t MaxArgumentBytes = 1024;

// Exit status of a process ended by a fault (as a shell shows a signal: 128 + number).
constexpr int StatusIllegalInstruction = 128 + 4;  // SIGILL
constexpr int StatusBusError = 128 + 7;            // SIGBUS: misaligned access
constexpr int StatusSegmentationFault = 128 + 11;  // SIGSEGV: page or access fault
constexpr int StatusKilled = 128 + 9;              // SIGKILL: ended by kill()

// Binds the initial archive (the initrd of the device tree). False when there is none or it is
// malformed (reported on the console).
bool init_archive();

// A list of strings (arguments, environment) handed to a new program.
struct ProgramStrings {
    const char* const* items = nullptr;
    size_t count = 0;
};
// The environment's limits (execve gives -E2BIG beyond them).
constexpr size_t MaxEnvironment = 16;
constexpr size_t MaxEnvironmentBytes = 1024;

struct SpawnOptions {
    uint32_t parent_pid = 0;         // 0: the kernel
    uint8_t priority = DefaultPriority;
    uint8_t priority_cap = 0;        // the highest priority the process may take
    // The child's descriptors: the same files in the same slots as this table's, except the
    // close-on-exec ones; nullptr: the console at 0, 1 and 2.
    FileTable* inherit_files = nullptr;
    ProgramStrings environment;      // envp of the new program (none by default)
    bool init = false;               // the boot's init: not killable by others, may power off
    bool may_power_off = false;      // reboot(POWER_OFF) allowed (init hands it to what it spawns)
    bool may_use_reserve = false;    // may take the memory reserve (init hands it to what it spawns)
    uint64_t memory_limit = 0;       // bytes; 0: the default limit (memory_limit.hpp)
    // Set to the child's pid before it can run: a caller whose other threads may reap the child at
    // once (sys_spawn) reads the pid here, never through the returned record.
    uint32_t* spawned_pid = nullptr;
};
// Creates a process running the archive's program `path` with the given arguments (argv[0] is
// the path) and environment and makes its first thread runnable. Errors: NotFound (no such program), Malformed
// (not a valid executable: never loaded partly), NoMemory, InvalidArgument (too many or too long
// arguments), NoMemory also when the process table is full. Nothing is left allocated on
// failure. The parent (0: the kernel) may wait4 for it.
Result<Process*> spawn(const char* path, const char* const* arguments, size_t argument_count,
                       const SpawnOptions& options = {});

// execve: replaces the program of the calling thread's process, which must have no other thread
// (InvalidArgument otherwise), with the archive's program `path` and the given arguments. The new
// image is loaded completely into a new address space first, so on failure (the errors of spawn)
// the caller is unchanged. On success the old address space is freed, close-on-exec descriptors
// are closed, and the thread's user registers are set so that it starts at the new entry on the
// new stack (a0 = 0, what the system call returns: the psABI's entry state). The pid stays.
Result<void> execute(Thread& thread, const char* path, const ProgramStrings& arguments,
                     const ProgramStrings& environment = {});

// The process in a slot of the process table (the scheduler's priority table uses slots).
Process* process_in_slot(uint32_t slot);

// Creates another thread in the current thread's process, to start in user mode with `registers`
// (a copy of the creating thread's frame with sp, tp and a0 adjusted by the caller), and makes it
// runnable once `prepare(thread, context)` has run (clone sets the child's tid words there, before
// the child can run and exit). NoMemory when no kernel stack or record can be had. The thread may
// have ended and been freed by the time this returns: read nothing from it afterwards.
Result<Thread*> create_sibling_thread(const riscv::TrapFrame& registers, void (*prepare)(Thread&, void*),
                                      void* context);

// The process that kernel threads belong to (kernel/sched/kernel_thread.hpp): a slot of the
// scheduler's priority table, no address space, no pid, in no list. NoMemory when the table is full.
Result<Process*> create_kernel_process(const char* name);

// Ends the calling thread only (exit); when it is the last one, the process ends with `status`.
[[noreturn]] void exit_current_thread_of_process(int status);

// Ends the current thread's process with `status`. The address space is freed once its last thread
// has left the hart.
// `killed`: ended by a fault, not by its own exit (wait4 reports a signal).
[[noreturn]] void exit_current_process(int status, bool killed = false);
// Drops one of the process's holds (Process::holds); the last one tears it down: files closed,
// memory and asynchronous-call state freed, state Exited, the parent told.
void drop_process_hold(Process& process);

// A thread that exits leaves its process's list of threads (exit_current_thread, before anything
// else): from then on no user interrupt is raised for it and kill does not kick it.
void leave_process(Thread& thread);

// Called by the scheduler after an exited thread left the hart: frees its kernel stack and, for the
// last thread of a process, the process's address space (the process record stays until reaped).
void release_exited_thread(Thread& thread);

// Visits every regular file of the initial archive; false when there is none.
bool for_each_program(void (*visit)(const char* name, size_t size));

// wait4 for a process: reaps an exited child of `parent` (any child if pid is -1). Blocks until one
// exits unless `no_hang`. Returns the child's pid and exit status; 0 pid with no_hang and none
// exited; NotFound when `parent` has no such child.
struct ReapedChild {
    uint32_t pid;
    int status;
    bool killed;
};
Result<ReapedChild> wait_for_child(uint32_t parent, int64_t pid, bool no_hang);

// A counted reference to a process record (Process::references): while it exists the record and its
// slot stay valid, even if the process exits and another thread reaps it meanwhile (then it reads
// as Exited). Dropping the last one frees the record: drop it with no lock held.
//
// Why a count and not the table lock held across the use: the uses (kill's kick, set_priority)
// take the scheduler's and the process's locks, which the lock order puts before the table's.
class ProcessRef {
public:
    ProcessRef() = default;
    explicit ProcessRef(Process* process) : process_(process) {}  // takes over a counted reference
    ProcessRef(const ProcessRef&) = delete;
    ProcessRef& operator=(const ProcessRef&) = delete;
    ProcessRef(ProcessRef&& other) : process_(other.process_) { other.process_ = nullptr; }
    ProcessRef& operator=(ProcessRef&& other);
    ~ProcessRef() { reset(); }
    void reset();
    explicit operator bool() const { return process_ != nullptr; }
    Process* get() const { return process_; }
    Process* operator->() const { return process_; }
    Process& operator*() const { return *process_; }

private:
    Process* process_ = nullptr;
};

// Looks up a process in the table (exited or not), counted; empty when there is none.
ProcessRef find_process(uint32_t pid);
// reap() removes an exited process from the table and drops the table's reference to its record.
Result<int> reap(uint32_t pid);

// Visits every process in the table (under its lock: the visitor must not call back into it).
void for_each_process(void (*visit)(const Process&, void*), void* context);

// Ends a process from outside: blocked threads are woken and the harts its running threads are on
// get a Kick IPI, so each thread leaves at once (one in a system call leaves when the call returns).
// NotFound for an unknown pid.
Result<void> kill(uint32_t pid);

// Waits (running threads on this hart) until the process has exited, then reaps it.
Result<int> wait(uint32_t pid);

// Runs the archive's program and waits (running threads on this hart) until it exits; returns its
// status. For self-tests and, until a user shell exists, for the monitor.
Result<int> run_program(const char* path, const char* const* arguments, size_t argument_count);

} // namespace kernel::proc
