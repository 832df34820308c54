// Files: the kernel objects a file descriptor names (the console, pipe ends), and the per-process
// table of descriptors (FileTable, a DescriptorTable of Files).
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
#include "kernel/file/descriptor_table.hpp"

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

// A process's descriptors (descriptor_table.hpp): each slot holds one reference to a File.
using FileTable = DescriptorTable<File, cokernel::abi::MaxDescriptors>;

} // namespace kernel::proc
