#include "kernel/file/file.hpp"

#include "kernel/syscall/call.hpp"

#include "kernel/syscall/dispatch.hpp"

namespace kernel::proc {

Call File::read(CallMemory&, Process&, uint64_t, uint64_t) { co_return -Errno::BadFile; }
Call File::write(CallMemory&, Process&, uint64_t, uint64_t) { co_return -Errno::BadFile; }

Call finished_call(CallMemory&, long result) { co_return result; }

} // namespace kernel::proc
