// {fmt} configured for the kernel. Every kernel file that formats includes this, never <fmt/...>
// directly, so that the settings below are the same in every translation unit.
//
// {fmt} 9 is used header-only (FMT_HEADER_ONLY, set in toolchain/flags.cmake) without floating
// point. Its error paths (which would throw) end in a kernel panic: a format error in the kernel is
// a bug in a format string.
#pragma once

namespace kernel {
[[noreturn]] void fmt_failure(const char* file, int line, const char* message);
}

#define FMT_THROW(exception) ::kernel::fmt_failure(__FILE__, __LINE__, "format error")
#define FMT_ASSERT(condition, message) \
    ((condition) ? (void)0 : ::kernel::fmt_failure(__FILE__, __LINE__, (message)))

#include <fmt/format.h>
