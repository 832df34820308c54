// DescriptorTable: a process's descriptors, slots 0..Capacity-1, each empty or holding one reference
// to an object (a File, in the kernel: FileTable in file.hpp).
//
// The table's logic does not depend on what a descriptor names, so it is a template over the object,
// which needs only acquire() and release() (release may free the object, wake threads, or take other
// locks). That keeps it testable on the host (tests/kernel/file/test_descriptor_table.cpp).
//
// Invariants:
//   * lock_ guards the slots and the close-on-exec flags; an object is released only after lock_ is
//     dropped (releasing may take other locks or free the object).
//   * Each non-null slot holds exactly one reference; the table takes over the caller's reference on
//     install and gives it back by releasing it when the slot empties or the install fails.
//   * Every search for a free slot returns the lowest one (POSIX: open, dup, pipe, fcntl F_DUPFD).
#pragma once

#include <cstddef>
#include <cstdint>

#include "abi/result.hpp"
#include "abi/spin_lock.hpp"

namespace kernel::proc {

template <typename Object, size_t SlotCount>
class DescriptorTable {
public:
    static constexpr size_t Capacity = SlotCount;

    // Puts `object` (whose reference the table takes over) in the lowest free slot and returns it.
    // NotFound when every slot is in use (the caller's -EMFILE); the reference is then dropped.
    Result<int> install(Object& object, bool close_on_exec) { return install_from(0, object, close_on_exec); }

    // Puts `object` (reference taken over) in the lowest free slot >= lowest (fcntl F_DUPFD). NotFound
    // (reference dropped) if there is none or `lowest` is negative.
    Result<int> install_from(int64_t lowest, Object& object, bool close_on_exec) {
        if (lowest >= 0) {
            ScopedLock guard(lock_);
            for (size_t fd = static_cast<uint64_t>(lowest); fd < Capacity; ++fd) {
                if (objects_[fd]) continue;
                objects_[fd] = &object;
                close_on_exec_[fd] = close_on_exec;
                return static_cast<int>(fd);
            }
        }
        object.release();
        return Error::NotFound;
    }

    // Puts `object` (reference taken over) in slot `fd`, closing what was there (dup3). NotFound if
    // `fd` is out of range; the reference is then dropped.
    Result<void> install_at(int64_t fd, Object& object, bool close_on_exec) {
        if (!in_range(fd)) {
            object.release();
            return Error::NotFound;
        }
        Object* replaced;
        {
            ScopedLock guard(lock_);
            replaced = objects_[fd];
            objects_[fd] = &object;
            close_on_exec_[fd] = close_on_exec;
        }
        if (replaced) replaced->release();
        return success();
    }

    // The close-on-exec flag of slot `fd` (fcntl F_GETFD / F_SETFD); false / nothing for an empty slot.
    bool close_on_exec_flag(int64_t fd) {
        ScopedLock guard(lock_);
        return in_range(fd) && objects_[fd] && close_on_exec_[fd];
    }
    void set_close_on_exec_flag(int64_t fd, bool close_on_exec) {
        ScopedLock guard(lock_);
        if (in_range(fd) && objects_[fd]) close_on_exec_[fd] = close_on_exec;
    }

    // A new reference to the object in slot `fd` (release() it when done), or nullptr if the slot is
    // empty or out of range.
    Object* get(int64_t fd) {
        ScopedLock guard(lock_);
        if (!in_range(fd) || !objects_[fd]) return nullptr;
        objects_[fd]->acquire();
        return objects_[fd];
    }

    // Empties slot `fd`. NotFound if it was empty or out of range (-EBADF).
    Result<void> close(int64_t fd) {
        Object* object;
        {
            ScopedLock guard(lock_);
            if (!in_range(fd) || !objects_[fd]) return Error::NotFound;
            object = objects_[fd];
            objects_[fd] = nullptr;
        }
        object->release();
        return success();
    }

    // Empties every slot (process exit), or every close-on-exec slot (execve).
    void close_all() { close_matching(false); }
    void close_on_exec() { close_matching(true); }

    // Fills this (empty) table with references to every object of `parent` that is not close-on-exec,
    // in the same slots: what a child made by spawn inherits.
    void inherit_from(DescriptorTable& parent) {
        ScopedLock parent_guard(parent.lock_);
        ScopedLock guard(lock_);  // never contended: the child does not run yet
        for (size_t fd = 0; fd < Capacity; ++fd) {
            if (!parent.objects_[fd] || parent.close_on_exec_[fd]) continue;
            parent.objects_[fd]->acquire();
            objects_[fd] = parent.objects_[fd];
            close_on_exec_[fd] = false;
        }
    }

private:
    static bool in_range(int64_t fd) { return fd >= 0 && static_cast<uint64_t>(fd) < Capacity; }

    void close_matching(bool only_close_on_exec) {
        // Objects are released outside the lock, a batch at a time, so that the kernel stack holds a
        // few pointers rather than the whole table.
        constexpr size_t Batch = 32;
        for (size_t fd = 0; fd < Capacity;) {
            Object* closed[Batch];
            size_t count = 0;
            {
                ScopedLock guard(lock_);
                for (; fd < Capacity && count < Batch; ++fd) {
                    if (!objects_[fd] || (only_close_on_exec && !close_on_exec_[fd])) continue;
                    closed[count++] = objects_[fd];
                    objects_[fd] = nullptr;
                }
            }
            for (size_t i = 0; i < count; ++i) closed[i]->release();
        }
    }

    SpinLock lock_;
    Object* objects_[Capacity] = {};      // guarded by lock_; nullptr: free slot
    bool close_on_exec_[Capacity] = {};   // guarded by lock_; meaningful where objects_[i] != nullptr
};

} // namespace kernel::proc
