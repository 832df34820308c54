#include "vdso/global_priority.hpp"

namespace vdso {

namespace {

using Guard = ScopedLock<SpinLock>;

uint32_t clamp(uint32_t requested, uint32_t cap) {
    if (requested == NoPriority) return NoPriority;
    return requested < cap ? cap : requested;
}

void unlink(GlobalPriorityTable& table, uint32_t process) {
    ProcessPriority& entry = global_priority_entries(table)[process];
    const uint32_t level = entry.effective.load(std::memory_order_relaxed);
    if (level == NoPriority) return;
    std::atomic<uint32_t>& cursor = table.cursor[level];
    if (entry.next == process) { // alone in its ring
        cursor.store(NoIndex, std::memory_order_relaxed);
        table.levels.clear(level);
    } else {
        global_priority_entries(table)[entry.previous].next = entry.next;
        global_priority_entries(table)[entry.next].previous = entry.previous;
        if (cursor.load(std::memory_order_relaxed) == process) {
            cursor.store(entry.next, std::memory_order_relaxed);
        }
    }
    entry.next = entry.previous = NoIndex;
    entry.effective.store(NoPriority, std::memory_order_relaxed);
}

// Insert just before the cursor: the process gets its turn after every process already waiting.
void link(GlobalPriorityTable& table, uint32_t process, uint32_t level) {
    ProcessPriority& entry = global_priority_entries(table)[process];
    entry.effective.store(static_cast<uint8_t>(level), std::memory_order_relaxed);
    if (level == NoPriority) return;
    std::atomic<uint32_t>& cursor = table.cursor[level];
    const uint32_t first = cursor.load(std::memory_order_relaxed);
    if (first == NoIndex) {
        entry.next = entry.previous = process;
        cursor.store(process, std::memory_order_relaxed);
        table.levels.set(level);
        return;
    }
    ProcessPriority& before = global_priority_entries(table)[first];
    entry.next = first;
    entry.previous = before.previous;
    global_priority_entries(table)[before.previous].next = process;
    before.previous = process;
}

void relink(GlobalPriorityTable& table, uint32_t process) {
    ProcessPriority& entry = global_priority_entries(table)[process];
    const uint32_t level = clamp(entry.requested, entry.cap);
    if (level == entry.effective.load(std::memory_order_relaxed)) return;
    unlink(table, process);
    link(table, process, level);
}

bool valid(const GlobalPriorityTable& table, uint32_t process) {
    return process < table.capacity && global_priority_entries(table)[process].in_use;
}

} // namespace

Result<void> global_priority_init(GlobalPriorityTable& table, ProcessPriority* processes,
                                  uint32_t capacity) {
    if (processes == nullptr || capacity == 0 || capacity == NoIndex) return Error::InvalidArgument;
    table.entries_offset = reinterpret_cast<char*>(processes) - reinterpret_cast<char*>(&table);
    table.capacity = capacity;
    for (uint32_t process = 0; process < capacity; ++process) {
        ProcessPriority& entry = processes[process];
        entry.effective.store(NoPriority, std::memory_order_relaxed);
        entry.requested = NoPriority;
        entry.cap = 0;
        entry.in_use = false;
        entry.next = entry.previous = NoIndex;
    }
    for (auto& cursor : table.cursor) cursor.store(NoIndex, std::memory_order_relaxed);
    return kernel::success();
}

Result<void> global_priority_add(GlobalPriorityTable& table, uint32_t process, uint32_t cap) {
    if (process >= table.capacity || cap >= PriorityLevels) return Error::InvalidArgument;
    Guard guard(table.lock);
    ProcessPriority& entry = global_priority_entries(table)[process];
    if (entry.in_use) return Error::AlreadyExists;
    entry.in_use = true;
    entry.cap = static_cast<uint8_t>(cap);
    entry.requested = NoPriority;
    return kernel::success();
}

Result<void> global_priority_publish(GlobalPriorityTable& table, uint32_t process,
                                     uint32_t priority) {
    if (priority > NoPriority) return Error::InvalidArgument;
    Guard guard(table.lock);
    if (!valid(table, process)) return Error::NotFound;
    global_priority_entries(table)[process].requested = static_cast<uint8_t>(priority);
    relink(table, process);
    return kernel::success();
}

Result<void> global_priority_set_cap(GlobalPriorityTable& table, uint32_t process, uint32_t cap) {
    if (cap >= PriorityLevels) return Error::InvalidArgument;
    Guard guard(table.lock);
    if (!valid(table, process)) return Error::NotFound;
    global_priority_entries(table)[process].cap = static_cast<uint8_t>(cap);
    relink(table, process);
    return kernel::success();
}

Result<void> global_priority_remove(GlobalPriorityTable& table, uint32_t process) {
    Guard guard(table.lock);
    if (!valid(table, process)) return Error::NotFound;
    unlink(table, process);
    ProcessPriority& entry = global_priority_entries(table)[process];
    entry.in_use = false;
    entry.requested = NoPriority;
    entry.cap = 0;
    return kernel::success();
}

Result<uint32_t> global_priority_pick_highest(GlobalPriorityTable& table) {
    Guard guard(table.lock);
    const uint32_t level = table.levels.highest();
    if (level == NoPriority) return Error::NotFound;
    std::atomic<uint32_t>& cursor = table.cursor[level];
    const uint32_t process = cursor.load(std::memory_order_relaxed);
    cursor.store(global_priority_entries(table)[process].next, std::memory_order_relaxed);
    return process;
}

void global_priority_publish_hook(void* binding, uint32_t priority) {
    const auto& target = *static_cast<GlobalPriorityBinding*>(binding);
    (void)global_priority_publish(*target.table, target.process, priority);
}

bool global_priority_should_yield_hook(void* binding) {
    const auto& target = *static_cast<GlobalPriorityBinding*>(binding);
    return global_priority_should_yield(*target.table, target.process);
}

bool global_priority_check_invariants(GlobalPriorityTable& table) {
    Guard guard(table.lock);
    uint32_t linked = 0;
    for (uint32_t level = 0; level < PriorityLevels; ++level) {
        const uint32_t first = table.cursor[level].load(std::memory_order_relaxed);
        if ((first != NoIndex) != table.levels.test(level)) return false;
        if (first == NoIndex) continue;
        uint32_t process = first;
        do {
            const ProcessPriority& entry = global_priority_entries(table)[process];
            if (!entry.in_use || entry.effective.load(std::memory_order_relaxed) != level) return false;
            if (global_priority_entries(table)[entry.next].previous != process) return false;
            if (++linked > table.capacity) return false;
            process = entry.next;
        } while (process != first);
    }
    uint32_t listed = 0;
    for (uint32_t process = 0; process < table.capacity; ++process) {
        const ProcessPriority& entry = global_priority_entries(table)[process];
        const uint32_t effective = entry.effective.load(std::memory_order_relaxed);
        if (effective != NoPriority) ++listed;
        if (entry.in_use && effective != clamp(entry.requested, entry.cap)) return false;
        if (!entry.in_use && effective != NoPriority) return false;
    }
    return listed == linked;
}

} // namespace vdso
