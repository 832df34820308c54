// The C++ start of every program (called by crt0.S with the initial stack pointer): find argc, argv,
// envp and the auxiliary vector, bind the vDSO, then run `main` or, if the program defines one, the
// coroutine `async_main` under the shared executor (runtime.hpp). The process ends with exit_group,
// so a return from main ends every thread, as in C.
#include "user/lib/format.hpp"
#include "user/lib/runtime.hpp"

// The plain entry; weak so that a program with only async_main links.
extern "C" int program_main(int argc, char** argv) __asm__("main") __attribute__((weak));

namespace user {

namespace {

VdsoFunctions bound_functions; // written once, before any other thread exists
BindOutcome bound_image;       // where the image is, for vdso_image()

} // namespace

const void* priority_table = nullptr;  // the kernel's global priority table (read-only), or null
char** environment = nullptr;
const uint64_t* auxiliary_vector = nullptr;

namespace {

// The root coroutine of an async program: runs async_main and stops the runtime with its result.
Task<int> run_async_main(Runtime& runtime, int argc, char** argv) {
    Result<int> status = co_await async_main(runtime, argc, argv);
    if (!status) eprintln("{}: no memory for the frame of async_main", argc > 0 ? argv[0] : "program");
    request_stop(runtime, status ? *status : 127);
    co_return 0;
}

// The root coroutine of a program with a plain main: main runs as a coroutine of the executor too
// (one that never suspends: it keeps its poll thread until it returns), then the runtime stops.
Task<int> run_plain_main(Runtime& runtime, int argc, char** argv) {
    request_stop(runtime, program_main(argc, argv));
    co_return 0;
}

int run_program_as_coroutine(int argc, char** argv) {
    Runtime* created = user::runtime();
    if (created == nullptr) {
        eprintln("{}: no memory for the runtime", argc > 0 ? argv[0] : "program");
        return 127;
    }
    Runtime& runtime = *created;
    auto root = &async_main != nullptr ? spawn(runtime, run_async_main(runtime, argc, argv), DefaultPriority)
                                       : spawn(runtime, run_plain_main(runtime, argc, argv), DefaultPriority);
    if (!root) {
        eprintln("{}: cannot spawn its main coroutine: {}", argc > 0 ? argv[0] : "program", kernel::error_name(root.error()));
        return 127;
    }
    run_until_stopped(runtime);
    return runtime.exit_status;
}

} // namespace

const VdsoFunctions& vdso_functions() { return bound_functions; }
BindOutcome vdso_image() { return bound_image; }

} // namespace user

extern "C" [[noreturn]] void start_program(uint64_t* initial_stack) {
    const int argc = static_cast<int>(initial_stack[0]);
    char** argv = reinterpret_cast<char**>(initial_stack + 1);
    char** environment = argv + argc + 1;
    user::environment = environment;
    while (*environment != nullptr) ++environment;
    const uint64_t* auxiliary_vector = reinterpret_cast<const uint64_t*>(environment + 1);
    user::auxiliary_vector = auxiliary_vector;

    const uint64_t elf_header = user::auxiliary_value(auxiliary_vector, user::AuxSysinfoElfHeader);
    const user::BindOutcome bound = user::bind_vdso(elf_header, user::bound_functions);
    if (bound.error != user::BindError::None) {
        user::eprintln("{}: cannot bind the vDSO at {:#x}: {}{}{}", argc > 0 ? argv[0] : "program", bound.image,
                       user::bind_error_text(bound.error), bound.symbol ? ": " : "", bound.symbol ? bound.symbol : "");
        user::exit_group(127);
    }
    user::bound_image = bound;
    user::priority_table = reinterpret_cast<const void*>(user::auxiliary_value(auxiliary_vector, user::AuxPriorityTable));
    int status = 127;
    if (&async_main != nullptr || &program_main != nullptr) status = user::run_program_as_coroutine(argc, argv);
    else user::eprintln("{}: the program defines neither main nor async_main", argc > 0 ? argv[0] : "program");
    user::exit_group(status);
}
