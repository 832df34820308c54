// GlobalPriorityTable: the highest ready priority of every process, and an O(1) pick of the process
// to run next (paper §3.2, done differently: the kernel is the only writer, processes only read).
//
// Layout: a PriorityBitmap of levels that hold at least one process, and per level a circular list
// of its processes with a round-robin cursor. A process appears in the list of its *effective*
// priority = max(published, cap) (numerically; 0 is the highest), so no process rises above its cap.
// Invariants (writers hold `lock`):
//   * bit p set  <=>  ring p non-empty  <=>  cursor[p] != NoIndex;
//   * a process is in ring p  <=>  in_use and effective == p (NoPriority: in no ring).
// Readers (pick-free queries: highest(), priority_of(), should_yield()) take no lock and only load
// atomics, so the table can be mapped read-only into every process.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "abi/result.hpp"
#include "vdso/executor.hpp"
#include "vdso/priority_bitmap.hpp"
#include "abi/spin_lock.hpp"

namespace vdso {

struct ProcessPriority {
    std::atomic<uint8_t> effective{NoPriority}; // what readers see
    // Writer-only (guarded by the table's lock):
    uint8_t requested = NoPriority; // last published, unclamped
    uint8_t cap = 0;                 // most urgent priority allowed
    bool in_use = false;
    uint32_t next = NoIndex;        // ring links within the level
    uint32_t previous = NoIndex;
};

struct GlobalPriorityTable {
    SpinLock lock; // taken by writers only
    // Where the per-process entries are, as a byte offset from this table, not a pointer: the table and
    // its entries are mapped read-only into every process at another address than the kernel's.
    std::ptrdiff_t entries_offset = 0;
    uint32_t capacity = 0;
    PriorityBitmap<PriorityLevels> levels;
    std::atomic<uint32_t> cursor[PriorityLevels]; // next process to pick at each level
};

inline ProcessPriority* global_priority_entries(GlobalPriorityTable& table) {
    return reinterpret_cast<ProcessPriority*>(reinterpret_cast<char*>(&table) + table.entries_offset);
}
inline const ProcessPriority* global_priority_entries(const GlobalPriorityTable& table) {
    return reinterpret_cast<const ProcessPriority*>(reinterpret_cast<const char*>(&table) + table.entries_offset);
}

// --- writer API (the kernel) ---
Result<void> global_priority_init(GlobalPriorityTable& table, ProcessPriority* processes,
                                  uint32_t capacity);
// Start tracking `process` with a cap (nothing published yet).
Result<void> global_priority_add(GlobalPriorityTable& table, uint32_t process, uint32_t cap);
// The process's highest ready priority (NoPriority: nothing ready), clamped to its cap.
Result<void> global_priority_publish(GlobalPriorityTable& table, uint32_t process,
                                     uint32_t priority);
Result<void> global_priority_set_cap(GlobalPriorityTable& table, uint32_t process, uint32_t cap);
Result<void> global_priority_remove(GlobalPriorityTable& table, uint32_t process);
// The process to run next: highest effective priority, round-robin among equals. NotFound if none.
Result<uint32_t> global_priority_pick_highest(GlobalPriorityTable& table);

// --- reader API (lock-free loads; safe on a read-only mapping) ---
inline uint32_t global_priority_highest(const GlobalPriorityTable& table) {
    return table.levels.highest();
}
inline uint32_t global_priority_of(const GlobalPriorityTable& table, uint32_t process) {
    if (process >= table.capacity) return NoPriority;
    return global_priority_entries(table)[process].effective.load(std::memory_order_relaxed);
}
// True when some process is strictly more urgent than `process`: the poll loop's should_yield_hart.
// Two loads and a mask, no count of trailing zeros.
inline bool global_priority_should_yield(const GlobalPriorityTable& table, uint32_t process) {
    return table.levels.any_more_urgent_than(global_priority_of(table, process));
}
// The same for a reader that looked its own entry up once (`own` = global_priority_entries(table)
// [process], process < table.capacity): what a process's poll loop asks after every coroutine.
inline bool global_priority_should_yield(const GlobalPriorityTable& table, const ProcessPriority& own) {
    return table.levels.any_more_urgent_than(own.effective.load(std::memory_order_relaxed));
}

// Connecting an executor to the table (the kernel's own executor; a process's executor reaches the
// table through a system call instead, since it may only read it):
//     GlobalPriorityBinding binding{&table, process};
//     executor.hooks.highest_priority_changed = &global_priority_publish_hook;
//     executor.hooks.highest_priority_context = &binding;
//     executor.hooks.should_yield_hart = &global_priority_should_yield_hook;
//     executor.hooks.should_yield_context = &binding;
struct GlobalPriorityBinding {
    GlobalPriorityTable* table;
    uint32_t process;
};
void global_priority_publish_hook(void* binding, uint32_t priority);
bool global_priority_should_yield_hook(void* binding);

// For tests: the invariants above. O(capacity).
bool global_priority_check_invariants(GlobalPriorityTable& table);

} // namespace vdso
