#include "kernel/proc/process.hpp"

#include <new>

#include "abi/abi.hpp"
#include "kernel/arch/riscv/csr.hpp"
#include "kernel/arch/riscv/irq_lock.hpp"
#include "kernel/boot/boot.hpp"
#include "kernel/console/log.hpp"
#include "kernel/exec/cpio.hpp"
#include "kernel/exec/elf.hpp"
#include "kernel/file/pipe.hpp"
#include "kernel/file/socket.hpp"
#include "kernel/lib/random.hpp"
#include "kernel/mm/memory.hpp"
#include "kernel/proc/memory_limit.hpp"
#include "kernel/sched/fp_state.hpp"
#include "kernel/sched/kernel_thread.hpp"
#include "kernel/sched/scheduler.hpp"
#include "kernel/syscall/async_call.hpp"
#include "kernel/syscall/handlers.hpp"
#include "kernel/uintr/user_interrupt.hpp"
#include "kernel/vdso/vdso.hpp"

namespace kernel::proc {

namespace {

// Auxiliary vector keys (Linux's AT_*, include/uapi/linux/auxvec.h and elf.h).
enum AuxKey : uint64_t {
    AuxNull = 0, AuxProgramHeaders = 3, AuxProgramHeaderSize = 4, AuxProgramHeaderCount = 5, AuxPageSize = 6,
    AuxBase = 7, AuxFlags = 8, AuxEntry = 9, AuxUid = 11, AuxEffectiveUid = 12, AuxGid = 13, AuxEffectiveGid = 14,
    AuxHardwareCapabilities = 16, AuxClockTicks = 17, AuxSecure = 23, AuxRandom = 25,
    AuxHardwareCapabilities2 = 26, AuxExecutableName = 31, AuxSysinfoElfHeader = 33,
};
constexpr uint64_t ClockTicksPerSecond = 100;  // AT_CLKTCK, what times() would count in (Linux's USER_HZ)
using cokernel::abi::AuxPriorityTable;  // where the global priority table is mapped, read-only

// The initial archive, once init_archive() validated it (Archive has no empty state).
alignas(exec::cpio::Archive) unsigned char archive_storage[sizeof(exec::cpio::Archive)];
exec::cpio::Archive* archive = nullptr;

// Process table: a list, newest first. table_lock guards the links and ProcessState changes.
IrqSpinLock table_lock;
Process* processes = nullptr;
std::atomic<uint32_t> next_pid{1};

// Slots: a process's index in the scheduler's priority table. Guarded by table_lock.
Process* slots[MaxProcesses];

// Parents in wait4. Woken whenever a process becomes Exited.
WaitQueue child_exits;

const char* base_name(const char* path) {
    const char* base = path;
    for (const char* p = path; *p; ++p)
        if (*p == '/') base = p + 1;
    return base;
}

uint64_t page_down(uint64_t value) { return value & ~(mm::PageSize - 1); }
uint64_t page_up(uint64_t value) { return (value + mm::PageSize - 1) & ~(mm::PageSize - 1); }

Result<void> load_segments(AddressSpace& space, const exec::LoadPlan& plan, const uint8_t* image) {
    for (size_t i = 0; i < plan.segment_count; ++i) {
        const exec::LoadSegment& segment = plan.segments[i];
        uint64_t start = page_down(segment.virtual_address);
        uint64_t end = page_up(segment.virtual_address + segment.memory_size);
        uint64_t flags = (segment.read ? mm::pte::Read : 0) | (segment.write ? mm::pte::Write | mm::pte::Read : 0) |
                         (segment.execute ? mm::pte::Execute : 0);
        if (auto mapped = space.map_anonymous(start, end - start, flags); !mapped) return mapped;
        auto copied = space.copy_to_user_image(segment.virtual_address, image + segment.file_offset, segment.file_size);
        if (!copied) return copied;
    }
    return success();
}

// AT_HWCAP: a bit per single-letter extension ('a' is bit 0) that every hart has, as Linux reports
// them (I, M, A, F, D, C, V); F and D only if user programs may use the unit (fp_state.hpp).
uint64_t hardware_capabilities() {
    const fdt::BootInfo& info = boot_info();
    bool first = true;
    fdt::IsaExtensions common{};
    for (size_t i = 0; i < info.hart_count; ++i) {
        const fdt::HartInfo& hart = info.harts[i];
        if (!hart.enabled || !hart.has_mmu) continue;
        if (first) common = hart.isa;
        common.i &= hart.isa.i, common.m &= hart.isa.m, common.a &= hart.isa.a, common.f &= hart.isa.f;
        common.d &= hart.isa.d, common.c &= hart.isa.c, common.v &= hart.isa.v;
        first = false;
    }
    auto bit = [](bool present, char letter) { return present ? uint64_t{1} << (letter - 'a') : 0; };
    bool fp = fp_available();
    return bit(common.i, 'i') | bit(common.m, 'm') | bit(common.a, 'a') | bit(common.f && fp, 'f') |
           bit(common.d && fp, 'd') | bit(common.c, 'c') | bit(common.v, 'v');
}

// Copies `count` strings to user memory from `at` upward, storing each one's user address in
// `addresses`; returns the address after the last.
Result<uint64_t> copy_strings(AddressSpace& space, uint64_t at, const char* const* strings, size_t count,
                              uint64_t* addresses) {
    for (size_t i = 0; i < count; ++i) {
        size_t length = __builtin_strlen(strings[i]) + 1;
        if (auto copied = space.copy_to_user(at, strings[i], length); !copied) return copied.error();
        addresses[i] = at;
        at += length;
    }
    return at;
}

// Lays out the initial stack as Linux's ELF loader does (the RISC-V psABI's process start-up): from
// the top down, AT_RANDOM's 16 bytes, the program's path (AT_EXECFN), the environment and argument
// strings; then, 16-byte aligned at sp: argc, argv[] and NULL, envp[] and NULL, the auxiliary vector
// ending in AT_NULL. Returns the initial sp.
Result<uint64_t> build_user_stack(AddressSpace& space, const exec::LoadPlan& plan, const char* path,
                                  const ProgramStrings& arguments, const ProgramStrings& environment) {
    uint64_t top = UserStackTop;
    if (auto mapped = space.map_anonymous(top - UserStackSize, UserStackSize, mm::pte::Read | mm::pte::Write); !mapped)
        return mapped.error();
    size_t string_bytes = __builtin_strlen(path) + 1;
    for (size_t i = 0; i < arguments.count; ++i) string_bytes += __builtin_strlen(arguments.items[i]) + 1;
    for (size_t i = 0; i < environment.count; ++i) string_bytes += __builtin_strlen(environment.items[i]) + 1;
    uint64_t random = top - 16;
    uint64_t strings = (random - string_bytes) & ~uint64_t{15};

    constexpr size_t AuxPairs = 20;
    uint64_t words[1 + MaxArguments + 1 + MaxEnvironment + 1 + 2 * AuxPairs];
    size_t w = 0;
    words[w++] = arguments.count;
    auto argv = copy_strings(space, strings, arguments.items, arguments.count, &words[w]);
    if (!argv) return argv.error();
    w += arguments.count;
    words[w++] = 0;
    auto envp = copy_strings(space, *argv, environment.items, environment.count, &words[w]);
    if (!envp) return envp.error();
    w += environment.count;
    words[w++] = 0;
    uint64_t executable_name = *envp;
    if (auto copied = space.copy_to_user(executable_name, path, __builtin_strlen(path) + 1); !copied)
        return copied.error();
    unsigned char random_bytes_16[16];
    random_bytes(random_bytes_16, sizeof(random_bytes_16));
    if (auto copied = space.copy_to_user(random, random_bytes_16, sizeof(random_bytes_16)); !copied)
        return copied.error();

    const uint64_t auxiliary[][2] = {
        {AuxProgramHeaders, plan.program_header_address},
        {AuxProgramHeaderSize, plan.program_header_entry_size},
        {AuxProgramHeaderCount, plan.program_header_count},
        {AuxPageSize, mm::PageSize},
        {AuxBase, 0},  // no interpreter
        {AuxFlags, 0},
        {AuxEntry, plan.entry},
        {AuxUid, 0}, {AuxEffectiveUid, 0}, {AuxGid, 0}, {AuxEffectiveGid, 0},  // every process is root
        {AuxSecure, 0},
        {AuxRandom, random},
        {AuxHardwareCapabilities, hardware_capabilities()},
        {AuxHardwareCapabilities2, 0},
        {AuxClockTicks, ClockTicksPerSecond},
        {AuxExecutableName, executable_name},
        {AuxSysinfoElfHeader, vdso_binding::UserVdsoBase},
        {AuxPriorityTable, UserPriorityTableAddress},
        {AuxNull, 0},
    };
    static_assert(sizeof(auxiliary) / sizeof(auxiliary[0]) <= AuxPairs);
    for (const auto& pair : auxiliary) {
        words[w++] = pair[0];
        words[w++] = pair[1];
    }
    uint64_t sp = (strings - w * 8) & ~uint64_t{15};
    if (auto copied = space.copy_to_user(sp, words, w * 8); !copied) return copied.error();
    return sp;
}

void set_name(Process& process, const char* path) {
    const char* name = base_name(path);
    size_t length = __builtin_strlen(name);
    if (length >= MaxProcessName) length = MaxProcessName - 1;
    __builtin_memcpy(process.name, name, length);
    process.name[length] = '\0';
}

// Where a loaded program starts.
struct ProgramImage {
    uint64_t entry;
    uint64_t stack_pointer;  // at argc; argv follows at stack_pointer + 8
};

// The one loader, for spawn and execve: creates `space` and loads the archive's program `path` into
// it (segments, program break, stack with the arguments, environment and auxiliary vector). Errors: NotFound (no such program),
// Malformed (not a valid executable), InvalidArgument (no arguments, too many, too long), NoMemory.
// On failure `space` is left destroyed (nothing allocated).
Result<ProgramImage> load_program(AddressSpace& space, const char* path, const ProgramStrings& arguments,
                                  const ProgramStrings& environment) {
    if (!archive) return Error::NotFound;
    if (arguments.count == 0 || arguments.count > MaxArguments) return Error::InvalidArgument;
    if (environment.count > MaxEnvironment) return Error::InvalidArgument;
    size_t argument_bytes = 0, environment_bytes = 0;
    for (size_t i = 0; i < arguments.count; ++i) argument_bytes += __builtin_strlen(arguments.items[i]) + 1;
    for (size_t i = 0; i < environment.count; ++i) environment_bytes += __builtin_strlen(environment.items[i]) + 1;
    if (argument_bytes > MaxArgumentBytes || environment_bytes > MaxEnvironmentBytes) return Error::InvalidArgument;

    auto program = archive->find(path);
    if (!program || !program->is_regular_file()) return Error::NotFound;
    exec::Diagnostic diagnostic;
    auto plan = exec::plan_executable(program->data, program->size, diagnostic);
    if (!plan) {
        println("{}: not a valid executable: {} (offset {:#x})", path, diagnostic.message, diagnostic.offset);
        return Error::Malformed;
    }
    if (auto created = space.create(); !created) return created.error();
    if (auto mapped = vdso_binding::map_into(space); !mapped) {
        space.destroy();
        return mapped.error();
    }
    if (auto mapped = map_priority_table(space); !mapped) {
        space.destroy();
        return mapped.error();
    }
    if (auto loaded = load_segments(space, *plan, program->data); !loaded) {
        space.destroy();
        return loaded.error();
    }
    space.start_program_break(plan->highest_address);  // brk: just above the image
    auto sp = build_user_stack(space, *plan, path, arguments, environment);
    if (!sp) {
        space.destroy();
        return sp.error();
    }
    return ProgramImage{plan->entry, *sp};
}

// Frees a process record and drops its reference to its memory account (which objects charged to
// it may keep a while longer).
void free_record(Process& process) {
    drop_memory_account(process.account);
    delete &process;
}

mm::KernelStack kernel_stack_of(const Thread& thread) { return mm::kernel_stack_of_slot(thread.kernel_stack_bottom); }

// Frees a thread that never ran (spawn failing after the thread was made).
void release_unstarted_thread(Thread& thread) {
    mm::free_kernel_stack(kernel_stack_of(thread));
    delete &thread;
}

// A new thread's first entry to user mode, like every later one, passes finish_return_to_user.
[[noreturn]] void start_user_thread() {
    Thread* thread = current_thread();
    finish_return_to_user(*thread);
    note_entering_user_mode();
    return_to_user(thread->user);
}

void join_process(Process& process, Thread& thread) {
    ScopedLock guard(process.threads_lock);
    thread.next_in_process = process.threads;
    process.threads = &thread;
}

// Interrupts every hart that runs one of the process's threads: an ending process's threads running
// in user mode elsewhere trap at once and leave (finish_return_to_user) instead of at their next tick.
void kick_threads(Process& process) {
    ScopedLock guard(process.threads_lock);
    for (Thread* thread = process.threads; thread; thread = thread->next_in_process) kick(*thread);
}

Result<Thread*> create_thread(Process& process, uint64_t entry, uint64_t sp, uint64_t argc, uint64_t argv) {
    auto stack = mm::allocate_kernel_stack();  // mapped and flushed on this hart, which writes it below
    if (!stack) return stack.error();
    Thread* thread = new (std::nothrow) Thread;
    if (!thread) {
        mm::free_kernel_stack(*stack);
        return Error::NoMemory;
    }
    thread->kernel_stack_bottom = stack->bottom;
    thread->kernel_stack_top = stack->top;
    auto* context = reinterpret_cast<riscv::UserContext*>(thread->kernel_stack_top - sizeof(riscv::UserContext));
    *context = {};
    context->frame.sepc = entry;
    context->frame.regs[2] = sp;
    context->frame.regs[10] = argc;
    context->frame.regs[11] = argv;
    context->frame.sstatus = riscv::SstatusSpie;  // user mode (SPP = 0), interrupts on after sret
    context->kernel_sp = reinterpret_cast<uint64_t>(context);
    thread->user = context;
    thread->context.ra = reinterpret_cast<uint64_t>(&start_user_thread);
    thread->context.sp = reinterpret_cast<uint64_t>(context);
    thread->process = &process;
    thread->tid = next_pid.fetch_add(1);
    return thread;
}

} // namespace

bool init_archive() {
    if (archive) return true;
    const fdt::Range& initrd = boot_info().initrd;
    if (initrd.size == 0) return false;
    exec::Diagnostic diagnostic;
    auto opened = exec::cpio::Archive::open(mm::physical_map().to_virtual(initrd.base), initrd.size, diagnostic);
    if (!opened) {
        println("initial archive at {:#x}: {} (offset {:#x})", initrd.base, diagnostic.message, diagnostic.offset);
        return false;
    }
    archive = new (archive_storage) exec::cpio::Archive(*opened);
    return true;
}

bool for_each_program(void (*visit)(const char* name, size_t size)) {
    if (!archive) return false;
    auto visited = archive->for_each_file([visit](const exec::cpio::Entry& entry) {
        visit(entry.name, entry.size);
        return true;
    });
    return visited.has_value();
}

Result<Process*> spawn(const char* path, const char* const* arguments, size_t argument_count,
                       const SpawnOptions& options) {
    Process* process = new (std::nothrow) Process;
    if (!process) return Error::NoMemory;
    process->account = new_memory_account();
    if (!process->account) {
        delete process;
        return Error::NoMemory;
    }
    auto image = load_program(process->address_space, path, {arguments, argument_count}, options.environment);
    if (!image) {
        free_record(*process);
        return image.error();
    }
    auto fail = [&](Error error) -> Result<Process*> {
        process->files.close_all();
        process->address_space.destroy();
        free_record(*process);
        return error;
    };
    // a0 = 0 at entry: the psABI's "function to register with atexit" (none; glibc calls it if not 0).
    auto thread = create_thread(*process, image->entry, image->stack_pointer, 0, 0);
    if (!thread) return fail(thread.error());
    if (options.inherit_files) {
        process->files.inherit_from(*options.inherit_files);
    } else {
        for (int fd = 0; fd < 3; ++fd) {  // stdin, stdout, stderr: the console
            console_file().acquire();
            (void)process->files.install(console_file(), false);  // never full: the table is empty
        }
    }
    set_name(*process, path);
    process->pid = (*thread)->tid;
    process->live_threads.store(1);
    process->parent_pid = options.parent_pid;
    if (options.spawned_pid) *options.spawned_pid = process->pid;
    process->is_init = options.init;
    process->may_power_off = options.init || options.may_power_off;
    process->may_use_reserve = options.init || options.may_use_reserve;
    process->memory_limit = options.memory_limit != 0 ? options.memory_limit : default_memory_limit();
    {
        ScopedLock guard(table_lock);
        uint32_t slot = 0;
        while (slot < MaxProcesses && slots[slot]) ++slot;
        if (slot == MaxProcesses) {
            release_unstarted_thread(**thread);
            return fail(Error::NoMemory);
        }
        slots[slot] = process;
        process->slot = slot;
        process->next = processes;
        processes = process;
    }
    (void)add_process(*process);
    set_process_priority(*process, options.priority, options.priority_cap);
    join_process(*process, **thread);
    make_runnable(**thread);
    return process;
}

Result<Process*> create_kernel_process(const char* name) {
    Process* process = new (std::nothrow) Process;
    if (!process) return Error::NoMemory;
    set_name(*process, name);
    process->kernel_only = true;
    process->pid = 0;  // takes no pid, is in no list: no wait4, kill or process_list reaches it
    // Never torn down: a hold and a thread count of its own that nobody drops.
    process->holds.store(1);
    process->live_threads.store(1);
    {
        ScopedLock guard(table_lock);
        uint32_t slot = 0;
        while (slot < MaxProcesses && slots[slot]) ++slot;
        if (slot == MaxProcesses) {
            delete process;
            return Error::NoMemory;
        }
        slots[slot] = process;  // for the scheduler's pick only
        process->slot = slot;
    }
    if (!add_process(*process)) {
        ScopedLock guard(table_lock);
        slots[process->slot] = nullptr;
        delete process;
        return Error::NoMemory;
    }
    set_process_priority(*process, 0, 0);  // its threads' own priorities decide (scheduler.cpp, publish)
    return process;
}

Result<Thread*> create_sibling_thread(const riscv::TrapFrame& registers, void (*prepare)(Thread&, void*),
                                      void* context) {
    Process& process = *current_thread()->process;
    auto thread = create_thread(process, registers.sepc, registers.regs[2], 0, 0);
    if (!thread) return thread.error();
    (*thread)->user->frame = registers;
    fp_copy_to_new_thread(*current_thread(), **thread);
    prepare(**thread, context);
    process.live_threads.fetch_add(1);
    process.address_space.set_shared_across_harts();
    join_process(process, **thread);  // with every user-interrupt CSR zero (a new Thread)
    make_runnable(**thread);
    return *thread;
}

void exit_current_thread_of_process(int status) {
    Process* process = current_thread()->process;
    if (process->live_threads.load() == 1) exit_current_process(status);
    exit_current_thread();
}

Result<void> execute(Thread& thread, const char* path, const ProgramStrings& arguments,
                     const ProgramStrings& environment) {
    Process& process = *thread.process;
    if (process.live_threads.load() != 1) return Error::InvalidArgument;
    // On the kernel stack (about 1.6 KiB), not the heap: nothing is left cached after an execve.
    AddressSpace fresh;
    auto image = load_program(fresh, path, arguments, environment);
    if (!image) return image.error();
    // Nothing can fail from here on.
    process.address_space.swap(fresh);
    riscv::write_satp_and_flush(process.address_space.satp());
    fresh.destroy();  // the old program's frames and tables
    process.files.close_on_exec();
    set_name(process, path);
    reset_user_interrupts(thread);
    riscv::TrapFrame& frame = thread.user->frame;
    frame = {};
    frame.sepc = image->entry;
    frame.regs[2] = image->stack_pointer;                // a0 = 0: the call's result (sys_execve)
    frame.sstatus = riscv::SstatusSpie;                  // user mode (SPP = 0), interrupts on after sret
    fp_reset(thread);                                    // FP unit off, zeros, fcsr 0
    return success();
}

void exit_current_process(int status, bool killed) {
    Process* process = current_thread()->process;
    if (!process->exit_requested.exchange(true)) {
        process->exit_status = status;
        process->killed = killed;
    }
    // Its other threads, and its asynchronous calls waiting in the kernel, must notice.
    if (process->live_threads.load() > 1 || async_calls_in_flight(*process) != 0) {
        wake_process_waits(*process);
        kick_threads(*process);
    }
    exit_current_thread();
}

void leave_process(Thread& thread) {
    Process& process = *thread.process;
    ScopedLock guard(process.threads_lock);
    for (Thread** link = &process.threads; *link; link = &(*link)->next_in_process) {
        if (*link != &thread) continue;
        *link = thread.next_in_process;
        thread.next_in_process = nullptr;
        return;
    }
}

namespace {

// Takes an exited process out of the list (table_lock held): from here on nobody else finds it, so
// exactly one reaper frees it (free_reaped, without the lock).
void unlink_locked(Process& process) {
    for (Process** link = &processes; *link; link = &(*link)->next) {
        if (*link != &process) continue;
        *link = process.next;
        return;
    }
}

// The last reference to a record is gone: its slot (and the priority-table entry) and the record
// are freed. Its slot stays taken until then, so a ProcessRef's set_priority never reaches a slot
// another process has taken since.
void release_record(Process& process) {
    remove_process(process);
    {
        ScopedLock guard(table_lock);
        slots[process.slot] = nullptr;
    }
    free_record(process);
}

void drop_reference(Process& process) {
    if (process.references.fetch_sub(1, std::memory_order_acq_rel) == 1) release_record(process);
}

// A reaped process (out of the list): the table's reference goes.
void free_reaped(Process& process) { drop_reference(process); }

} // namespace

void release_exited_thread(Thread& thread) {
    Process* process = thread.process;
    mm::free_kernel_stack(kernel_stack_of(thread));
    delete &thread;
    if (process->kernel_only) kernel_thread_released();
    if (process->live_threads.fetch_sub(1) == 1) drop_process_hold(*process);  // the threads' hold
}

void drop_process_hold(Process& process) {
    if (process.holds.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
    // The last hold: no thread and no asynchronous call uses the process any more.
    process.files.close_all();  // pipe ends: the other side sees end of file or -EPIPE
    process.address_space.destroy();
    release_async_calls(process);
    // Orphans (children of a process that is gone) are reaped by the kernel as they exit, as init
    // reaps them on Linux: those exited already now, the others in their own drop_process_hold.
    Process* reap_now = nullptr;  // linked through `next` once out of the table
    {
        ScopedLock guard(table_lock);
        process.state = ProcessState::Exited;
        for (Process* p = processes, *next; p; p = next) {
            next = p->next;
            if (p == &process || p->parent_pid != process.pid) continue;
            p->parent_pid = 0;
            p->orphan = true;
            if (p->state != ProcessState::Exited) continue;
            unlink_locked(*p);
            p->next = reap_now;
            reap_now = p;
        }
        if (process.orphan) {
            unlink_locked(process);
            process.next = reap_now;
            reap_now = &process;
        }
    }
    wake_all_locked(child_exits);
    while (reap_now) {
        Process* reaped = reap_now;
        reap_now = reaped->next;
        free_reaped(*reaped);
    }
}

Process* process_in_slot(uint32_t slot) {
    ScopedLock guard(table_lock);
    return slot < MaxProcesses ? slots[slot] : nullptr;
}

void ProcessRef::reset() {
    if (process_) drop_reference(*process_);
    process_ = nullptr;
}

ProcessRef& ProcessRef::operator=(ProcessRef&& other) {
    if (this != &other) {
        reset();
        process_ = other.process_;
        other.process_ = nullptr;
    }
    return *this;
}

ProcessRef find_process(uint32_t pid) {
    ScopedLock guard(table_lock);
    for (Process* p = processes; p; p = p->next) {
        if (p->pid != pid) continue;
        p->references.fetch_add(1, std::memory_order_relaxed);  // in the table: the count is >= 1
        return ProcessRef(p);
    }
    return ProcessRef();
}

Result<int> reap(uint32_t pid) {
    Process* found = nullptr;
    {
        ScopedLock guard(table_lock);
        for (Process* p = processes; p; p = p->next) {
            if (p->pid != pid) continue;
            if (p->state != ProcessState::Exited) return Error::InvalidArgument;
            found = p;
            unlink_locked(*p);
            break;
        }
    }
    if (!found) return Error::NotFound;
    int status = found->exit_status;
    free_reaped(*found);
    return status;
}

void for_each_process(void (*visit)(const Process&, void*), void* context) {
    ScopedLock guard(table_lock);
    for (Process* p = processes; p; p = p->next) visit(*p, context);
}

Result<void> kill(uint32_t pid) {
    ProcessRef process = find_process(pid);
    if (!process) return Error::NotFound;
    if (!process->exit_requested.exchange(true)) {
        process->exit_status = StatusKilled;
        process->killed = true;
    }
    wake_process_waits(*process);  // exactly its waits, whatever they wait on
    kick_threads(*process);
    return success();
}

Result<ReapedChild> wait_for_child(uint32_t parent, int64_t pid, bool no_hang) {
    for (;;) {
        child_exits.lock.lock();
        bool any_child = false;
        Process* exited = nullptr;
        {
            // Found and taken out of the table under one hold of the lock: another thread of the
            // parent in wait4 at the same moment cannot reap the same child (it used to: issue 14).
            ScopedLock guard(table_lock);
            for (Process* p = processes; p; p = p->next) {
                if (p->parent_pid != parent || (pid != -1 && p->pid != pid)) continue;
                any_child = true;
                if (p->state == ProcessState::Exited) {
                    exited = p;
                    unlink_locked(*p);
                    break;
                }
            }
        }
        if (!any_child || exited || no_hang) {
            child_exits.lock.unlock();
            if (!any_child) return Error::NotFound;
            if (!exited) return ReapedChild{0, 0, false};
            ReapedChild result{exited->pid, exited->exit_status, exited->killed};
            free_reaped(*exited);
            return result;
        }
        sleep_on(child_exits);
        if (current_thread()->process->exit_requested.load()) return Error::InvalidArgument;
    }
}

Result<int> wait(uint32_t pid) {
    for (;;) {
        bool exited;
        {
            ScopedLock guard(table_lock);
            Process* p = processes;
            while (p && p->pid != pid) p = p->next;
            if (!p) return Error::NotFound;
            exited = p->state == ProcessState::Exited;
        }
        if (exited) return reap(pid);
        if (!run_kernel_step()) wait_for_kernel_work();
    }
}

Result<int> run_program(const char* path, const char* const* arguments, size_t argument_count) {
    auto process = spawn(path, arguments, argument_count);
    if (!process) return process.error();
    return wait((*process)->pid);
}

} // namespace kernel::proc
