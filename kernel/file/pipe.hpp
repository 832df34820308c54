// Pipes: a bounded ring of bytes between a read end and a write end, each a File.
//
// read blocks until there is at least one byte and returns what is there (up to the length asked
// for), or 0 (end of file) once no write end remains. write blocks while the ring is full and
// returns when everything is written; writes of at most PipeCapacity bytes are atomic (POSIX
// PIPE_BUF). Writing when no read end remains fails with -EPIPE (no SIGPIPE: there are no signals
// yet). Closing an end wakes the other; the pipe is freed when both ends are closed.
#pragma once

#include <cstddef>

#include "abi/result.hpp"
#include "kernel/file/file.hpp"

namespace kernel::proc {

constexpr size_t PipeCapacity = 4096;

// A new pipe's two ends, with one reference each (for the caller's descriptors). The pipe (its record
// and buffer, pipe_memory_bytes()) is charged to `owner`'s memory account until it is freed, whoever
// holds its ends by then (memory_limit.hpp). NoMemory, also when the charge would pass owner's limit.
struct PipeEnds {
    File* read_end;
    File* write_end;
};
Result<PipeEnds> create_pipe(Process& owner);
uint64_t pipe_memory_bytes();

// Pipes that exist (not yet freed): for tests that check nothing leaks.
size_t pipe_count();

} // namespace kernel::proc
