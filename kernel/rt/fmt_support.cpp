// What {fmt} and the libstdc++ headers it includes need at link time, for a kernel without
// exceptions: every "throw" ends in a panic that names what went wrong, and the panic itself.
#include "kernel/arch/riscv/csr.hpp"
#include "kernel/arch/riscv/hart.hpp"
#include "kernel/arch/riscv/sbi.hpp"
#include "kernel/console/log.hpp"

namespace kernel {

void fmt_failure(const char* file, int line, const char* message) {
    panic("{{fmt}}: {} ({}:{})", message, file, line);
}

void panic_message(const char* message) {
    riscv::disable_interrupts();
    // Stop the other harts so the message is the last thing printed.
    for (size_t i = 0; i < hart_count(); ++i) {
        Hart* hart = hart_by_index(i);
        if (hart != current_hart() && hart->online.load()) send_ipi(*hart, IpiReason::Halt);
    }
    Hart* hart = current_hart();
    console::emergency_write("\n*** KERNEL PANIC on hart ");
    char id[12];
    auto end = fmt::format_to_n(id, sizeof(id) - 1, "{}", hart ? hart->hart_id : 0u);
    id[end.size] = '\0';
    console::emergency_write(id);
    console::emergency_write(": ");
    console::emergency_write(message);
    console::emergency_write("\n");
    sbi::shutdown(sbi::ResetReason::SystemFailure);
}

} // namespace kernel

namespace std {
[[noreturn]] void __throw_length_error(const char* what) { kernel::panic("length_error: {}", what); }
[[noreturn]] void __throw_out_of_range(const char* what) { kernel::panic("out_of_range: {}", what); }
[[noreturn]] void __throw_out_of_range_fmt(const char* what, ...) { kernel::panic("out_of_range: {}", what); }
[[noreturn]] void __throw_logic_error(const char* what) { kernel::panic("logic_error: {}", what); }
[[noreturn]] void __throw_invalid_argument(const char* what) { kernel::panic("invalid_argument: {}", what); }
[[noreturn]] void __throw_bad_alloc() { kernel::panic("bad_alloc"); }
[[noreturn]] void __throw_bad_array_new_length() { kernel::panic("bad_array_new_length"); }
[[noreturn]] void __throw_runtime_error(const char* what) { kernel::panic("runtime_error: {}", what); }
[[noreturn]] void __throw_system_error(int code) { kernel::panic("system_error: {}", code); }
} // namespace std
