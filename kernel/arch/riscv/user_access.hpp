// The kernel's direct access to user memory with sstatus.SUM (user_access.S; docs/architecture.md,
// "User memory access"). AddressSpace (kernel/proc/address_space.cpp) is the one user: it calls these
// with its lock held, only for the address space loaded in satp, and only with ranges it checked
// lie in the user half.
#pragma once

#include <cstddef>
#include <cstdint>

// Copies `size` bytes, one side a user address; 0, or the bytes not copied if an access faulted.
extern "C" size_t user_access_copy(void* destination, const void* source, size_t size);
// 0 if every page of [first_page, last_page] (page-aligned) can be read (write == 0) or written now,
// -1 otherwise. Changes no byte.
extern "C" int user_access_probe(uint64_t first_page, uint64_t last_page, int write);

namespace kernel::riscv {

// One entry of the fault-fixup table (section user_access_fixups, written by user_access.S).
struct UserAccessFixup {
    uint64_t begin;  // a load/store/AMO page or access fault at a pc in [begin, end)
    uint64_t end;
    uint64_t fixup;  // resumes here
};

// The fixup for a fault at `pc`, or 0 if `pc` is in none of the table's ranges. trap.cpp.
uint64_t user_access_fixup(uint64_t pc);
// Faults resumed at a fixup since boot (all harts).
uint64_t user_access_faults_fixed();

} // namespace kernel::riscv
