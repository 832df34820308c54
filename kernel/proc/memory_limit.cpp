// The memory limit's accounting, the reserve, and the calls set_memory_limit (1040), memory_usage
// (1041) and set_child_memory_limit (1043). The checks themselves sit where memory is asked for:
// sys_mmap, sys_brk, sys_clone, async_setup, and MemoryCharge::take (pipes, sockets).
#include "kernel/proc/memory_limit.hpp"

#include <new>

#include "kernel/arch/riscv/hart.hpp"
#include "kernel/console/log.hpp"
#include "kernel/lib/bootargs.hpp"
#include "kernel/mm/memory.hpp"
#include "kernel/mm/physical.hpp"
#include "kernel/proc/process.hpp"
#include "kernel/sched/scheduler.hpp"
#include "kernel/syscall/async_call.hpp"
#include "kernel/syscall/dispatch.hpp"

namespace kernel::proc {

static_assert(sizeof(Thread) <= mm::Heap::LargestBlock, "a Thread record is a heap block of a size class");

namespace {

uint64_t default_limit = 0;
size_t reserve = 0;
// Constants of the build, computed once (init_memory_limits): every mmap, brk and clone adds them up.
uint64_t thread_bytes = 0;
uint64_t record_bytes = 0;

// memlimit=BYTES with an optional K, M or G; false if it is not that.
bool parse_bytes(std::string_view text, uint64_t& bytes) {
    if (text.empty()) return false;
    uint64_t value = 0;
    size_t i = 0;
    for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
        if (value > (~uint64_t{0} - 9) / 10) return false;
        value = value * 10 + static_cast<uint64_t>(text[i] - '0');
    }
    if (i == 0) return false;
    uint64_t unit = 1;
    if (i + 1 == text.size()) {
        char suffix = text[i];
        unit = suffix == 'K' || suffix == 'k' ? 1ull << 10 : suffix == 'M' || suffix == 'm' ? 1ull << 20
             : suffix == 'G' || suffix == 'g' ? 1ull << 30 : 0;
        if (unit == 0) return false;
    } else if (i != text.size()) {
        return false;
    }
    if (value > ~uint64_t{0} / unit) return false;
    bytes = value * unit;
    return true;
}

} // namespace

void init_memory_limits(std::string_view bootargs) {
    thread_bytes = KernelStackFrames * mm::PageSize +
                   mm::Heap::block_size_of(mm::Heap::size_class_for(sizeof(Thread), alignof(Thread)));
    record_bytes = heap_bytes_of<Process>() + heap_bytes_of<MemoryAccount>();
    size_t total = mm::frames().total_frames();
    // The reserve: 1/32 of RAM (8 MiB of 256 MiB), at least 1 MiB. Enough for init to spawn the shell
    // again and for the kernel's own work (bottom halves, the network) while every other process
    // has taken all it could.
    reserve = total / 32 < 256 ? 256 : total / 32;
    default_limit = total / 2 * mm::PageSize;
    std::string_view asked = BootArgs(bootargs).value("memlimit");
    uint64_t bytes = 0;
    if (!asked.empty()) {
        if (parse_bytes(asked, bytes)) default_limit = bytes;
        else println("memlimit={}: not a size (bytes, K, M or G); the default stays", asked);
    }
    mm::frames().set_reserve(reserve, may_use_memory_reserve);
    println("memory: {} KiB default limit per process, {} frames reserved for the kernel and init",
            default_limit / 1024, reserve);
}

uint64_t default_memory_limit() { return default_limit; }
size_t reserve_frames() { return reserve; }

bool may_use_memory_reserve() {
    if (in_interrupt_handler()) return true;
    Thread* thread = current_thread();
    return thread == nullptr || thread->process == nullptr || thread->process->may_use_reserve;
}

uint64_t thread_memory_bytes() { return thread_bytes; }
uint64_t process_record_bytes() { return record_bytes; }

uint64_t memory_usage(const Process& process) {
    const AddressSpace& space = process.address_space;
    const MemoryAccount* account = process.account;
    return (space.user_pages() + space.page_table().table_pages()) * mm::PageSize +
           (process.live_threads.load() + process.kernel_threads.load()) * thread_memory_bytes() + async_memory_bytes(process) +
           process_record_bytes() + (account ? account->bytes.load(std::memory_order_relaxed) : 0);
}

bool within_memory_limit(const Process& process, uint64_t more) {
    uint64_t limit = __atomic_load_n(&process.memory_limit, __ATOMIC_RELAXED);
    return limit == 0 || (more <= limit && memory_usage(process) <= limit - more);
}

MemoryAccount* new_memory_account() { return new (std::nothrow) MemoryAccount; }

void drop_memory_account(MemoryAccount* account) {
    if (account && account->references.fetch_sub(1, std::memory_order_acq_rel) == 1) delete account;
}

void MemoryCharge::attach(MemoryAccount& account, uint64_t bytes) {
    account.references.fetch_add(1, std::memory_order_relaxed);
    account_ = &account;
    bytes_ = bytes;
}

bool MemoryCharge::take(Process& process, uint64_t bytes) {
    release();
    MemoryAccount* account = process.account;
    if (!account) return false;
    // Taken, then checked: two charges at the same moment cannot both pass the limit.
    account->bytes.fetch_add(bytes, std::memory_order_relaxed);
    uint64_t limit = __atomic_load_n(&process.memory_limit, __ATOMIC_RELAXED);
    if (limit != 0 && memory_usage(process) > limit) {
        account->bytes.fetch_sub(bytes, std::memory_order_relaxed);
        return false;
    }
    attach(*account, bytes);
    return true;
}

void MemoryCharge::take_alike(const MemoryCharge& other, uint64_t bytes) {
    release();
    if (!other.account_) return;
    other.account_->bytes.fetch_add(bytes, std::memory_order_relaxed);
    attach(*other.account_, bytes);
}

void MemoryCharge::release() {
    if (!account_) return;
    account_->bytes.fetch_sub(bytes_, std::memory_order_relaxed);
    drop_memory_account(account_);
    account_ = nullptr;
    bytes_ = 0;
}

// set_memory_limit(bytes): limits the calling process to `bytes` of memory usage (memory_limit.hpp).
// A limit can only be lowered: -EPERM for 0 or a value above the current limit. A limit below the
// current usage is allowed; requests fail from then on. Returns 0.
long sys_set_memory_limit(Thread& thread, SyscallArguments a) {
    Process& process = *thread.process;
    uint64_t current = __atomic_load_n(&process.memory_limit, __ATOMIC_RELAXED);
    if (a[0] == 0 || (current != 0 && a[0] > current)) return -Errno::NotPermitted;
    __atomic_store_n(&process.memory_limit, a[0], __ATOMIC_RELAXED);
    return 0;
}

// memory_usage(): the calling process's usage in bytes, as the limit counts it.
long sys_memory_usage(Thread& thread, SyscallArguments) { return static_cast<long>(memory_usage(*thread.process)); }

// set_child_memory_limit(pid, bytes): a parent sets its child's limit to `bytes`, at most its own
// (any, if it has none). -ESRCH: no such process or it has exited; -EPERM: not the caller's child,
// or `bytes` above the caller's limit; -EINVAL: 0. Returns 0.
long sys_set_child_memory_limit(Thread& thread, SyscallArguments a) {
    ProcessRef target = find_process(static_cast<uint32_t>(a[0]));
    if (!target || target->state == ProcessState::Exited) return -Errno::NoProcess;
    if (target->parent_pid != thread.process->pid) return -Errno::NotPermitted;
    if (a[1] == 0) return -Errno::Invalid;
    uint64_t own = __atomic_load_n(&thread.process->memory_limit, __ATOMIC_RELAXED);
    if (own != 0 && a[1] > own) return -Errno::NotPermitted;
    __atomic_store_n(&target->memory_limit, a[1], __ATOMIC_RELAXED);
    return 0;
}

} // namespace kernel::proc
