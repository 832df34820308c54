// Files: the kernel objects a file descriptor names (the console, pipe ends), and the per-process
// table of descriptors.
//
// A File is reference-counted: every descriptor slot holding it is one reference, and so is every
// system call working on it (taken by FileTable::get, dropped when the call ends), so a file closed
// by one thread while another is blocked in it lives until that call returns. When the last
// reference goes, last_reference_dropped() runs (a pipe end then tells the pipe it is closed).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "abi/abi.hpp"
#include "abi/result.hpp"
#include "abi/spin_lock.hpp"

namespace kernel::proc {

struct Thread;
struct Process;
class Call;
struct CallMemory;
class Socket;

class File {
public:
    // read/write with a user buffer of `process`: system-call coroutines (kernel/syscall/call.hpp) that
    // end with the byte count or a negated Errno, as the system calls do, and serve both the
    // synchronous and the asynchronous form. The default refuses with -EBADF (Linux's answer for
    // reading a write-only descriptor and the other way round).
    virtual Call read(CallMemory& memory, Process& process, uint64_t buffer, uint64_t length);
    virtual Call write(CallMemory& memory, Process& process, uint64_t buffer, uint64_t length);

    // fcntl F_GETFL: the access mode (O_RDWR by default; docs/syscalls.md says which files differ).
    virtual uint32_t status_flags() const { return 2; }
    // The socket this file is (kernel/file/socket.hpp), or nullptr: the socket calls' -ENOTSOCK.
    virtual Socket* as_socket() { return nullptr; }

    void acquire() { references_.fetch_add(1, std::memory_order_relaxed); }
    void release() {
        if (references_.fetch_sub(1, std::memory_order_acq_rel) == 1) last_reference_dropped();
    }

protected:
    File() = default;
    ~File() = default;
    // Called once, when the count falls to 0. The object may delete itself (or its owner) here.
    virtual void last_reference_dropped() = 0;

private:
    std::atomic<uint32_t> references_{0};
};

// The console: one object for every process's descriptors 0, 1 and 2. Reading takes what the UART
// received (blocking for the first byte), writing prints. It is never freed: the kernel keeps a
// reference of its own. (console_file.cpp; init_console_input and wake_console_readers, declared in
// syscall_handlers.hpp, connect it to the UART.)
File& console_file();

// A process's descriptors: slots 0..Capacity-1, each empty or holding one reference to a File.
// lock_ guards the slots and the close-on-exec flags; files are released only after it is dropped
// (releasing may wake threads and free a pipe).
class FileTable {
public:
    static constexpr size_t Capacity = cokernel::abi::MaxDescriptors;

    // Puts `file` (whose reference the table takes over) in the lowest free slot and returns it.
    // NotFound when every slot is in use (the caller's -EMFILE); the reference is then dropped.
    Result<int> install(File& file, bool close_on_exec);
    // Puts `file` (whose reference the table takes over) in slot `fd`, closing what was there (dup3).
    // NotFound if `fd` is out of range; the reference is then dropped.
    Result<void> install_at(int64_t fd, File& file, bool close_on_exec);
    // Puts `file` (reference taken over) in the lowest free slot >= lowest (fcntl F_DUPFD). NotFound
    // (reference dropped) if there is none.
    Result<int> install_from(int64_t lowest, File& file, bool close_on_exec);
    // The close-on-exec flag of slot `fd` (fcntl F_GETFD / F_SETFD); false / nothing for an empty slot.
    bool close_on_exec_flag(int64_t fd);
    void set_close_on_exec_flag(int64_t fd, bool close_on_exec);
    // A new reference to the file in slot `fd` (release() it when done), or nullptr if the slot is
    // empty or out of range.
    File* get(int64_t fd);
    // Empties slot `fd`. NotFound if it was empty or out of range (-EBADF).
    Result<void> close(int64_t fd);
    // Empties every slot (process exit), or every close-on-exec slot (execve).
    void close_all();
    void close_on_exec();
    // Fills this (empty) table with references to every file of `parent` that is not close-on-exec,
    // in the same slots: what a child made by spawn inherits.
    void inherit_from(FileTable& parent);

private:
    void close_matching(bool only_close_on_exec);

    SpinLock lock_;
    File* files_[Capacity] = {};           // guarded by lock_; nullptr: free slot
    bool close_on_exec_[Capacity] = {};    // guarded by lock_; meaningful where files_[i] != nullptr
};

} // namespace kernel::proc
