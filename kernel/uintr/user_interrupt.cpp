// User-space interrupts (the N extension): raising, delivery, emulation, and the hardware path.
// docs/user-interrupts.md is the specification; user_interrupt.hpp states the interface.
#include "kernel/uintr/user_interrupt.hpp"

#include "abi/errno.hpp"
#include "kernel/arch/riscv/csr.hpp"
#include "kernel/arch/riscv/hart.hpp"
#include "kernel/boot/boot.hpp"
#include "kernel/console/log.hpp"
#include "kernel/lib/counters.hpp"
#include "kernel/sched/scheduler.hpp"

namespace kernel::proc {

namespace {

namespace Errno = cokernel::abi::Errno;

// Bits of the user-interrupt CSRs (privileged spec v1.11 draft, chapter "N").
constexpr uint64_t StatusUie = 1ull << 0;   // ustatus.UIE: user interrupts enabled
constexpr uint64_t StatusUpie = 1ull << 4;  // ustatus.UPIE: UIE before the interrupt was taken
constexpr uint64_t SoftwareInterrupt = 1ull << 0;  // uie.USIE / uip.USIP
constexpr uint64_t CauseUserSoftwareInterrupt = riscv::CauseInterruptBit | 0;

// CSR numbers.
enum Csr : uint32_t {
    Ustatus = 0x000, Uie = 0x004, Utvec = 0x005,
    Uscratch = 0x040, Uepc = 0x041, Ucause = 0x042, Utval = 0x043, Uip = 0x044,
    Sideleg = 0x103,
};

constexpr uint32_t SystemOpcode = 0x73;
constexpr uint32_t UretInstruction = 0x00200073;  // exactly: no other bits may be set

bool every_hart_has_n = false;  // found at boot (for the banner); the path is chosen per hart

// ---- the hardware path (harts with `n`; never runs in QEMU) ----

template <uint32_t Number>
uint64_t read_csr() {
    uint64_t value;
    asm volatile("csrr %0, %1" : "=r"(value) : "i"(Number));
    return value;
}
template <uint32_t Number>
void write_csr(uint64_t value) {
    asm volatile("csrw %0, %1" ::"i"(Number), "r"(value));
}

// Kept in the same form as emulation keeps them (UTIE and UEIE, which the hardware lets a program
// set, are dropped here: nothing raises them), so that a thread reads the same on every hart.
void save_csrs(UserInterruptState& state) {
    state.ustatus.store(read_csr<Ustatus>() & (StatusUie | StatusUpie), std::memory_order_relaxed);
    state.uie.store(read_csr<Uie>() & SoftwareInterrupt, std::memory_order_relaxed);
    state.utvec.store(read_csr<Utvec>(), std::memory_order_relaxed);
    state.uscratch = read_csr<Uscratch>();
    state.uepc = read_csr<Uepc>();
    state.ucause = read_csr<Ucause>();
    state.utval = read_csr<Utval>();
    // While the thread ran, uip in the thread record collected raises from other harts (see load_csrs).
    state.uip.fetch_or(static_cast<uint32_t>(read_csr<Uip>() & SoftwareInterrupt), std::memory_order_seq_cst);
}

void load_csrs(UserInterruptState& state) {
    write_csr<Ustatus>(state.ustatus.load(std::memory_order_relaxed));
    write_csr<Uie>(state.uie.load(std::memory_order_relaxed));
    write_csr<Utvec>(state.utvec.load(std::memory_order_relaxed));
    write_csr<Uscratch>(state.uscratch);
    write_csr<Uepc>(state.uepc);
    write_csr<Ucause>(state.ucause);
    write_csr<Utval>(state.utval);
    // The CSR takes the pending bit; the record's copy starts collecting raises again (a raise for a
    // thread running in user mode is also kicked, so it traps and save_csrs merges the two).
    write_csr<Uip>(state.uip.exchange(0, std::memory_order_seq_cst));
}

// ---- emulation (harts without `n`) ----

bool is_user_interrupt_csr(uint32_t csr) {
    return csr == Ustatus || csr == Uie || csr == Utvec || (csr >= Uscratch && csr <= Uip);
}

uint64_t read_emulated(const UserInterruptState& state, uint32_t csr) {
    switch (csr) {
    case Ustatus: return state.ustatus.load(std::memory_order_relaxed);
    case Uie: return state.uie.load(std::memory_order_relaxed);
    case Utvec: return state.utvec.load(std::memory_order_relaxed);
    case Uscratch: return state.uscratch;
    case Uepc: return state.uepc;
    case Ucause: return state.ucause;
    case Utval: return state.utval;
    case Uip: return state.uip.load(std::memory_order_seq_cst);
    }
    return 0;
}

// Writes a CSR other than uip; bits that are read-only (zero) here are dropped.
void write_emulated(UserInterruptState& state, uint32_t csr, uint64_t value) {
    switch (csr) {
    case Ustatus: state.ustatus.store(value & (StatusUie | StatusUpie), std::memory_order_relaxed); return;
    case Uie: state.uie.store(value & SoftwareInterrupt, std::memory_order_relaxed); return;
    // Direct mode only: MODE (bits 1..0) reads as 0. For the one cause this kernel raises (0) a
    // vectored handler would start at BASE anyway.
    case Utvec: state.utvec.store(value & ~uint64_t{3}, std::memory_order_relaxed); return;
    case Uscratch: state.uscratch = value; return;
    case Uepc: state.uepc = value & ~uint64_t{1}; return;  // instructions are 2-byte aligned (C)
    case Ucause: state.ucause = value; return;
    case Utval: state.utval = value; return;
    }
}

enum CsrOperation : uint32_t { Write = 1, Set = 2, Clear = 3 };

// uip: only USIP is writable, and raisers on other harts set it concurrently: one atomic operation,
// so that a raise is never lost between the read and the write.
uint64_t access_uip(UserInterruptState& state, CsrOperation operation, uint64_t operand, bool writes) {
    uint32_t bits = static_cast<uint32_t>(operand & SoftwareInterrupt);
    if (!writes) return state.uip.load(std::memory_order_seq_cst);
    switch (operation) {
    case Write: return state.uip.exchange(bits, std::memory_order_seq_cst);
    case Set: return state.uip.fetch_or(bits, std::memory_order_seq_cst);
    case Clear: return state.uip.fetch_and(~bits, std::memory_order_seq_cst);
    }
    return 0;
}

// csrrw/csrrs/csrrc and their immediate forms (funct3 1-3, 5-7) on a user-interrupt CSR: the old
// value goes to rd; rs1 = x0 (uimm = 0) for set/clear writes nothing. False if not such an instruction.
bool emulate_csr_instruction(UserInterruptState& state, uint32_t instruction, riscv::TrapFrame& frame) {
    uint32_t funct3 = (instruction >> 12) & 7;
    uint32_t csr = instruction >> 20;
    uint32_t rs1 = (instruction >> 15) & 31;
    uint32_t rd = (instruction >> 7) & 31;
    if (funct3 == 0 || funct3 == 4 || !is_user_interrupt_csr(csr)) return false;
    auto operation = static_cast<CsrOperation>(funct3 & 3);
    bool immediate = funct3 >= 5;
    uint64_t operand = immediate ? rs1 : (rs1 == 0 ? 0 : frame.regs[rs1]);  // read before rd is written
    bool writes = operation == Write || rs1 != 0;
    uint64_t old;
    if (csr == Uip) {
        old = access_uip(state, operation, operand, writes);
    } else {
        old = read_emulated(state, csr);
        if (writes) {
            uint64_t value = operation == Write ? operand : operation == Set ? old | operand : old & ~operand;
            write_emulated(state, csr, value);
        }
    }
    if (rd != 0) frame.regs[rd] = old;
    frame.sepc += 4;
    return true;
}

// uret: pc = uepc, UIE = UPIE, UPIE = 1.
void emulate_uret(UserInterruptState& state, riscv::TrapFrame& frame) {
    uint64_t status = state.ustatus.load(std::memory_order_relaxed);
    uint64_t enabled = (status & StatusUpie) ? StatusUie : 0;
    state.ustatus.store((status & ~StatusUie) | enabled | StatusUpie, std::memory_order_relaxed);
    frame.sepc = state.uepc;
}

// The registers an upcall's handler may clobber (the psABI's caller-saved ones: ra, t0-t2, a0-a7,
// t3-t6), by number, in the order of UserInterruptState::upcall_saved.
constexpr uint8_t UpcallRegisters[UserInterruptState::UpcallSavedRegisters] = {1,  5,  6,  7,  10, 11, 12, 13,
                                                                               14, 15, 16, 17, 28, 29, 30, 31};
constexpr size_t UpcallSavedA0 = 4;  // x10's place in upcall_saved

// The part of a delivery that makes it an upcall (the CSRs are already as after any delivery): the
// kernel takes USIP, which the handler cannot clear without a trap. One atomic operation, before the
// handler's first instruction: a raise from here on sets it again, and since UIE stays 0 until
// upcall_return, that raise is delivered on upcall_return's way back to user mode (its completion is
// in the ring before its raise: the handler's drain or the next one finds it).
void deliver_upcall(UserInterruptState& state, riscv::TrapFrame& frame) {
    state.uip.fetch_and(~static_cast<uint32_t>(SoftwareInterrupt), std::memory_order_seq_cst);
    for (size_t i = 0; i < UserInterruptState::UpcallSavedRegisters; ++i)
        state.upcall_saved[i] = frame.regs[UpcallRegisters[i]];
    state.in_upcall = true;
    frame.regs[10] = state.uscratch;  // a0: the handler's context, without a csrr of uscratch
}

// The delivery rule, emulated: the interrupt is taken at the instruction the thread would run next.
void deliver_if_pending(UserInterruptState& state, riscv::TrapFrame& frame) {
    uint64_t status = state.ustatus.load(std::memory_order_relaxed);
    if (!(status & StatusUie)) return;
    if (!(state.uip.load(std::memory_order_seq_cst) & state.uie.load(std::memory_order_relaxed) & SoftwareInterrupt))
        return;
    state.uepc = frame.sepc;
    state.ucause = CauseUserSoftwareInterrupt;
    state.utval = 0;
    state.ustatus.store((status & ~StatusUie) | StatusUpie, std::memory_order_relaxed);  // UPIE = UIE (1), UIE = 0
    counters::count(counters::UserInterruptsDelivered);
    frame.sepc = state.utvec.load(std::memory_order_relaxed);  // 0 (no handler): the fetch faults, as on hardware
    if (state.upcall) deliver_upcall(state, frame);
}

// ---- raising ----

bool is_thread(Thread& thread, void* wanted) { return &thread == wanted; }

bool is_receiver(const Thread& thread) {
    const UserInterruptState& state = thread.user_interrupts;
    return state.utvec.load(std::memory_order_relaxed) != 0 &&
           (state.uie.load(std::memory_order_relaxed) & SoftwareInterrupt);
}

// A hint (the scheduler changes it under its lock; a byte load is atomic).
ThreadState state_hint(const Thread& thread) {
    return static_cast<ThreadState>(__atomic_load_n(reinterpret_cast<const uint8_t*>(&thread.state), __ATOMIC_RELAXED));
}

// Receiver preference, lower is better (raise_user_interrupt(Process&)).
enum ReceiverRank : int { CallingThread, Running, Runnable, BlockedInterruptibly, Other, NotReceiver };

ReceiverRank rank_of(const Thread& thread, const Thread* caller) {
    if (!is_receiver(thread)) return NotReceiver;
    if (&thread == caller) return CallingThread;
    if (thread.running_on_hart.load(std::memory_order_seq_cst) != Thread::NotRunning) return Running;
    if (thread.interruptible_wait.load(std::memory_order_seq_cst)) return BlockedInterruptibly;
    if (state_hint(thread) == ThreadState::Runnable) return Runnable;
    return Other;
}

} // namespace

bool user_interrupt_deliverable(const Thread& thread) {
    const UserInterruptState& state = thread.user_interrupts;
    return (state.ustatus.load(std::memory_order_relaxed) & StatusUie) &&
           (state.uip.load(std::memory_order_seq_cst) & state.uie.load(std::memory_order_relaxed) & SoftwareInterrupt);
}

void raise_user_interrupt(Thread& thread) {
    bool enabled = riscv::save_and_disable_interrupts();
    // Order matters (both seq_cst): set USIP, then look where the thread is. The thread publishes
    // where it is (running_on_hart, interruptible_wait) before it checks USIP, so one of the two sides
    // sees the other: either the thread finds USIP on its way to user mode or into its wait, or this
    // side sees it running (and kicks it) or waiting (and wakes it).
    const uint64_t before =
        thread.user_interrupts.uip.fetch_or(static_cast<uint32_t>(SoftwareInterrupt), std::memory_order_seq_cst);
    counters::count(counters::UserInterruptsRaised);
    if (before & SoftwareInterrupt) counters::count(counters::UserInterruptsAlreadyPending);
    kick(thread);
    WaitQueue* queue = thread.interruptible_wait.load(std::memory_order_seq_cst);
    // The wait ends only if the thread can take the interrupt (a masked one stays pending, as a
    // blocked signal does). Its ustatus and uie cannot change while it waits: only it changes them.
    if (queue && user_interrupt_deliverable(thread)) {
        queue->lock.lock();
        if (wake_matching(*queue, is_thread, &thread, 1) != 0) counters::count(counters::UserInterruptWaitsEnded);
        // (0: not there any more, it has woken already)
        queue->lock.unlock();
    }
    riscv::restore_interrupts(enabled);
}

bool raise_user_interrupt(Process& process) {
    ScopedLock guard(process.threads_lock);
    const Thread* caller = current_thread();
    Thread* chosen = nullptr;
    ReceiverRank best = NotReceiver;
    for (Thread* thread = process.threads; thread && best != CallingThread; thread = thread->next_in_process) {
        ReceiverRank rank = rank_of(*thread, caller);
        if (rank < best) {
            best = rank;
            chosen = thread;
        }
    }
    if (!chosen) return false;
    raise_user_interrupt(*chosen);
    return true;
}

bool raise_user_interrupt(Process& process, uint64_t tid) {
    ScopedLock guard(process.threads_lock);
    for (Thread* thread = process.threads; thread; thread = thread->next_in_process) {
        if (thread->tid != tid) continue;
        raise_user_interrupt(*thread);
        return true;
    }
    return false;
}

void init_user_interrupts() {
    const fdt::BootInfo& info = boot_info();
    bool every_hart = true;
    size_t usable = 0;
    for (size_t i = 0; i < info.hart_count; ++i) {
        const fdt::HartInfo& hart = info.harts[i];
        if (!hart.enabled || !hart.has_mmu) continue;  // the harts start_secondary_harts uses
        ++usable;
        every_hart = every_hart && hart.isa.n;
    }
    every_hart_has_n = usable > 0 && every_hart;
}

void init_user_interrupts_on_this_hart() {
    Hart* hart = current_hart();
    hart->has_user_interrupt_csrs = hart->info && hart->info->isa.n;
    hart->delivers_user_interrupts = false;
    if (!hart->has_user_interrupt_csrs) return;  // never touch the CSRs there: they would trap
    // sideleg.USI: user software interrupts trap to the user handler, not to this kernel. The firmware
    // must have delegated them to S mode (mideleg) for the bit to stick; without that, S mode cannot
    // even see uip/uie, and user interrupts do not work on this hart (docs/user-interrupts.md).
    asm volatile("csrs %0, %1" ::"i"(Sideleg), "r"(SoftwareInterrupt));
    hart->delivers_user_interrupts = (read_csr<Sideleg>() & SoftwareInterrupt) != 0;
    if (!hart->delivers_user_interrupts)
        println("hart {}: has n, but sideleg.USI does not stick (the firmware keeps user software "
                "interrupts): user interrupts do not work on this hart", hart->hart_id);
}

const char* user_interrupt_mode() {
    if (every_hart_has_n) return "hardware (N extension)";
    for (size_t i = 0; i < hart_count(); ++i)
        if (hart_by_index(i)->has_user_interrupt_csrs) return "hardware on harts with n, emulated on the others";
    return "emulated";
}

void save_user_interrupt_csrs_of_hart(Thread& thread) { save_csrs(thread.user_interrupts); }

bool emulate_user_interrupt_instruction(Thread& thread, riscv::TrapFrame& frame) {
    // QEMU puts the instruction in stval; hardware may leave it 0 (then it is read from user memory).
    uint32_t instruction = static_cast<uint32_t>(frame.stval);
    if (frame.stval == 0 &&
        !thread.process->address_space.copy_from_user(&instruction, frame.sepc, sizeof(instruction)))
        return false;
    if ((instruction & 0x7f) != SystemOpcode) return false;
    if (instruction == UretInstruction) {
        emulate_uret(thread.user_interrupts, frame);
        return true;
    }
    return emulate_csr_instruction(thread.user_interrupts, instruction, frame);
}

void deliver_emulated_user_interrupt(Thread& thread) { deliver_if_pending(thread.user_interrupts, thread.user->frame); }

void load_user_interrupt_csrs_into_hart(Thread& thread) {
    riscv::TrapFrame& frame = thread.user->frame;
    load_csrs(thread.user_interrupts);
    // ustatus is a view of sstatus (UIE and UPIE are the same bits there), and return_to_user writes
    // sstatus from the frame last: the frame must carry the thread's bits (a new thread's frame is a
    // copy of its creator's, and execve's is fresh).
    constexpr uint64_t StatusBits = StatusUie | StatusUpie;
    uint64_t status = thread.user_interrupts.ustatus.load(std::memory_order_relaxed);
    frame.sstatus = (frame.sstatus & ~StatusBits) | (status & StatusBits);
}

long set_user_interrupt_upcall(Thread& thread, bool on) {
    UserInterruptState& state = thread.user_interrupts;
    if (on) {
        // A thread can move to any hart: upcalls only where no hart delivers user interrupts itself.
        for (size_t i = 0; i < hart_count(); ++i)
            if (hart_by_index(i)->has_user_interrupt_csrs) return -Errno::NotSupported;
    }
    const bool was_on = state.upcall;
    state.upcall = on;
    state.in_upcall = false;
    return was_on ? 1 : 0;
}

long return_from_upcall(Thread& thread) {
    UserInterruptState& state = thread.user_interrupts;
    riscv::TrapFrame& frame = thread.user->frame;
    if (!state.in_upcall) return -Errno::Invalid;
    state.in_upcall = false;
    for (size_t i = 0; i < UserInterruptState::UpcallSavedRegisters; ++i)
        frame.regs[UpcallRegisters[i]] = state.upcall_saved[i];
    emulate_uret(state, frame);  // pc = uepc, UIE = UPIE: a raise that came meanwhile is taken now
    return static_cast<long>(state.upcall_saved[UpcallSavedA0]);  // the system call's result is a0
}

void reset_user_interrupts(Thread& thread) {
    UserInterruptState& state = thread.user_interrupts;
    state.upcall = state.in_upcall = false;
    state.ustatus.store(0, std::memory_order_relaxed);
    state.uie.store(0, std::memory_order_relaxed);
    state.utvec.store(0, std::memory_order_relaxed);
    state.uscratch = state.uepc = state.ucause = state.utval = 0;
    state.uip.store(0, std::memory_order_seq_cst);
}

bool begin_interruptible_wait(Thread& thread, WaitQueue& queue) {
    thread.interruptible_wait.store(&queue, std::memory_order_seq_cst);  // then check: see raise_user_interrupt
    if (!user_interrupt_deliverable(thread)) return true;
    thread.interruptible_wait.store(nullptr, std::memory_order_relaxed);
    return false;
}

bool end_interruptible_wait(Thread& thread) {
    thread.interruptible_wait.store(nullptr, std::memory_order_relaxed);
    return user_interrupt_deliverable(thread);
}

} // namespace kernel::proc
