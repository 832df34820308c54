// Diagnostic: why an untrusted executable image or archive was refused.
//
// Shared by the ELF reader (elf.hpp) and the cpio reader (cpio.hpp). `message` is always a static
// string (never built at run time, so it outlives any image), `offset` the byte offset into the
// image or archive where the problem was found (0 when no single place is to blame).
#pragma once

#include <cstdint>

#include "abi/result.hpp"

namespace kernel::exec {

struct Diagnostic {
    const char* message = nullptr;
    uint64_t offset = 0;
};

// Records the failure in `diagnostic` and returns `error`, for `return fail(...)` in any Result<T>.
inline Error fail(Diagnostic& diagnostic, Error error, const char* message, uint64_t offset) {
    diagnostic = {message, offset};
    return error;
}

} // namespace kernel::exec
