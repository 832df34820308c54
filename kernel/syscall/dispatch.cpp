#include "kernel/syscall/dispatch.hpp"

#include <atomic>
#include <type_traits>

#include "abi/abi.hpp"
#include "abi/syscall_list.hpp"
#include "kernel/console/log.hpp"
#include "kernel/lib/counters.hpp"
#include "kernel/sched/scheduler.hpp"
#include "kernel/syscall/async_call.hpp"
#include "kernel/syscall/handlers.hpp"

namespace kernel::proc {

// Never defined: reaching it in the table's constant evaluation is the error (see Table::entry_for).
void syscall_list_error(const char* what);

namespace {

using Handler = long (*)(Thread& thread, SyscallArguments arguments);

// A call is served by a plain handler (synchronous only) or by a system-call coroutine (call.hpp),
// which also gives it its asynchronous form.
struct Entry {
    Handler plain = nullptr;
    CallHandler coroutine = nullptr;
    constexpr Entry() = default;
    constexpr Entry(Handler handler) : plain(handler) {}
    constexpr Entry(CallHandler handler) : coroutine(handler) {}
};



// Whether a list entry's form (abi/syscall_list.hpp) matches its handler's kind: Async exactly for
// the system-call coroutines.
enum class Form { Sync, Async, NoReturn, Raw };
template <typename HandlerType>
constexpr bool handler_fits(Form form) {
    return std::is_same_v<HandlerType, CallHandler> == (form == Form::Async);
}
#define COKERNEL_CHECK_HANDLER(number, name, Number, form, parameters, arguments)                      \
    static_assert(handler_fits<decltype(&sys_##name)>(Form::form),                                    \
                  "sys_" #name ": abi/syscall_list.hpp says " #form ", the handler is the other kind");
COKERNEL_SYSCALLS(COKERNEL_CHECK_HANDLER)
#undef COKERNEL_CHECK_HANDLER

// Two ranges: Linux riscv64 numbers (asm-generic/unistd.h) below 512, and the project's own calls
// from ProjectBase (docs/syscalls.md).
constexpr size_t LinuxCount = 512;
constexpr size_t ProjectBase = cokernel::abi::FirstProjectSyscall;
constexpr size_t ProjectCount = 32;
struct Table {
    Entry linux_calls[LinuxCount] = {};
    Entry project_calls[ProjectCount] = {};
    constexpr Table() {
#define COKERNEL_TABLE_ENTRY(number, name, Number, form, parameters, arguments) entry_for(number) = sys_##name;
        COKERNEL_SYSCALLS(COKERNEL_TABLE_ENTRY)
#undef COKERNEL_TABLE_ENTRY
    }
    constexpr Entry find(uint64_t number) const {
        if (number < LinuxCount) return linux_calls[number];
        if (number >= ProjectBase && number < ProjectBase + ProjectCount) return project_calls[number - ProjectBase];
        return {};
    }

private:
    // The entry a listed number fills; a number outside both ranges, or listed twice, stops the build
    // (constant evaluation cannot call the non-constexpr syscall_list_error).
    constexpr Entry& entry_for(size_t number) {
        Entry* entry = number < LinuxCount ? &linux_calls[number]
                       : number >= ProjectBase && number < ProjectBase + ProjectCount ? &project_calls[number - ProjectBase]
                                                                                       : nullptr;
        if (!entry) syscall_list_error("abi/syscall_list.hpp: a number outside the table's ranges");
        if (entry->plain || entry->coroutine) syscall_list_error("abi/syscall_list.hpp: a number listed twice");
        return *entry;
    }
};
constexpr Table table;

// Boot argument log-enosys: the first call of each unimplemented number is logged with the caller.
bool log_missing = false;
std::atomic<uint64_t> logged[(LinuxCount + ProjectCount) / 64 + 1];

long missing_call(const Thread& thread, uint64_t number) {
    if (!log_missing) return -Errno::NoSystemCall;
    uint64_t index = number < LinuxCount ? number
                     : number >= ProjectBase && number < ProjectBase + ProjectCount ? LinuxCount + number - ProjectBase
                                                                                     : LinuxCount + ProjectCount;
    uint64_t bit = uint64_t{1} << (index % 64);
    if (logged[index / 64].fetch_or(bit, std::memory_order_relaxed) & bit) return -Errno::NoSystemCall;
    println("system call {} not implemented (-ENOSYS), first called by process {} ({})", number,
            thread.process->pid, thread.process->name);
    return -Errno::NoSystemCall;
}

} // namespace

void set_log_missing_syscalls(bool enabled) { log_missing = enabled; }

long dispatch_syscall(riscv::TrapFrame& frame) {
    uint64_t number = frame.regs[17];
    Thread& thread = *current_thread();
    const uint64_t* arguments = &frame.regs[10];
    counters::count(counters::Syscalls);
    if (number & cokernel::abi::AsyncCallBit) {
        // The asynchronous form: the same call with the bit added and a token in a6. With
        // AsyncDrainsAfterReturnBit the submitter looks at the ring as soon as the ecall returns:
        // until this trap's kernel calls have run, completions for its process raise nothing.
        // With AsyncResultInRegistersBit a call that ends in its submission returns
        // AsyncCompletedInline and its result in a1, and posts nothing.
        thread.drains_completions = (number & cokernel::abi::AsyncDrainsAfterReturnBit) != 0;
        const bool result_in_registers = (number & cokernel::abi::AsyncResultInRegistersBit) != 0;
        // The waiting coroutine's priority, if the submitter named it (clamped by submit_async_call).
        uint32_t named_priority = static_cast<uint32_t>((number & cokernel::abi::AsyncPriorityMask) >>
                                                        cokernel::abi::AsyncPriorityShift);
        Entry entry = table.find(number & ~static_cast<uint64_t>(cokernel::abi::AsyncCallBit |
                                                                 cokernel::abi::AsyncDrainsAfterReturnBit |
                                                                 cokernel::abi::AsyncResultInRegistersBit |
                                                                 cokernel::abi::AsyncPriorityMask));
        if (!entry.coroutine) return -Errno::NoSystemCall;
        long inline_result = 0;
        const long status = submit_async_call(thread, entry.coroutine, arguments, frame.regs[16],
                                              result_in_registers ? &inline_result : nullptr, named_priority);
        if (status == cokernel::abi::AsyncCompletedInline) frame.regs[11] = static_cast<uint64_t>(inline_result);
        return status;
    }
    Entry entry = table.find(number);
    if (entry.plain) return entry.plain(thread, arguments);
    if (entry.coroutine) return run_call(thread, entry.coroutine, arguments);
    return missing_call(thread, number);
}

long sys_async_setup(Thread& thread, SyscallArguments a) { return async_setup(thread, a[0], a[1]); }
long sys_async_flush(Thread& thread, SyscallArguments) { return async_flush(thread); }
long sys_async_submit_batch(Thread& thread, SyscallArguments a) {
    return async_submit_batch(thread, a[0], a[1], a[2], [](uint64_t number) { return table.find(number).coroutine; });
}

} // namespace kernel::proc
