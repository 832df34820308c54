// vdso: a process running the shared scheduler from the vDSO. Finds the image through the auxiliary
// vector (AT_SYSINFO_EHDR), binds entry points by name from its dynamic symbol table (a minimal
// binder: DT_HASH for the symbol count, defined global functions only; the kernel's binder also checks
// the COKERNEL_1.0 version), creates an executor in its own memory and runs coroutines on it.
// Exits 0 when they ran in priority order, 1 with a message otherwise.
#include <cstddef>
#include <cstdint>

#include "user/lib/print.hpp"
#include "vdso/vdso_api.h"

namespace {

constexpr uint64_t AuxNull = 0, AuxSysinfoElfHeader = 33;
constexpr int64_t DtNull = 0, DtHash = 4, DtStringTable = 5, DtSymbolTable = 6;
constexpr uint32_t PtDynamic = 2;

struct ElfHeader {
    unsigned char identification[16];
    uint16_t type, machine;
    uint32_t version;
    uint64_t entry, program_header_offset, section_header_offset;
    uint32_t flags;
    uint16_t header_size, program_header_entry_size, program_header_count;
    uint16_t section_header_entry_size, section_header_count, section_name_index;
};
struct ProgramHeader {
    uint32_t type, flags;
    uint64_t offset, virtual_address, physical_address, file_size, memory_size, alignment;
};
struct DynamicEntry {
    int64_t tag;
    uint64_t value;
};
struct Symbol {
    uint32_t name;
    unsigned char info, other;
    uint16_t section_index;
    uint64_t value, size;
};

uint64_t find_auxiliary_value(char** argv, int argc, uint64_t key) {
    char** envp = argv + argc + 1;
    while (*envp) ++envp;
    for (auto* aux = reinterpret_cast<uint64_t*>(envp + 1); aux[0] != AuxNull; aux += 2)
        if (aux[0] == key) return aux[1];
    return 0;
}

bool same(const char* a, const char* b) {
    while (*a && *a == *b) ++a, ++b;
    return *a == *b;
}

// The vDSO mapped at `base`, its tables located through PT_DYNAMIC (addresses relative to base 0).
struct Image {
    uintptr_t base = 0;
    const Symbol* symbols = nullptr;
    const char* strings = nullptr;
    uint32_t symbol_count = 0;

    bool open(uintptr_t at) {
        base = at;
        const auto* header = reinterpret_cast<const ElfHeader*>(base);
        if (!same(reinterpret_cast<const char*>(header->identification), "\x7f" "ELF\x02\x01\x01")) return false;
        const auto* programs = reinterpret_cast<const ProgramHeader*>(base + header->program_header_offset);
        for (uint16_t i = 0; i < header->program_header_count; ++i) {
            if (programs[i].type != PtDynamic) continue;
            for (auto* entry = reinterpret_cast<const DynamicEntry*>(base + programs[i].virtual_address);
                 entry->tag != DtNull; ++entry) {
                if (entry->tag == DtSymbolTable) symbols = reinterpret_cast<const Symbol*>(base + entry->value);
                if (entry->tag == DtStringTable) strings = reinterpret_cast<const char*>(base + entry->value);
                if (entry->tag == DtHash) symbol_count = reinterpret_cast<const uint32_t*>(base + entry->value)[1];
            }
        }
        return symbols && strings && symbol_count;
    }

    template <typename Function>
    bool bind(Function& slot, const char* name) const {
        for (uint32_t i = 1; i < symbol_count; ++i) {
            const Symbol& symbol = symbols[i];
            bool global_function = (symbol.info >> 4) == 1 && (symbol.info & 0xf) == 2 && symbol.section_index != 0;
            if (global_function && same(strings + symbol.name, name)) {
                slot = reinterpret_cast<Function>(base + symbol.value);
                return true;
            }
        }
        user::say("vdso: no entry point ", name, "\n");
        return false;
    }
};

struct Functions {
    decltype(&cokernel_executor_state_size) executor_state_size;
    decltype(&cokernel_executor_init) executor_init;
    decltype(&cokernel_executor_spawn) executor_spawn;
    decltype(&cokernel_coroutine_record_suspension) record_suspension;
    decltype(&cokernel_run_until_idle) run_until_idle;
    decltype(&cokernel_executor_check_invariants) check_invariants;
} functions;

// A coroutine frame as the executor resumes it: the first word is the resume function, called with
// the frame's address (the layout of a C++20 coroutine frame). Each runs twice: step, yield, step, exit.
struct Frame {
    void (*resume)(Frame*);
    cokernel_coroutine_ref self;
    char label;
    int steps_done;
};

char trace[16];
size_t trace_length = 0;

void resume_step(Frame* frame) {
    if (trace_length + 1 < sizeof(trace)) trace[trace_length++] = frame->label;
    uint32_t reason = ++frame->steps_done == 2 ? COKERNEL_SUSPEND_EXIT : COKERNEL_SUSPEND_YIELD;
    functions.record_suspension(frame->self.block, frame, reason, nullptr, nullptr);
}

// Priorities 2, 0, 1, 0: expected B D B D C C A A (B and D alternate at level 0, FIFO; C; A).
Frame frames[] = {{resume_step, {}, 'A', 0}, {resume_step, {}, 'B', 0}, {resume_step, {}, 'C', 0},
                  {resume_step, {}, 'D', 0}};
constexpr uint32_t priorities[] = {2, 0, 1, 0};
Image image;

alignas(64) unsigned char executor_memory[2048];
alignas(64) unsigned char control_blocks[8 * 64];

} // namespace

int main(int argc, char** argv) {
    uint64_t address = find_auxiliary_value(argv, argc, AuxSysinfoElfHeader);
    if (address == 0 || !image.open(address)) {
        user::say("vdso: no vDSO image in the auxiliary vector (AT_SYSINFO_EHDR = ", static_cast<long>(address), ")\n");
        return 1;
    }
    bool bound = image.bind(functions.executor_state_size, "cokernel_executor_state_size") &&
                 image.bind(functions.executor_init, "cokernel_executor_init") &&
                 image.bind(functions.executor_spawn, "cokernel_executor_spawn") &&
                 image.bind(functions.record_suspension, "cokernel_coroutine_record_suspension") &&
                 image.bind(functions.run_until_idle, "cokernel_run_until_idle") &&
                 image.bind(functions.check_invariants, "cokernel_executor_check_invariants");
    if (!bound) return 1;
    if (functions.executor_state_size() > sizeof(executor_memory)) return 1;
    if (functions.executor_init(executor_memory, control_blocks, 8) != 0) return 1;

    for (size_t i = 0; i < 4; ++i)
        if (functions.executor_spawn(executor_memory, &frames[i], nullptr, priorities[i], &frames[i].self, nullptr) != 0)
            return 1;
    uint64_t resumed = 0;
    int outcome = functions.run_until_idle(executor_memory, nullptr, &resumed);
    trace[trace_length] = '\0';
    bool ok = outcome == COKERNEL_POLL_NOTHING_READY && resumed == 8 && same(trace, "BDBDCCAA") &&
              functions.check_invariants(executor_memory) == 1;
    user::say("vdso: image at ", static_cast<long>(address), ", ran ", static_cast<long>(resumed),
              " steps in order ", static_cast<const char*>(trace), ok ? ": ok\n" : ": WRONG\n");
    return ok ? 0 : 1;
}
