#include "kernel/monitor/monitor.hpp"

#include <string_view>

#include "kernel/arch/riscv/csr.hpp"
#include "kernel/arch/riscv/sbi.hpp"
#include "kernel/boot/banner.hpp"
#include "kernel/boot/boot.hpp"
#include "kernel/console/log.hpp"
#include "kernel/proc/process.hpp"
#include "kernel/sched/bottom_half.hpp"
#include "kernel/sched/scheduler.hpp"

namespace kernel {

namespace {

constexpr size_t MaxLine = 128;

struct Command {
    std::string_view name;
    std::string_view help;
    void (*run)(std::string_view arguments);
};

void command_help(std::string_view);
void command_info(std::string_view) { print_platform_info(boot_info()); }
void command_halt(std::string_view) {
    println("halting: powering off");
    sbi::shutdown(sbi::ResetReason::None);
}

void command_programs(std::string_view) {
    if (!proc::for_each_program([](const char* name, size_t size) { println("  {:<24} {:>8} bytes", name, size); }))
        println("no initial archive");
}

void command_processes(std::string_view) {
    println("  {:>5}  {:<16} {:<8} {}", "pid", "name", "state", "user pages");
    proc::for_each_process(
        [](const proc::Process& process, void*) {
            bool exited = process.state == proc::ProcessState::Exited;
            println("  {:>5}  {:<16} {:<8} {}", process.pid, process.name, exited ? "exited" : "alive",
                    process.address_space.user_pages());
        },
        nullptr);
    for (const proc::BottomHalf* half = proc::bottom_halves(); half; half = half->next())
        println("  bottom half {:<10} raised {}, ran {}", half->name(), half->raises(), half->runs());
}

// run PROGRAM [ARGUMENTS...]: runs a program from the initial archive and waits for it.
void command_run(std::string_view arguments) {
    constexpr size_t MaxWords = proc::MaxArguments;
    char storage[MaxLine + 1];
    const char* words[MaxWords];
    size_t count = 0, used = 0;
    while (!arguments.empty()) {
        size_t end = arguments.find(' ');
        std::string_view word = arguments.substr(0, end);
        arguments = end == std::string_view::npos ? std::string_view{} : arguments.substr(end + 1);
        if (word.empty()) continue;
        if (count == MaxWords) {
            println("run: at most {} arguments", MaxWords);
            return;
        }
        words[count++] = storage + used;
        for (char c : word) storage[used++] = c;
        storage[used++] = '\0';
    }
    if (count == 0) {
        println("usage: run PROGRAM [ARGUMENTS...]   (see 'programs')");
        return;
    }
    auto status = proc::run_program(words[0], words, count);
    if (!status) println("run {}: {}", words[0], error_name(status.error()));
    else println("[{} exited with status {}]", words[0], *status);
}

constexpr Command Commands[] = {
    {"help", "list the commands", command_help},
    {"info", "platform, memory, harts and devices", command_info},
    {"programs", "list the programs in the initial archive", command_programs},
    {"run", "run PROGRAM [ARGS...] from the archive and wait for it", command_run},
    {"ps", "list the processes", command_processes},
    {"halt", "power the machine off", command_halt},
};

void command_help(std::string_view) {
    for (const Command& command : Commands) println("  {:<9} {}", command.name, command.help);
}

// Blocks (waiting for interrupts) until a byte arrives from the console.
char read_char() {
    for (;;) {
        int c = console::try_read();
        if (c >= 0) return static_cast<char>(c);
        if (!proc::run_kernel_step()) proc::wait_for_kernel_work();
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
        size_t space = input.find(' ');
        std::string_view name = input.substr(0, space);
        std::string_view arguments = space == std::string_view::npos ? std::string_view{} : trim(input.substr(space));
        bool found = false;
        for (const Command& command : Commands) {
            if (command.name == name) {
                command.run(arguments);
                found = true;
            }
        }
        if (!found) println("unknown command '{}': try 'help'", name);
    }
}

} // namespace kernel
