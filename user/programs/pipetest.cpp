// pipetest: pipes between processes. Without arguments it is the test; it spawns itself (the child
// inherits its descriptors) in the roles below, passing descriptor numbers as arguments:
//   pipetest writer <fd>       writes TransferBytes of the pattern to fd, then exits 0
//   pipetest reader <fd> <n>   reads n bytes from fd, then exits 0 (closing its end)
//   pipetest blocked <fd>      reads from fd, which never gets data (killed by the parent)
//   pipetest closed <fd>       exits 0 if fd is not open (write gives -EBADF)
#include "user/lib/print.hpp"

namespace {

constexpr long TransferBytes = 64 * 1024;  // 16 times the kernel's 4 KiB ring
constexpr long PipeCapacity = 4096;

int failures = 0;
void expect(const char* what, long got, long wanted) {
    if (got == wanted) return;
    user::say("pipetest: FAILED ", what, ": got ", got, ", wanted ", wanted, "\n");
    ++failures;
}

uint8_t pattern(long offset) { return static_cast<uint8_t>(offset * 31 + (offset >> 8) * 7 + (offset >> 12)); }



// Spawns this program in `role` with one or two numeric arguments; returns the pid.
long spawn_role(const char* role, long first, long second = -1) {
    char first_text[21], second_text[21];
    const char* argv[] = {"bin/pipetest", role, user::decimal_text(first, first_text),
                          second >= 0 ? user::decimal_text(second, second_text) : nullptr, nullptr};
    return user::spawn("bin/pipetest", argv);
}

long wait_exit_code(long pid) {
    int status = -1;
    if (user::wait4(pid, &status, 0) != pid) return -1;
    return user::exited_normally(status) ? user::exit_code(status) : 128 + user::terminating_signal(status);
}

int run_writer(int fd) {
    static uint8_t chunk[5000];
    constexpr long Sizes[] = {1, 7, 100, 1000, 4096, 5000, 333, 4095};
    long offset = 0;
    for (int turn = 0; offset < TransferBytes; ++turn) {
        long size = Sizes[turn % 8];
        if (size > TransferBytes - offset) size = TransferBytes - offset;
        for (long i = 0; i < size; ++i) chunk[i] = pattern(offset + i);
        if (user::write(fd, chunk, size) != size) return 1;
        offset += size;
    }
    return 0;
}

int run_reader(int fd, long count) {
    char buffer[64];
    for (long got; count > 0; count -= got) {
        got = user::read(fd, buffer, count < 64 ? count : 64);
        if (got <= 0) return 1;
    }
    return 0;
}

// Argument checks on descriptors and pipe2 in one process.
void check_errors() {
    char byte = 0;
    expect("close(-1)", user::close(-1), -user::EBADF);
    expect("close(31), never opened", user::close(31), -user::EBADF);
    expect("close(1000), never opened", user::close(1000), -user::EBADF);
    expect("close(MaxDescriptors)", user::close(user::MaxDescriptors), -user::EBADF);
    expect("read from fd 20", user::read(20, &byte, 1), -user::EBADF);
    expect("write to fd 20", user::write(20, &byte, 1), -user::EBADF);
    int fds[2] = {-1, -1};
    expect("pipe2 unknown flag", user::pipe2(fds, 0x4), -user::EINVAL);
    expect("pipe2 bad pointer", user::pipe2(reinterpret_cast<int*>(0x1000), 0), -user::EFAULT);
    expect("pipe2 O_CLOEXEC", user::pipe2(fds, user::O_CLOEXEC), 0);
    expect("close cloexec read end", user::close(fds[0]), 0);
    expect("close cloexec write end", user::close(fds[1]), 0);

    expect("pipe2", user::pipe2(fds, 0), 0);
    expect("lowest free descriptors", fds[0] == 3 && fds[1] == 4, 1);
    expect("write to the read end", user::write(fds[0], "x", 1), -user::EBADF);
    expect("read from the write end", user::read(fds[1], &byte, 1), -user::EBADF);
    expect("write abc", user::write(fds[1], "abc", 3), 3);
    expect("read into a bad buffer", user::read(fds[0], reinterpret_cast<void*>(0x1000), 3), -user::EFAULT);
    expect("write from a bad buffer", user::write(fds[1], reinterpret_cast<void*>(0x1000), 3), -user::EFAULT);
    char text[8] = {};
    expect("read after the faults: nothing consumed, nothing added", user::read(fds[0], text, sizeof(text)), 3);
    expect("bytes in order", text[0] == 'a' && text[1] == 'b' && text[2] == 'c', 1);
    expect("read of 0 bytes", user::read(fds[0], text, 0), 0);
    expect("close write end", user::close(fds[1]), 0);
    expect("end of file, no writer", user::read(fds[0], text, 1), 0);
    expect("close write end twice", user::close(fds[1]), -user::EBADF);
    expect("read a closed descriptor", user::read(fds[1], text, 1), -user::EBADF);
    expect("close read end", user::close(fds[0]), 0);

    expect("pipe2 again", user::pipe2(fds, 0), 0);
    expect("close read end first", user::close(fds[0]), 0);
    expect("write with no reader", user::write(fds[1], "x", 1), -user::EPIPE);
    expect("close the other", user::close(fds[1]), 0);
}

// dup3: a second descriptor for a pipe end keeps it open.
void check_dup3() {
    expect("dup3 same descriptor", user::dup3(1, 1), -user::EINVAL);
    expect("dup3 unknown flag", user::dup3(1, 10, 0x4), -user::EINVAL);
    expect("dup3 from a closed descriptor", user::dup3(20, 10), -user::EBADF);
    expect("dup3 to descriptor MaxDescriptors", user::dup3(1, user::MaxDescriptors), -user::EBADF);
    expect("dup3 to -1", user::dup3(1, -1), -user::EBADF);
    int fds[2];
    expect("pipe2 for dup3", user::pipe2(fds, 0), 0);
    expect("dup3 write end to 10", user::dup3(fds[1], 10), 10);
    expect("dup3 read end over 10 and back", user::dup3(fds[0], 10) == 10 && user::dup3(fds[1], 10) == 10, 1);
    expect("close the original write end", user::close(fds[1]), 0);
    char byte = 0;
    expect("write through the copy", user::write(10, "d", 1), 1);
    expect("read it", user::read(fds[0], &byte, 1), 1);
    expect("the byte", byte, 'd');
    expect("close the copy", user::close(10), 0);
    expect("end of file once both are closed", user::read(fds[0], &byte, 1), 0);
    user::close(fds[0]);
}

// Descriptors run out at MaxDescriptors (2,048) per process; a failed pipe2 leaves no descriptor behind.
void check_table_full() {
    constexpr int MostPipes = (user::MaxDescriptors - 3) / 2; // 3 + 1,022 * 2 = 2,047 descriptors
    int fds[2];
    static int pipes[MostPipes + 1][2];
    int made = 0;
    long result = 0;
    while (made <= MostPipes && (result = user::pipe2(pipes[made], 0)) == 0) ++made;
    expect("pipes until the table is full", made, MostPipes);
    expect("pipe2 with one slot left", result, -user::EMFILE);
    for (int i = 0; i < made; ++i) {
        expect("close a read end", user::close(pipes[i][0]), 0);
        expect("close a write end", user::close(pipes[i][1]), 0);
    }
    expect("first pipe at 3", pipes[0][0], 3);
    expect("pipe2 after closing them", user::pipe2(fds, 0), 0);
    expect("the slots were given back: read end", fds[0], 3);
    expect("the slots were given back: write end", fds[1], 4);
    user::close(fds[0]);
    user::close(fds[1]);
}

// 64 KiB through the 4 KiB ring from a child: in order, then end of file once it exits.
void check_transfer() {
    int fds[2];
    expect("pipe2 for the transfer", user::pipe2(fds, 0), 0);
    long writer = spawn_role("writer", fds[1]);
    expect("spawn writer", writer > 0, 1);
    user::close(fds[1]);  // else the reader (this process) would itself keep the pipe open
    static uint8_t buffer[4096];
    constexpr long Sizes[] = {3, 512, 4096, 1, 2000, 4095};
    long offset = 0, mismatches = 0;
    for (int turn = 0;; ++turn) {
        long got = user::read(fds[0], buffer, Sizes[turn % 6]);
        if (got <= 0) {
            expect("end of file after the writer exits", got, 0);
            break;
        }
        for (long i = 0; i < got; ++i) mismatches += buffer[i] != pattern(offset + i);
        offset += got;
    }
    expect("bytes transferred", offset, TransferBytes);
    expect("bytes out of order", mismatches, 0);
    expect("writer exit", wait_exit_code(writer), 0);
    user::close(fds[0]);
}

// A writer blocked on a full pipe learns the reader is gone: a partial count, then -EPIPE.
void check_broken_pipe() {
    int fds[2];
    expect("pipe2 for EPIPE", user::pipe2(fds, 0), 0);
    long reader = spawn_role("reader", fds[0], 100);
    expect("spawn reader", reader > 0, 1);
    user::close(fds[0]);
    static uint8_t big[3 * PipeCapacity];
    long written = user::write(fds[1], big, sizeof(big));  // blocks until the reader has gone
    expect("partial write when the reader left", written >= 100 && written < static_cast<long>(sizeof(big)), 1);
    expect("reader exit", wait_exit_code(reader), 0);
    expect("write after the reader exited", user::write(fds[1], big, 1), -user::EPIPE);
    user::close(fds[1]);
}

// A process blocked in a pipe read can still be killed; close-on-exec descriptors are not inherited.
void check_kill_and_inheritance() {
    int fds[2], hidden[2];
    expect("pipe2 for kill", user::pipe2(fds, 0), 0);
    long blocked = spawn_role("blocked", fds[0]);
    expect("spawn blocked reader", blocked > 0, 1);
    user::Timespec ten_ms{0, 10'000'000};
    user::nanosleep(&ten_ms);  // let it block
    expect("kill blocked reader", user::kill(blocked, 9), 0);
    expect("killed while blocked in a pipe", wait_exit_code(blocked), 128 + 9);
    user::close(fds[0]);
    user::close(fds[1]);

    expect("pipe2 O_CLOEXEC for spawn", user::pipe2(hidden, user::O_CLOEXEC), 0);
    long child = spawn_role("closed", hidden[1]);
    expect("close-on-exec descriptor not inherited", wait_exit_code(child), 0);
    user::close(hidden[0]);
    user::close(hidden[1]);
}

} // namespace

int main(int argc, char** argv) {
    if (argc >= 3) {
        const char* role = argv[1];
        int fd = static_cast<int>(user::parse_decimal(argv[2]));
        if (role[0] == 'w') return run_writer(fd);
        if (role[0] == 'r' && argc >= 4) return run_reader(fd, user::parse_decimal(argv[3]));
        if (role[0] == 'b') {
            char byte;
            user::read(fd, &byte, 1);
            return 1;  // never reached: the parent kills it
        }
        if (role[0] == 'c') return user::write(fd, "x", 1) == -user::EBADF ? 0 : 1;
        return 2;
    }
    check_errors();
    check_dup3();
    check_table_full();
    check_transfer();
    check_broken_pipe();
    check_kill_and_inheritance();
    user::print(failures == 0 ? "pipetest: ok\n" : "pipetest: FAILED\n");
    return failures == 0 ? 0 : 1;
}
