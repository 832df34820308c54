// Baseline 1: the paper's executor, as its rCore (Rust) implementation builds it, in C++.
//
//   * coroutines in an ordered map keyed by ID (BTreeMap<CoroutineId, Arc<Coroutine>>): std::map of
//     shared_ptr, so fetch clones a reference-counted pointer as the original clones an Arc;
//   * a queue of IDs per priority (VecDeque): std::deque, 8 priority levels and an 8-bit bitmap that
//     fetch scans level by level in a loop;
//   * one spin lock (spin::Mutex) around the executor, taken by fetch and again by re_back;
//   * the global priority: an array with one entry per process that every process writes and the
//     poll loop scans linearly after each coroutine to see whether a more urgent process is ready.
#pragma once

#include <array>
#include <atomic>
#include <coroutine>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>

namespace baseline {

// spin::Mutex: test-and-set spin lock.
class SpinMutex {
public:
    void lock() {
        while (locked_.exchange(true, std::memory_order_acquire)) {
        }
    }
    void unlock() { locked_.store(false, std::memory_order_release); }

private:
    std::atomic<bool> locked_{false};
};

inline constexpr int PaperLevels = 8;
inline constexpr int PaperProcesses = 16;
inline constexpr uint8_t PaperNoPriority = PaperLevels;

// The global array: process -> highest ready priority (plain shared memory in the paper).
struct PaperGlobalPriorities {
    std::array<uint8_t, PaperProcesses> priority;
    PaperGlobalPriorities() { priority.fill(PaperNoPriority); }
    // Linear scan: is any other process more urgent than `self`?
    bool higher_than(int self) const {
        uint8_t best = PaperNoPriority;
        int best_process = -1;
        for (int process = 0; process < PaperProcesses; ++process) {
            if (priority[process] < best) {
                best = priority[process];
                best_process = process;
            }
        }
        return best_process != -1 && best_process != self && best < priority[self];
    }
};

struct PaperCoroutine {
    uint64_t id;
    int priority;
    std::coroutine_handle<> handle;
};

class PaperExecutor {
public:
    PaperExecutor(PaperGlobalPriorities& global, int process) : global_(global), process_(process) {}

    uint64_t spawn(std::coroutine_handle<> handle, int priority) {
        lock_.lock();
        const uint64_t id = next_id_++;
        coroutines_.emplace(id, std::make_shared<PaperCoroutine>(PaperCoroutine{id, priority, handle}));
        queues_[priority].push_back(id);
        bitmap_ |= 1u << priority;
        update_global();
        lock_.unlock();
        return id;
    }

    // Scan the levels in order; take the head of the first non-empty queue.
    std::shared_ptr<PaperCoroutine> fetch() {
        lock_.lock();
        std::shared_ptr<PaperCoroutine> found;
        for (int level = 0; level < PaperLevels; ++level) {
            if ((bitmap_ & (1u << level)) == 0) continue;
            const uint64_t id = queues_[level].front();
            queues_[level].pop_front();
            if (queues_[level].empty()) bitmap_ &= ~(1u << level);
            found = coroutines_.find(id)->second;
            break;
        }
        lock_.unlock();
        return found;
    }

    // The waker: put a pending coroutine back into its queue.
    void re_back(uint64_t id) {
        lock_.lock();
        auto it = coroutines_.find(id);
        if (it != coroutines_.end()) {
            const int priority = it->second->priority;
            queues_[priority].push_back(id);
            bitmap_ |= 1u << priority;
            update_global();
        }
        lock_.unlock();
    }

    void remove(uint64_t id) {
        lock_.lock();
        coroutines_.erase(id);
        lock_.unlock();
    }

    // The poll loop's step: fetch, resume, re_back if it yielded, then check the global array.
    // Returns false when nothing was ready.
    bool poll_once_yielding() {
        std::shared_ptr<PaperCoroutine> coroutine = fetch();
        if (!coroutine) return false;
        coroutine->handle.resume();
        re_back(coroutine->id); // yield: the waker re-enqueues it
        yield_hart_ = global_.higher_than(process_);
        return true;
    }

    bool yield_hart() const { return yield_hart_; }

private:
    void update_global() {
        const uint8_t highest =
            bitmap_ == 0 ? PaperNoPriority : static_cast<uint8_t>(__builtin_ctz(bitmap_));
        global_.priority[process_] = highest;
    }

    SpinMutex lock_;
    std::map<uint64_t, std::shared_ptr<PaperCoroutine>> coroutines_;
    std::array<std::deque<uint64_t>, PaperLevels> queues_;
    uint32_t bitmap_ = 0;
    uint64_t next_id_ = 1;
    PaperGlobalPriorities& global_;
    int process_;
    bool yield_hart_ = false;
};

} // namespace baseline
