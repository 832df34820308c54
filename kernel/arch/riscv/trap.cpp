#include "kernel/arch/riscv/trap.hpp"

#include "kernel/arch/riscv/csr.hpp"
#include "kernel/arch/riscv/hart.hpp"
#include "kernel/arch/riscv/interrupts.hpp"
#include "kernel/arch/riscv/timer.hpp"
#include "kernel/arch/riscv/user_access.hpp"
#include <atomic>
#include <string_view>

#include "kernel/console/log.hpp"
#include "kernel/mm/kernel_stacks.hpp"

extern "C" void trap_vector();
extern "C" char __text_start[], __text_end[];
extern "C" const kernel::riscv::UserAccessFixup __user_access_fixups_start[], __user_access_fixups_end[];

namespace kernel::riscv {

namespace {

constexpr const char* RegisterNames[32] = {
    "zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0", "a1", "a2", "a3", "a4", "a5",
    "a6",   "a7", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "t3", "t4", "t5", "t6"};

constexpr size_t MaxBacktraceFrames = 32;

// Length of the instruction at pc: 2 for a compressed one, 4 otherwise.
uint64_t instruction_length(uint64_t pc) {
    uint16_t low = *reinterpret_cast<const volatile uint16_t*>(pc);
    return (low & 3) == 3 ? 4 : 2;
}

bool in_kernel_text(uint64_t address) {
    return address >= reinterpret_cast<uint64_t>(__text_start) && address < reinterpret_cast<uint64_t>(__text_end);
}

// Frame-pointer backtrace. With -fno-omit-frame-pointer a function keeps s0 = the sp at its entry,
// with the return address at s0-8 and the caller's s0 at s0-16. A leaf function saves only s0, at
// s0-8, and keeps its return address in ra: the first frame tells the two apart by whether s0-8
// holds a kernel text address. The walk stays inside the stack the trapped code ran on (the slot of
// the kernel stack area holding its sp, or else the hart's stack), so a corrupt chain ends the
// backtrace instead of faulting.
void print_backtrace(const TrapFrame& frame) {
    Hart* hart = current_hart();
    uint64_t low = hart ? hart->kernel_stack_bottom : 0;
    uint64_t high = hart ? hart->kernel_stack_top : 0;
    if (mm::in_kernel_stack_area(frame.regs[2])) {  // a guard address included: its slot's stack is above
        mm::KernelStack stack = mm::kernel_stack_of_slot(frame.regs[2]);
        low = stack.bottom;
        high = stack.top;
    }
    auto on_stack = [&](uint64_t fp) { return fp % 8 == 0 && fp >= low + 16 && fp <= high; };
    println("backtrace (riscv64-linux-gnu-addr2line -f -e build/riscv/kernel/kernel.elf ADDRESS):");
    println("  #0 {:#018x}", frame.sepc);
    uint64_t frame_pointer = frame.regs[8];
    for (size_t depth = 1; depth < MaxBacktraceFrames && on_stack(frame_pointer); ++depth) {
        const auto* record = reinterpret_cast<const uint64_t*>(frame_pointer);
        uint64_t return_address = record[-1];
        uint64_t caller_frame = record[-2];
        if (depth == 1 && !in_kernel_text(return_address)) {  // trapped in a leaf function
            return_address = frame.regs[1];
            caller_frame = record[-1];
        }
        if (!in_kernel_text(return_address)) break;
        println("  #{} {:#018x}", depth, return_address);
        if (caller_frame <= frame_pointer) break;  // the stack grows down: callers are above
        frame_pointer = caller_frame;
    }
}

} // namespace

namespace {
std::atomic<uint64_t> user_access_faults{0};

// The faults an access to user memory under SUM can raise (user_access.S).
bool is_user_access_fault(uint64_t scause) {
    auto cause = static_cast<ExceptionCause>(scause);
    return !(scause & CauseInterruptBit) &&
           (cause == ExceptionCause::LoadPageFault || cause == ExceptionCause::StorePageFault ||
            cause == ExceptionCause::LoadAccessFault || cause == ExceptionCause::StoreAccessFault);
}
} // namespace

uint64_t user_access_fixup(uint64_t pc) {
    for (const UserAccessFixup* entry = __user_access_fixups_start; entry < __user_access_fixups_end; ++entry)
        if (pc >= entry->begin && pc < entry->end) return entry->fixup;
    return 0;
}

uint64_t user_access_faults_fixed() { return user_access_faults.load(std::memory_order_relaxed); }

namespace {
void dispatch_interrupt(uint64_t cause) {
    switch (static_cast<InterruptCause>(cause & ~CauseInterruptBit)) {
    case InterruptCause::Software:
        clear_sip(InterruptSoftware);
        handle_ipi();
        return;
    case InterruptCause::Timer:
        timer::handle_interrupt();
        return;
    case InterruptCause::External:
        handle_external_interrupt();
        return;
    }
    println("spurious interrupt, scause {:#x}", cause);
}
} // namespace

void handle_interrupt(uint64_t cause) {
    Hart* hart = current_hart();
    if (hart) ++hart->interrupt_depth;
    dispatch_interrupt(cause);
    if (hart) --hart->interrupt_depth;
}

void install_trap_vector() { write_stvec(reinterpret_cast<uint64_t>(&trap_vector)); }

bool probe(void (*fn)()) {
    Hart* hart = current_hart();
    hart->probe_faulted = false;
    hart->probing = true;
    asm volatile("" ::: "memory");
    fn();
    asm volatile("" ::: "memory");
    hart->probing = false;
    return !hart->probe_faulted;
}

const char* cause_name(uint64_t scause) {
    if (scause & CauseInterruptBit) {
        switch (scause & ~CauseInterruptBit) {
        case 1: return "supervisor software interrupt";
        case 5: return "supervisor timer interrupt";
        case 9: return "supervisor external interrupt";
        default: return "unknown interrupt";
        }
    }
    switch (static_cast<ExceptionCause>(scause)) {
    case ExceptionCause::InstructionMisaligned: return "instruction address misaligned";
    case ExceptionCause::InstructionAccessFault: return "instruction access fault";
    case ExceptionCause::IllegalInstruction: return "illegal instruction";
    case ExceptionCause::Breakpoint: return "breakpoint";
    case ExceptionCause::LoadMisaligned: return "load address misaligned";
    case ExceptionCause::LoadAccessFault: return "load access fault";
    case ExceptionCause::StoreMisaligned: return "store address misaligned";
    case ExceptionCause::StoreAccessFault: return "store access fault";
    case ExceptionCause::EnvironmentCallFromUser: return "environment call from U mode";
    case ExceptionCause::EnvironmentCallFromSupervisor: return "environment call from S mode";
    case ExceptionCause::InstructionPageFault: return "instruction page fault";
    case ExceptionCause::LoadPageFault: return "load page fault";
    case ExceptionCause::StorePageFault: return "store page fault";
    }
    return "unknown exception";
}

namespace {

bool is_page_fault(uint64_t scause) {
    auto cause = static_cast<ExceptionCause>(scause);
    return !(scause & CauseInterruptBit) &&
           (cause == ExceptionCause::LoadPageFault || cause == ExceptionCause::StorePageFault ||
            cause == ExceptionCause::InstructionPageFault);
}

// Set by the scheduler (set_kernel_stack_owner_hook): names the current thread if its kernel stack
// starts at the given bottom. Architecture code knows no threads.
KernelStackOwnerHook kernel_stack_owner_hook = nullptr;

// Whose stack holds `address` (in the kernel stack area): a hart's own, the current thread's, or one
// named by name_kernel_stack.
void print_stack_owner(uint64_t address) {
    mm::KernelStack stack = mm::kernel_stack_of_slot(address);
    println("    stack: slot {} of the kernel stack area, [{:#x}, {:#x}), guard [{:#x}, {:#x})", stack.slot,
            stack.bottom, stack.top, stack.bottom - mm::KernelStackGuardSize, stack.bottom);
    for (size_t i = 0; i < hart_count(); ++i) {
        Hart* hart = hart_by_index(i);
        if (hart->kernel_stack_bottom == stack.bottom) {
            println("    the stack of hart {} (index {})", hart->hart_id, hart->index);
            return;
        }
    }
    if (kernel_stack_owner_hook && kernel_stack_owner_hook(stack.bottom)) return;
    if (const char* name = mm::kernel_stack_name(stack.slot)) {
        println("    the stack named '{}'", name);
        return;
    }
    println("    a stack of no hart, not the current thread's, unnamed");
}

void print_registers(const TrapFrame& frame) {
    // x1..x31, four to a line.
    for (int first = 1; first < 32; first += 4) {
        char line[128];
        size_t length = 0;
        for (int i = first; i < first + 4 && i < 32; ++i) {
            auto written = fmt::format_to_n(line + length, sizeof(line) - length, "  {:>4}={:016x}",
                                            RegisterNames[i], frame.regs[i]);
            length += written.size;
        }
        println("  {}", std::string_view(line, length));
    }
}

} // namespace

void set_kernel_stack_owner_hook(KernelStackOwnerHook hook) { kernel_stack_owner_hook = hook; }

void report_fatal_trap(const TrapFrame& frame) {
    Hart* hart = current_hart();
    bool guard_hit = is_page_fault(frame.scause) && mm::in_kernel_stack_guard(frame.stval);
    println("\n*** unexpected trap on hart {}: {} (scause {:#x}){}", hart ? hart->hart_id : 0u,
            cause_name(frame.scause), frame.scause, guard_hit ? ": kernel stack overflow" : "");
    println("    pc (sepc) = {:#018x}   address (stval) = {:#018x}   sstatus = {:#x}", frame.sepc, frame.stval,
            frame.sstatus);
    if (guard_hit) print_stack_owner(frame.stval);
    print_registers(frame);
    print_backtrace(frame);
    if (guard_hit)
        panic("kernel stack overflow: {} at pc {:#x}, address {:#x} in a guard page", cause_name(frame.scause),
              frame.sepc, frame.stval);
    panic("unexpected {} at pc {:#x}, address {:#x}", cause_name(frame.scause), frame.sepc, frame.stval);
}

} // namespace kernel::riscv

using namespace kernel::riscv;

extern "C" void trap_handler(TrapFrame* frame) {
    if (frame->scause & CauseInterruptBit) {
        handle_interrupt(frame->scause);
        return;
    }
    // A fault of the kernel's access to user memory (user_access.S): resume at its fixup, which
    // clears SUM and reports the failure. No other kernel fault is recovered.
    if (is_user_access_fault(frame->scause)) {
        if (uint64_t fixup = user_access_fixup(frame->sepc)) {
            frame->sepc = fixup;
            user_access_faults.fetch_add(1, std::memory_order_relaxed);
            return;
        }
    }
    kernel::Hart* hart = kernel::current_hart();
    if (hart && hart->probing) {
        hart->probe_faulted = true;
        hart->probing = false;
        frame->sepc += instruction_length(frame->sepc);
        return;
    }
    report_fatal_trap(*frame);
}

// trap.S: a kernel trap whose frame would have landed in a guard page. The frame is on this hart's
// emergency stack; regs[2] is the sp of the code that overflowed.
extern "C" [[noreturn]] void kernel_stack_overflow(TrapFrame* frame) {
    kernel::Hart* hart = kernel::current_hart();
    uint64_t sp = frame->regs[2];
    kernel::println("\n*** kernel stack overflow on hart {}: sp {:#018x} is in a guard page", hart->hart_id, sp);
    kernel::println("    {} (scause {:#x}) at pc (sepc) = {:#018x}, address (stval) = {:#018x}",
                    cause_name(frame->scause), frame->scause, frame->sepc, frame->stval);
    print_stack_owner(sp);
    print_registers(*frame);
    print_backtrace(*frame);
    kernel::panic("kernel stack overflow at pc {:#x}, sp {:#x}", frame->sepc, sp);
}
