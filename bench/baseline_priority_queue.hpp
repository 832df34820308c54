// Baseline 2: the textbook executor, a std::priority_queue of (priority, arrival) under a std::mutex.
// Ties are broken by an arrival counter so that equal priorities stay FIFO, like ours.
#pragma once

#include <coroutine>
#include <cstdint>
#include <mutex>
#include <queue>
#include <vector>

namespace baseline {

class PriorityQueueExecutor {
public:
    struct Entry {
        uint32_t priority;
        uint64_t arrival;
        std::coroutine_handle<> handle;
        // std::priority_queue pops the largest: "larger" = more urgent = smaller numbers.
        bool operator<(const Entry& other) const {
            if (priority != other.priority) return priority > other.priority;
            return arrival > other.arrival;
        }
    };

    void spawn(std::coroutine_handle<> handle, uint32_t priority) {
        std::lock_guard<std::mutex> guard(lock_);
        queue_.push(Entry{priority, next_arrival_++, handle});
    }

    bool fetch(Entry& out) {
        std::lock_guard<std::mutex> guard(lock_);
        if (queue_.empty()) return false;
        out = queue_.top();
        queue_.pop();
        return true;
    }

    void requeue(const Entry& entry) { spawn(entry.handle, entry.priority); }

    // fetch, resume, re-enqueue (the coroutine yielded).
    bool poll_once_yielding() {
        Entry entry;
        if (!fetch(entry)) return false;
        entry.handle.resume();
        requeue(entry);
        return true;
    }

    std::size_t size() {
        std::lock_guard<std::mutex> guard(lock_);
        return queue_.size();
    }

private:
    std::mutex lock_;
    std::priority_queue<Entry> queue_;
    uint64_t next_arrival_ = 0;
};

} // namespace baseline
