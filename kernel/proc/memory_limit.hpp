// A process's memory limit, the usage it is checked against, and the memory reserve.
//
// Usage counts what a process makes the kernel hold for it, per thread and per page:
//   * every user page it has mapped (program segments, stack, brk, mmap: AddressSpace::user_pages());
//   * the page-table pages of its address space (PageTable::table_pages(), the root included);
//   * for each live thread, its kernel stack (KernelStackFrames pages; the guard below it is address
//     space only, no memory) and its Thread record (the kernel heap block that holds it); the same
//     for each kernel thread made for its calls (a socket's connection threads, Process::kernel_threads);
//   * its asynchronous calls' completion ring and call slots (async_setup's frames);
//   * its process record and its MemoryAccount (heap blocks; the descriptor table is inside the record
//     and never grows);
//   * what its MemoryAccount is charged with (MemoryCharge): every pipe it created (the record and its
//     4 KiB buffer: one heap block of two frames) and every socket it created or that was accepted on
//     a listener it created (the Socket record), until the object is freed — even when the
//     descriptors went to other processes and the creator has ended.
// Not counted: the shared vDSO and priority-table pages (one copy for all processes); lwIP's pools
// and heap (packets queued on sockets, protocol control blocks: global, static and bounded,
// kernel/net/lwip/lwipopts.h), the kernel stack area's page tables (the kernel's, kept).
//
// The limit. Every process has one: the kernel's default (default_memory_limit(): half of RAM, or the
// boot argument memlimit=BYTES, with K, M or G; memlimit=0 means none) for the processes the kernel
// starts (init, self-test and benchmark programs); a spawned process starts with its parent's limit.
// A parent may set its child's limit to any value up to its own (set_child_memory_limit); a process
// can only lower its own (set_memory_limit, prlimit64 RLIMIT_AS/RLIMIT_DATA), so code it runs
// afterwards, and the children it spawns afterwards, cannot lift it.
//
// The user pages, threads and async frames are checked when memory is asked for (mmap, brk, clone,
// async_setup), never reserved: two threads of a process asking at the same moment may together pass
// it by one request each (page-table pages a request needs are not part of the request). A
// MemoryCharge is taken, then checked: kernel objects never pass the limit together.
//
// The reserve (docs/reliability.md): the last reserve_frames() free frames of the frame allocator (and
// so of the kernel heap, which draws on it) are only given to the kernel itself (code not running a
// process's thread: boot, self-tests, bottom halves, the work executor, interrupt handlers) and to
// the threads of init and of the processes init spawns itself (the shell) — Process::may_use_reserve.
// Every other process's allocation fails there with NoMemory, whatever its limit.
#pragma once

#include <atomic>
#include <cstdint>
#include <string_view>

#include "kernel/mm/heap.hpp"
#include "kernel/proc/thread.hpp"
#include "kernel/syscall/handlers.hpp"

namespace kernel::proc {

// Sets the default limit and the reserve from the boot arguments and the frame allocator's size, and
// installs the reserve in the frame allocator. Once at boot, before any process exists.
void init_memory_limits(std::string_view bootargs);
uint64_t default_memory_limit();  // bytes; 0: none
size_t reserve_frames();

// Whether the code running now may take frames of the reserve (the frame allocator's hook).
bool may_use_memory_reserve();

// What one thread costs the kernel: its kernel stack plus the heap block of its Thread record.
uint64_t thread_memory_bytes();
// What a process record costs (the heap blocks of its Process and its MemoryAccount).
uint64_t process_record_bytes();

// The usage defined above, in bytes.
uint64_t memory_usage(const Process& process);

// Whether `process` may take `more` bytes without passing its limit.
bool within_memory_limit(const Process& process, uint64_t more);

// The account of what the kernel holds for a process beyond its pages and threads. Its own heap
// block, counted: it outlives the process record while objects charged to it live (a pipe passed
// to a child), so that freeing them never touches a freed process.
struct MemoryAccount {
    std::atomic<uint32_t> references{1};  // the process record's, and one per MemoryCharge holding bytes
    std::atomic<uint64_t> bytes{0};
};
// A new account for a process record (nullptr when out of memory); drop_memory_account releases
// the record's reference (the account is freed with its last one).
MemoryAccount* new_memory_account();
void drop_memory_account(MemoryAccount* account);

// A charge a kernel object holds on the account of the process it was made for: taken when the
// object is made, released (exactly the bytes taken) when it is freed (the destructor).
class MemoryCharge {
public:
    MemoryCharge() = default;
    MemoryCharge(const MemoryCharge&) = delete;
    MemoryCharge& operator=(const MemoryCharge&) = delete;
    ~MemoryCharge() { release(); }

    // Charges `bytes` to `process`; false (nothing charged) when its usage would pass its limit.
    bool take(Process& process, uint64_t bytes);
    // Charges `bytes` to the account `other` is charged to, without a check (an object made by the
    // kernel for that account's owner, e.g. a connection accepted on its listener, bounded elsewhere).
    // Nothing when `other` holds no charge.
    void take_alike(const MemoryCharge& other, uint64_t bytes);
    void release();
    uint64_t bytes() const { return bytes_; }

private:
    void attach(MemoryAccount& account, uint64_t bytes);
    MemoryAccount* account_ = nullptr;
    uint64_t bytes_ = 0;
};

// What the kernel heap takes for a `new` of a T (its block or frames): what a MemoryCharge for it charges.
// (operator new asks the heap for 16-byte alignment.)
template <typename T>
uint64_t heap_bytes_of() {
    return mm::Heap::footprint(sizeof(T), 16);
}

} // namespace kernel::proc
