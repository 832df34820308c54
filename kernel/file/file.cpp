#include "kernel/file/file.hpp"

#include "kernel/syscall/call.hpp"

#include "kernel/syscall/dispatch.hpp"

namespace kernel::proc {

Call File::read(CallMemory&, Process&, uint64_t, uint64_t) { co_return -Errno::BadFile; }
Call File::write(CallMemory&, Process&, uint64_t, uint64_t) { co_return -Errno::BadFile; }

Call finished_call(CallMemory&, long result) { co_return result; }

Result<int> FileTable::install(File& file, bool close_on_exec) { return install_from(0, file, close_on_exec); }

Result<int> FileTable::install_from(int64_t lowest, File& file, bool close_on_exec) {
    if (lowest >= 0) {
        ScopedLock guard(lock_);
        for (size_t fd = static_cast<size_t>(lowest); fd < Capacity; ++fd) {
            if (files_[fd]) continue;
            files_[fd] = &file;
            close_on_exec_[fd] = close_on_exec;
            return static_cast<int>(fd);
        }
    }
    file.release();
    return Error::NotFound;
}

bool FileTable::close_on_exec_flag(int64_t fd) {
    ScopedLock guard(lock_);
    return fd >= 0 && static_cast<uint64_t>(fd) < Capacity && files_[fd] && close_on_exec_[fd];
}

void FileTable::set_close_on_exec_flag(int64_t fd, bool close_on_exec) {
    ScopedLock guard(lock_);
    if (fd >= 0 && static_cast<uint64_t>(fd) < Capacity && files_[fd]) close_on_exec_[fd] = close_on_exec;
}

Result<void> FileTable::install_at(int64_t fd, File& file, bool close_on_exec) {
    if (fd < 0 || static_cast<uint64_t>(fd) >= Capacity) {
        file.release();
        return Error::NotFound;
    }
    File* replaced;
    {
        ScopedLock guard(lock_);
        replaced = files_[fd];
        files_[fd] = &file;
        close_on_exec_[fd] = close_on_exec;
    }
    if (replaced) replaced->release();
    return success();
}

File* FileTable::get(int64_t fd) {
    ScopedLock guard(lock_);
    if (fd < 0 || static_cast<uint64_t>(fd) >= Capacity || !files_[fd]) return nullptr;
    files_[fd]->acquire();
    return files_[fd];
}

Result<void> FileTable::close(int64_t fd) {
    File* file;
    {
        ScopedLock guard(lock_);
        if (fd < 0 || static_cast<uint64_t>(fd) >= Capacity || !files_[fd]) return Error::NotFound;
        file = files_[fd];
        files_[fd] = nullptr;
    }
    file->release();
    return success();
}

void FileTable::close_matching(bool only_close_on_exec) {
    // Files are released outside the lock, a batch at a time, so that the kernel stack holds a few
    // pointers rather than the whole table.
    constexpr size_t Batch = 32;
    for (size_t fd = 0; fd < Capacity;) {
        File* closed[Batch];
        size_t count = 0;
        {
            ScopedLock guard(lock_);
            for (; fd < Capacity && count < Batch; ++fd) {
                if (!files_[fd] || (only_close_on_exec && !close_on_exec_[fd])) continue;
                closed[count++] = files_[fd];
                files_[fd] = nullptr;
            }
        }
        for (size_t i = 0; i < count; ++i) closed[i]->release();
    }
}

void FileTable::close_all() { close_matching(false); }
void FileTable::close_on_exec() { close_matching(true); }

void FileTable::inherit_from(FileTable& parent) {
    ScopedLock parent_guard(parent.lock_);
    ScopedLock guard(lock_);  // never contended: the child does not run yet
    for (size_t fd = 0; fd < Capacity; ++fd) {
        if (!parent.files_[fd] || parent.close_on_exec_[fd]) continue;
        parent.files_[fd]->acquire();
        files_[fd] = parent.files_[fd];
        close_on_exec_[fd] = false;
    }
}

} // namespace kernel::proc
