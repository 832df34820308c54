// The console as a file: what descriptors 0, 1 and 2 of a process started by the kernel name.
#include "kernel/console/console.hpp"
#include "kernel/file/file.hpp"
#include "kernel/proc/process.hpp"
#include "kernel/sched/bottom_half.hpp"
#include "kernel/sched/scheduler.hpp"
#include "kernel/syscall/call.hpp"
#include "kernel/syscall/dispatch.hpp"
#include "kernel/syscall/handlers.hpp"

namespace kernel::proc {

namespace {

constexpr size_t ConsoleChunk = 256;

// Threads and call coroutines waiting in a console read; woken by the console's bottom half (and by
// kill).
WaitQueue console_readers;

class ConsoleFile final : public File {
public:
    ConsoleFile() { acquire(); }  // the kernel's own reference: the console is never freed

    // Waits for the first byte, then takes what is there without waiting for more. A carriage return
    // from the serial line reaches the reader as a newline, as a terminal's ICRNL does (terminals send
    // CR for Enter). Bytes received before any reader existed wait in the receive ring.
    Call read(CallMemory&, Process& process, uint64_t buffer, uint64_t length) override {
        const AddressSpace& space = process.address_space;
        if (!space.check_user_range(buffer, length, Access::Write)) co_return -Errno::Fault;
        if (length == 0) co_return 0;
        int first;
        for (;;) {
            console_readers.lock.lock();
            first = console::try_read();
            if (first >= 0) {
                console_readers.lock.unlock();
                break;
            }
            co_await WaitOn(console_readers);
            if (process.exit_requested.load()) co_return -Errno::Interrupted;
        }
        char chunk[ConsoleChunk];
        size_t count = 0;
        chunk[count++] = static_cast<char>(first);
        for (int c; count < length && count < ConsoleChunk && (c = console::try_read()) >= 0;)
            chunk[count++] = static_cast<char>(c);
        for (size_t i = 0; i < count; ++i)
            if (chunk[i] == '\r') chunk[i] = '\n';
        if (!space.copy_to_user(buffer, chunk, count)) co_return -Errno::Fault;
        co_return static_cast<long>(count);
    }

    // The whole buffer is checked first: a bad pointer writes nothing. Never waits.
    Call write(CallMemory&, Process& process, uint64_t buffer, uint64_t length) override {
        const AddressSpace& space = process.address_space;
        if (!space.check_user_range(buffer, length, Access::Read)) co_return -Errno::Fault;
        char chunk[ConsoleChunk];
        for (uint64_t done = 0; done < length;) {
            size_t size = length - done < ConsoleChunk ? length - done : ConsoleChunk;
            if (!space.copy_from_user(chunk, buffer + done, size)) co_return -Errno::Fault;
            console::write(chunk, size);
            done += size;
        }
        co_return static_cast<long>(length);
    }

private:
    void last_reference_dropped() override {}  // unreachable: the kernel's reference stays
};

ConsoleFile console;

} // namespace

File& console_file() { return console; }

void wake_console_readers() { wake_all_locked(console_readers); }

namespace {
void wake_console_readers_work(void*) { wake_console_readers(); }
// The console's bottom half: the receive interrupt (the top half, console::receive_interrupt) has
// moved the UART's FIFO into the receive ring; this wakes the readers, threads and call coroutines.
BottomHalf console_half{"console", wake_console_readers_work};
void raise_console_half() { console_half.raise(); }
} // namespace

void init_console_input() { console::set_receive_hook(raise_console_half); }

Result<void> start_console_input() {
    auto started = console_half.start();
    // Without its bottom half the receive interrupt wakes the readers itself, in interrupt context.
    if (!started) console::set_receive_hook(wake_console_readers);
    return started;
}

} // namespace kernel::proc
