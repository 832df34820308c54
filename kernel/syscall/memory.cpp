// System calls of the memory family: brk, mmap and munmap of anonymous private memory, with Linux
// semantics except where docs/syscalls.md ("Memory") says otherwise. The mechanism (regions, frames,
// the break) is AddressSpace's; this file checks arguments and chooses addresses.
#include "kernel/mm/memory.hpp"
#include "kernel/proc/memory_limit.hpp"
#include "kernel/proc/process.hpp"
#include "kernel/syscall/dispatch.hpp"
#include "kernel/syscall/handlers.hpp"

namespace kernel::proc {

namespace {

using mm::PageSize;

// Linux's values (asm-generic/mman-common.h, linux/mman.h).
constexpr uint64_t ProtRead = 0x1, ProtWrite = 0x2, ProtExecute = 0x4;
constexpr uint64_t MapShared = 0x01, MapPrivate = 0x02, MapTypeMask = 0x0f;
constexpr uint64_t MapFixed = 0x10, MapAnonymous = 0x20, MapNoReserve = 0x4000, MapPopulate = 0x8000,
                   MapStack = 0x20000, MapFixedNoReplace = 0x100000;
// Flags accepted besides the type. NORESERVE, POPULATE and STACK change nothing here: every page
// is allocated at mmap time anyway.
constexpr uint64_t SupportedMapFlags = MapFixed | MapAnonymous | MapNoReserve | MapPopulate | MapStack | MapFixedNoReplace;

// Rounds a length up to whole pages; 0 if it is 0 or the rounding overflows.
uint64_t page_rounded_length(uint64_t length) {
    if (length == 0 || length > ~uint64_t{0} - (PageSize - 1)) return 0;
    return (length + PageSize - 1) & ~(PageSize - 1);
}

// PROT_* to page-table permissions. W implies R (Sv39 has no write-only pages); X implies R too,
// so that code can read constants placed beside it. 0 means PROT_NONE (a reservation).
uint64_t page_permissions(uint64_t protection) {
    uint64_t permissions = 0;
    if (protection & ProtRead) permissions |= mm::pte::Read;
    if (protection & ProtWrite) permissions |= mm::pte::Read | mm::pte::Write;
    if (protection & ProtExecute) permissions |= mm::pte::Read | mm::pte::Execute;
    return permissions;
}

} // namespace

// brk(address): moves the break to `address` and returns the new break; returns the unchanged break
// for 0 and for any address it refuses (below the start, past the limit, into another mapping, out
// of memory). Never an errno, as on Linux.
long sys_brk(Thread& thread, SyscallArguments a) {
    AddressSpace& space = thread.process->address_space;
    uint64_t requested = a[0];
    uint64_t mapped_end = (space.program_break() + PageSize - 1) & ~(PageSize - 1);
    uint64_t growth = requested > mapped_end ? ((requested - mapped_end + PageSize - 1) & ~(PageSize - 1)) : 0;
    if (growth && !within_memory_limit(*thread.process, growth)) return static_cast<long>(space.program_break());
    if (requested != 0) (void)space.set_program_break(requested);
    return static_cast<long>(space.program_break());
}

// mmap(address, length, protection, flags, fd, offset): anonymous private memory only.
long sys_mmap(Thread& thread, SyscallArguments a) {
    uint64_t address = a[0], length = a[1], protection = a[2], flags = a[3];
    int64_t fd = static_cast<int64_t>(a[4]);
    uint64_t offset = a[5];
    AddressSpace& space = thread.process->address_space;

    uint64_t size = page_rounded_length(length);
    if (size == 0) return -Errno::Invalid;
    if (protection & ~(ProtRead | ProtWrite | ProtExecute)) return -Errno::Invalid;
    if ((protection & ProtWrite) && (protection & ProtExecute)) return -Errno::Invalid;  // W^X
    if ((flags & MapTypeMask) != MapPrivate) return -Errno::Invalid;  // MAP_SHARED(_VALIDATE): not supported
    if (flags & ~(MapTypeMask | SupportedMapFlags)) return -Errno::Invalid;
    if (!(flags & MapAnonymous)) return -Errno::NoDevice;  // no file supports mapping yet
    if (fd != -1 || offset != 0) return -Errno::Invalid;
    uint64_t permissions = page_permissions(protection);
    // Refuse early what cannot be backed, so that MAP_FIXED does not discard the old mapping for
    // nothing (frames can still run out later, with another process allocating; then the call
    // fails with nothing of it mapped).
    if (permissions && size / PageSize > mm::frames().free_frames()) return -Errno::NoMemory;
    if (permissions && !within_memory_limit(*thread.process, size)) return -Errno::NoMemory;

    // Placed, old mappings replaced and the new one made in one step under the address space's lock:
    // another thread's mmap or munmap cannot come in between (issue 14).
    using Placement = AddressSpace::Placement;
    Placement placement = Placement::Anywhere;
    if (flags & (MapFixed | MapFixedNoReplace)) {
        if (address % PageSize) return -Errno::Invalid;
        if (address < UserMapMinimum) return -Errno::NotPermitted;  // as Linux below mmap_min_addr
        if (address >= UserMapLimit || size > UserMapLimit - address) return -Errno::NoMemory;
        placement = (flags & MapFixedNoReplace) ? Placement::FixedNoReplace : Placement::Fixed;
    }
    auto mapped = space.map(address, size, permissions, placement);
    if (!mapped) return errno_of(mapped.error());
    address = *mapped;
    return static_cast<long>(address);
}

// mprotect(address, length, protection): every page of the range must be mapped (or PROT_NONE
// reserved); pages made accessible from PROT_NONE are backed then (and counted by the memory limit),
// pages made PROT_NONE lose their frames (docs/syscalls.md). W^X as in mmap.
long sys_mprotect(Thread& thread, SyscallArguments a) {
    uint64_t address = a[0], length = a[1], protection = a[2];
    if (address % PageSize) return -Errno::Invalid;
    if (length == 0) return 0;
    uint64_t size = page_rounded_length(length);
    if (size == 0) return -Errno::NoMemory;
    constexpr uint64_t ProtGrowsDown = 0x01000000, ProtGrowsUp = 0x02000000;
    if (protection & ~(ProtRead | ProtWrite | ProtExecute | ProtGrowsDown | ProtGrowsUp)) return -Errno::Invalid;
    if ((protection & ProtWrite) && (protection & ProtExecute)) return -Errno::Invalid;  // W^X
    uint64_t permissions = page_permissions(protection);
    if (permissions && !within_memory_limit(*thread.process, size)) return -Errno::NoMemory;
    if (auto changed = thread.process->address_space.protect(address, size, permissions); !changed)
        return errno_of(changed.error());
    return 0;
}

// munmap(address, length): unmaps every page of [address, address + length rounded up to pages);
// pages not mapped are skipped, so unmapping a hole succeeds.
long sys_munmap(Thread& thread, SyscallArguments a) {
    uint64_t address = a[0], length = a[1];
    uint64_t size = page_rounded_length(length);
    if (address % PageSize || size == 0) return -Errno::Invalid;
    if (address >= UserSpaceEnd || size > UserSpaceEnd - address) return -Errno::Invalid;
    if (auto unmapped = thread.process->address_space.unmap(address, size); !unmapped) return errno_of(unmapped.error());
    return 0;
}

} // namespace kernel::proc
