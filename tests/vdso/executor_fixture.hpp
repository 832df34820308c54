// A host executor with its control blocks, frame pool and hooks in std::vector memory.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <vector>

#include "vdso/executor.hpp"
#include "vdso/frame_allocator.hpp"
#include "vdso/poll_loop.hpp"
#include "vdso/task.hpp"

namespace vdso_test {

struct TestExecutor {
    explicit TestExecutor(uint32_t capacity = 64, uint32_t frames = 64, std::size_t frame_size = 512)
        : blocks(capacity), pool(static_cast<std::byte*>(std::aligned_alloc(16, frames * frame_size))) {
        REQUIRE(vdso::executor_init(state, blocks.data(), capacity));
        REQUIRE(vdso::frame_allocator_init(allocator, pool.get(), frames * frame_size, frame_size));
        state.frames = &allocator;
        vdso::install_task_hooks(state);
        state.hooks.highest_priority_changed = [](void* context, uint32_t priority) {
            static_cast<TestExecutor*>(context)->reports.push_back(priority);
        };
        state.hooks.highest_priority_context = this;
    }

    // Run the poll loop on this thread until nothing is ready.
    uint64_t run(vdso::PollThread* thread = nullptr) {
        uint64_t resumed = 0;
        vdso::run_until_idle(state, thread, &resumed);
        return resumed;
    }
    bool invariants() { return vdso::executor_check_invariants(state); }
    bool all_frames_free() const { return allocator.free_count == allocator.block_count; }

    struct FreeDeleter {
        void operator()(std::byte* memory) const { std::free(memory); }
    };
    std::vector<vdso::ControlBlock> blocks;
    std::unique_ptr<std::byte, FreeDeleter> pool;
    vdso::FrameAllocator allocator;
    vdso::ExecutorState state;
    std::vector<uint32_t> reports; // every highest_priority_changed report, in order
};

} // namespace vdso_test
