#include "kernel/file/pipe.hpp"

#include <new>

#include "kernel/arch/riscv/csr.hpp"
#include "kernel/arch/riscv/irq_lock.hpp"
#include "kernel/lib/byte_ring.hpp"
#include "kernel/proc/memory_limit.hpp"
#include "kernel/proc/process.hpp"
#include "kernel/proc/thread.hpp"
#include "kernel/sched/scheduler.hpp"
#include "kernel/syscall/call.hpp"
#include "kernel/syscall/dispatch.hpp"

namespace kernel::proc {

namespace {

class Pipe;

// One end of a pipe: the File a descriptor holds. Both ends live inside their Pipe.
class PipeEnd final : public File {
public:
    PipeEnd(Pipe& pipe, bool is_read_end) : pipe_(pipe), is_read_end_(is_read_end) {}
    Call read(CallMemory& memory, Process& process, uint64_t buffer, uint64_t length) override;
    Call write(CallMemory& memory, Process& process, uint64_t buffer, uint64_t length) override;

private:
    void last_reference_dropped() override;
    Pipe& pipe_;
    bool is_read_end_;
};

class Pipe {
public:
    Pipe() : read_end(*this, true), write_end(*this, false) {}
    Call read(CallMemory& memory, Process& process, uint64_t buffer, uint64_t length);
    Call write(CallMemory& memory, Process& process, uint64_t buffer, uint64_t length);
    // An end lost its last reference: wakes both sides; frees the pipe when both ends are closed.
    void end_closed(bool is_read_end);

    PipeEnd read_end;
    PipeEnd write_end;
    Pipe* previous = nullptr;  // links of the list of every pipe (pipes_lock)
    Pipe* next = nullptr;

private:
    // Readers waiting for a byte or end of file, writers for room or for the reader to go. Its lock
    // guards every field below; whoever changes them wakes every waiter (they re-check).
    WaitQueue waiters_;
    // Whether the end still has a reference; once false, never true again.
    bool reader_open_ = true;
    bool writer_open_ = true;
    ByteRing<PipeCapacity> ring_;  // the bytes in the pipe

public:
    MemoryCharge charge;  // on its creator's account, released when the pipe is freed
};

// Every pipe (pipe_count: tests check that none leaks). A waiter in a pipe is registered with its
// process (RegisteredWait), which is how kill finds it.
IrqSpinLock pipes_lock;
Pipe* pipes = nullptr;
size_t pipes_alive = 0;

// A bad buffer is -EFAULT whether or not there is anything to read, and before any wait: the
// caller's whole buffer is checked either by the copy of the first piece (the common case, a byte
// there already: one locked step of the address space) or, before the call waits or reports end of
// file, on its own.
Call Pipe::read(CallMemory&, Process& process, uint64_t buffer, uint64_t length) {
    const AddressSpace& space = process.address_space;
    if (length == 0) co_return 0;
    bool checked = false;
    for (;;) {
        waiters_.lock.lock();
        if (!ring_.empty()) break;
        if (!checked) {
            if (!space.check_user_range(buffer, length, Access::Write)) {
                waiters_.lock.unlock();
                co_return -Errno::Fault;
            }
            checked = true;
        }
        if (!writer_open_) {
            waiters_.lock.unlock();
            co_return 0;  // end of file
        }
        co_await WaitOn(waiters_);
        if (process.exit_requested.load()) co_return -Errno::Interrupted;
    }
    // The bytes are consumed only if every piece was copied (ByteRing::take).
    long taken = ring_.take(length, [&](size_t offset, const uint8_t* bytes, size_t count) {
        return offset == 0 ? space.copy_to_user_checking(buffer, bytes, count, length)
                           : space.copy_to_user(buffer + offset, bytes, count);
    });
    if (taken > 0) wake_all(waiters_);
    waiters_.lock.unlock();
    co_return taken > 0 ? taken : -Errno::Fault;
}

// As read: the whole buffer is checked by the first piece's copy or, before a wait for room or
// -EPIPE, on its own; a bad buffer is -EFAULT with nothing written.
Call Pipe::write(CallMemory&, Process& process, uint64_t buffer, uint64_t length) {
    const AddressSpace& space = process.address_space;
    if (length == 0) co_return 0;
    // A write of at most PipeCapacity bytes waits for room for all of it (atomic, like PIPE_BUF);
    // a longer one takes whatever room there is, piece by piece.
    size_t room_needed = length <= PipeCapacity ? length : 1;
    uint64_t done = 0;
    bool checked = false;
    // Having written some bytes, a failure returns their count, as Linux does.
    auto fail = [&done](long error) { return done ? static_cast<long>(done) : error; };
    while (done < length) {
        waiters_.lock.lock();
        while (reader_open_ && ring_.room() < room_needed) {
            if (!checked) {
                if (!space.check_user_range(buffer, length, Access::Read)) {
                    waiters_.lock.unlock();
                    co_return -Errno::Fault;
                }
                checked = true;
            }
            co_await WaitOn(waiters_);
            if (process.exit_requested.load()) co_return fail(-Errno::Interrupted);
            waiters_.lock.lock();
        }
        if (!reader_open_) {
            waiters_.lock.unlock();
            if (!checked && !space.check_user_range(buffer, length, Access::Read)) co_return -Errno::Fault;
            co_return fail(-Errno::BrokenPipe);
        }
        long put = ring_.put(length - done, [&](uint8_t* bytes, size_t offset, size_t count) {
            uint64_t from = buffer + done + offset;
            return !checked && offset == 0 ? space.copy_from_user_checking(bytes, from, count, length)
                                           : space.copy_from_user(bytes, from, count);
        });
        if (put > 0) {
            done += static_cast<uint64_t>(put);
            checked = true;  // the first piece's copy checked the whole buffer
            wake_all(waiters_);
        }
        waiters_.lock.unlock();
        if (put < 0) co_return fail(-Errno::Fault);
    }
    co_return static_cast<long>(done);
}

void Pipe::end_closed(bool is_read_end) {
    bool enabled = riscv::save_and_disable_interrupts();
    waiters_.lock.lock();
    (is_read_end ? reader_open_ : writer_open_) = false;
    bool both_closed = !reader_open_ && !writer_open_;  // true for exactly one caller
    wake_all(waiters_);
    waiters_.lock.unlock();
    riscv::restore_interrupts(enabled);
    if (!both_closed) return;
    {
        ScopedLock guard(pipes_lock);
        (previous ? previous->next : pipes) = next;
        if (next) next->previous = previous;
        --pipes_alive;
    }
    delete this;
}

Call PipeEnd::read(CallMemory& memory, Process& process, uint64_t buffer, uint64_t length) {
    return is_read_end_ ? pipe_.read(memory, process, buffer, length) : finished_call(memory, -Errno::BadFile);
}

Call PipeEnd::write(CallMemory& memory, Process& process, uint64_t buffer, uint64_t length) {
    return is_read_end_ ? finished_call(memory, -Errno::BadFile) : pipe_.write(memory, process, buffer, length);
}

void PipeEnd::last_reference_dropped() { pipe_.end_closed(is_read_end_); }

} // namespace

uint64_t pipe_memory_bytes() { return heap_bytes_of<Pipe>(); }

Result<PipeEnds> create_pipe(Process& owner) {
    Pipe* pipe = new (std::nothrow) Pipe;
    if (!pipe) return Error::NoMemory;
    if (!pipe->charge.take(owner, heap_bytes_of<Pipe>())) {
        delete pipe;
        return Error::NoMemory;
    }
    pipe->read_end.acquire();
    pipe->write_end.acquire();
    {
        ScopedLock guard(pipes_lock);
        pipe->next = pipes;
        if (pipes) pipes->previous = pipe;
        pipes = pipe;
        ++pipes_alive;
    }
    return PipeEnds{&pipe->read_end, &pipe->write_end};
}

size_t pipe_count() {
    ScopedLock guard(pipes_lock);
    return pipes_alive;
}

} // namespace kernel::proc
