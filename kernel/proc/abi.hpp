// The parts of the user/kernel interface that are not plain registers, defined once for both sides:
// the kernel includes this header, and so does the user runtime (user/lib/syscall.hpp). Freestanding.
// docs/syscalls.md describes every call.
#pragma once

#include <cstdint>

namespace cokernel::abi {

// The project's own system calls, numbered from 1024 (Linux riscv64 numbers stay below 512).
enum ProjectSyscall : long {
    Spawn = 1024,
    ListPrograms = 1025,
    ProcessList = 1026,
    SetPriority = 1027,
    GetPriority = 1028,
    SetPriorityCap = 1029,
    ShouldYield = 1030,
    PrioritySlot = 1031,
    RaiseUserInterrupt = 1032,  // raise_user_interrupt(tid): docs/user-interrupts.md
};
constexpr long FirstProjectSyscall = Spawn;

// Auxiliary-vector key (project-specific): where the global priority table is mapped, read-only.
constexpr uint64_t AuxPriorityTable = 0x1000;

constexpr uint32_t MaxProcessName = 32;

// One entry of process_list.
struct ProcessRecord {
    uint32_t pid;
    uint32_t parent_pid;
    uint8_t priority;
    uint8_t priority_cap;
    uint8_t exited;
    uint8_t reserved;
    uint32_t user_pages;
    char name[MaxProcessName];
};
static_assert(sizeof(ProcessRecord) == 48, "process_list records are 48 bytes");

// struct timespec of the Linux riscv64 ABI (clock_gettime, nanosleep).
struct Timespec {
    int64_t seconds;
    int64_t nanoseconds;
};

} // namespace cokernel::abi
