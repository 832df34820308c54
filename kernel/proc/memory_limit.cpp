// The memory limit's accounting and its two system calls, set_memory_limit (1040) and memory_usage
// (1041). The checks themselves sit where memory is asked for: sys_mmap, sys_brk, sys_clone.
#include "kernel/proc/memory_limit.hpp"

#include "kernel/mm/heap.hpp"
#include "kernel/mm/physical.hpp"
#include "kernel/syscall/async_call.hpp"
#include "kernel/syscall/dispatch.hpp"

namespace kernel::proc {

static_assert(sizeof(Thread) <= mm::Heap::LargestBlock, "a Thread record is a heap block of a size class");

uint64_t thread_memory_bytes() {
    uint64_t record = mm::Heap::block_size_of(mm::Heap::size_class_for(sizeof(Thread), alignof(Thread)));
    return KernelStackFrames * mm::PageSize + record;
}

uint64_t memory_usage(const Process& process) {
    return process.address_space.user_pages() * mm::PageSize +
           (process.live_threads.load() + process.kernel_threads.load()) * thread_memory_bytes() +
           async_memory_bytes(process);
}

bool within_memory_limit(const Process& process, uint64_t more) {
    uint64_t limit = __atomic_load_n(&process.memory_limit, __ATOMIC_RELAXED);
    return limit == 0 || (more <= limit && memory_usage(process) <= limit - more);
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

} // namespace kernel::proc
