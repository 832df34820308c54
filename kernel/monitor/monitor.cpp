#include "kernel/monitor/monitor.hpp"

#include <string_view>

#include "kernel/arch/riscv/csr.hpp"
#include "kernel/arch/riscv/sbi.hpp"
#include "kernel/boot/banner.hpp"
#include "kernel/boot/boot.hpp"
#include "kernel/console/log.hpp"

namespace kernel {

namespace {

constexpr size_t MaxLine = 128;

struct Command {
    std::string_view name;
    std::string_view help;
    void (*run)();
};

void command_help();
void command_info() { print_platform_info(boot_info()); }
void command_halt() {
    println("halting: powering off");
    sbi::shutdown(sbi::ResetReason::None);
}

constexpr Command Commands[] = {
    {"help", "list the commands", command_help},
    {"info", "platform, memory, harts and devices", command_info},
    {"halt", "power the machine off", command_halt},
};

void command_help() {
    for (const Command& command : Commands) println("  {:<6} {}", command.name, command.help);
}

// Blocks (waiting for interrupts) until a byte arrives from the console.
char read_char() {
    for (;;) {
        int c = console::try_read();
        if (c >= 0) return static_cast<char>(c);
        riscv::wait_for_interrupt();
    }
}

// Reads one line with echo and backspace; a line longer than the buffer is refused, not cut.
bool read_line(char* line, size_t& length) {
    length = 0;
    bool overflow = false;
    for (;;) {
        char c = read_char();
        if (c == '\r' || c == '\n') {
            console::write("\n");
            return !overflow;
        }
        if (c == 0x7f || c == '\b') {
            if (length > 0) {
                --length;
                console::write("\b \b");
            }
            continue;
        }
        if (length == MaxLine) {
            overflow = true;
            continue;
        }
        line[length++] = c;
        console::write(&c, 1);
    }
}

std::string_view trim(std::string_view text) {
    while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
    while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
    return text;
}

} // namespace

void run_monitor() {
    println("kernel monitor: type 'help' for commands");
    char line[MaxLine];
    for (;;) {
        console::write("cokernel> ");
        size_t length;
        if (!read_line(line, length)) {
            println("line too long (at most {} characters)", MaxLine);
            continue;
        }
        std::string_view input = trim({line, length});
        if (input.empty()) continue;
        bool found = false;
        for (const Command& command : Commands) {
            if (command.name == input) {
                command.run();
                found = true;
            }
        }
        if (!found) println("unknown command '{}': try 'help'", input);
    }
}

} // namespace kernel
