// What {fmt} and the libstdc++ headers it includes need at link time in a program built without
// exceptions: every "throw" ends the process with a message on fd 2 and exit status 134 (as abort()).
#include "user/lib/format.hpp"

namespace user {

namespace {

[[noreturn]] void fail(const char* kind, const char* what) {
    eprintln("{}: {}", kind, what != nullptr ? what : "");
    exit_group(134);
}

} // namespace

void fmt_failure(const char* file, int line, const char* message) {
    eprintln("{{fmt}}: {} ({}:{})", message, file, line);
    exit_group(134);
}

} // namespace user

namespace std {
[[noreturn]] void __throw_length_error(const char* what) { user::fail("length_error", what); }
[[noreturn]] void __throw_out_of_range(const char* what) { user::fail("out_of_range", what); }
[[noreturn]] void __throw_out_of_range_fmt(const char* what, ...) { user::fail("out_of_range", what); }
[[noreturn]] void __throw_logic_error(const char* what) { user::fail("logic_error", what); }
[[noreturn]] void __throw_invalid_argument(const char* what) { user::fail("invalid_argument", what); }
[[noreturn]] void __throw_bad_alloc() { user::fail("bad_alloc", nullptr); }
[[noreturn]] void __throw_bad_array_new_length() { user::fail("bad_array_new_length", nullptr); }
[[noreturn]] void __throw_runtime_error(const char* what) { user::fail("runtime_error", what); }
[[noreturn]] void __throw_system_error(int) { user::fail("system_error", nullptr); }
} // namespace std
