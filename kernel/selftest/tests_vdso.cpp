// Self-test of the vDSO: the kernel runs coroutines on the image's code through its bindings, the
// image is hermetic at run time too, one physical copy serves the kernel half and every process, and a
// process runs it.
#include <coroutine>
#include <cstddef>
#include <string_view>

#include "kernel/exec/elf.hpp"
#include "kernel/mm/memory.hpp"
#include "kernel/proc/address_space.hpp"
#include "kernel/proc/process.hpp"
#include "kernel/selftest/selftest.hpp"
#include "kernel/vdso/binding.hpp"
#include "kernel/vdso/kernel_coroutine.hpp"
#include "kernel/vdso/vdso.hpp"

namespace kernel {

namespace {

using vdso_binding::executor_functions;
using vdso_binding::KernelCoroutine;
using vdso_binding::WaitForWake;
using vdso_binding::YieldToExecutor;
using vdso_binding::spawn;

// What the probe coroutines write: one character per step, in the order the executor ran them.
struct Trace {
    char steps[32] = {};
    size_t length = 0;
    void add(char step) {
        if (length + 1 < sizeof(steps)) steps[length++] = step;
    }
};

KernelCoroutine stepper(Trace& trace, char first, char second) {
    trace.add(first);
    co_await YieldToExecutor{};
    trace.add(second);
}

KernelCoroutine waiter(Trace& trace, uint64_t& waiter_id) {
    trace.add('W');
    co_await WaitForWake{&waiter_id};
    trace.add('w');
}

KernelCoroutine waker(Trace& trace, void* executor, const uint64_t& waiter_id, int& wake_status, int& again) {
    wake_status = executor_functions().executor_wake(executor, waiter_id);
    again = executor_functions().executor_wake(executor, waiter_id);  // now Ready: a duplicate
    trace.add('K');
    co_return;
}

bool inside_kernel_mapping(void* function) {
    auto address = reinterpret_cast<uint64_t>(function);
    return address >= vdso_binding::KernelVdsoBase && address < vdso_binding::KernelVdsoBase + vdso_binding::mapped_size();
}

bool entry_points_are_in_the_image() {
    const auto& functions = executor_functions();
    SELFTEST_CHECK(inside_kernel_mapping(reinterpret_cast<void*>(functions.executor_spawn)));
    SELFTEST_CHECK(inside_kernel_mapping(reinterpret_cast<void*>(functions.poll_once)));
    size_t count = 0;
    const vdso_binding::BoundSymbol* symbols = vdso_binding::bound_symbols(count);
    SELFTEST_CHECK(count > 0);
    for (size_t i = 0; i < count; ++i) {
        auto offset = exec::find_symbol(vdso_binding::shared_object(), symbols[i].name, COKERNEL_VDSO_VERSION);
        SELFTEST_CHECK(offset && *offset == symbols[i].offset && *offset < vdso_binding::image_size());
    }
    println("    {} entry points bound at {:#x} + offset", count, vdso_binding::KernelVdsoBase);
    return true;
}

// Priorities: E 0, B 1, D 1, W 2, C 3, K 4, A 5 (and X 0, cancelled before it runs). Expected: E runs
// and yields, alone at level 0 so it runs again; B and D alternate (FIFO within level 1); W waits;
// C runs and yields, alone; K wakes W, which outranks A and runs next; A last.
bool coroutines_run_in_priority_order() {
    const auto& functions = executor_functions();
    // An executor of its own: the kernel's holds the switch coroutines, which other harts poll.
    auto owned = vdso_binding::create_executor(32);
    SELFTEST_CHECK(owned);
    void* executor = owned->state;
    struct Release {
        vdso_binding::OwnedExecutor& executor;
        ~Release() { vdso_binding::destroy_executor(executor); }
    } release{*owned};
    SELFTEST_CHECK(executor != nullptr);
    SELFTEST_CHECK(functions.executor_highest_ready(executor) == COKERNEL_NO_PRIORITY);

    Trace trace;
    uint64_t waiter_id = 0, cancelled_id = 0, a_id = 0;
    int wake_status = -1, duplicate_status = -1;
    SELFTEST_CHECK(spawn(executor, stepper(trace, 'A', 'a'), 5, &a_id));
    SELFTEST_CHECK(spawn(executor, stepper(trace, 'X', 'x'), 0, &cancelled_id));
    SELFTEST_CHECK(spawn(executor, stepper(trace, 'B', 'b'), 1));
    SELFTEST_CHECK(spawn(executor, stepper(trace, 'C', 'c'), 3));
    SELFTEST_CHECK(spawn(executor, waiter(trace, waiter_id), 2));
    SELFTEST_CHECK(spawn(executor, stepper(trace, 'D', 'd'), 1));
    SELFTEST_CHECK(spawn(executor, waker(trace, executor, waiter_id, wake_status, duplicate_status), 4));
    SELFTEST_CHECK(spawn(executor, stepper(trace, 'E', 'e'), 0));
    SELFTEST_CHECK(functions.executor_state_of(executor, a_id) == COKERNEL_STATE_READY);
    SELFTEST_CHECK(functions.executor_highest_ready(executor) == 0);

    void* owner = nullptr;
    SELFTEST_CHECK(functions.executor_cancel(executor, cancelled_id, &owner) == COKERNEL_CANCEL_CANCELLED);
    SELFTEST_CHECK(owner != nullptr);
    // The owner is the promise: destroy the never-run frame.
    std::coroutine_handle<KernelCoroutine::promise_type>::from_promise(
        *static_cast<KernelCoroutine::promise_type*>(owner)).destroy();
    SELFTEST_CHECK(functions.executor_check_invariants(executor) == 1);

    size_t resumed = 0;
    int outcome;
    while ((outcome = functions.poll_once(executor, nullptr)) == COKERNEL_POLL_RAN) {
        ++resumed;
        SELFTEST_CHECK(functions.executor_check_invariants(executor) == 1);
    }
    trace.steps[trace.length] = '\0';
    println("    ran {} resumptions in order {}", resumed, static_cast<const char*>(trace.steps));
    SELFTEST_CHECK(outcome == COKERNEL_POLL_NOTHING_READY);
    SELFTEST_CHECK(std::string_view(trace.steps, trace.length) == "EeBDbdWCcKwAa");
    SELFTEST_CHECK(resumed == 13);
    SELFTEST_CHECK(wake_status == COKERNEL_WAKE_WOKEN && duplicate_status == COKERNEL_WAKE_DUPLICATE);
    SELFTEST_CHECK(functions.executor_state_of(executor, a_id) == COKERNEL_STATE_EXITED);
    SELFTEST_CHECK(functions.executor_wake(executor, waiter_id) == COKERNEL_WAKE_STALE);
    SELFTEST_CHECK(functions.executor_state_of(executor, cancelled_id) == COKERNEL_STATE_EXITED);
    SELFTEST_CHECK(functions.executor_highest_ready(executor) == COKERNEL_NO_PRIORITY);
    return true;
}

// Re-validates the image through its kernel-half mapping: what the kernel executes is what the build
// checked.
bool image_is_hermetic() {
    exec::Diagnostic diagnostic;
    auto mapped = exec::open_shared_object(reinterpret_cast<const void*>(vdso_binding::KernelVdsoBase), vdso_binding::image_size(),
                                           diagnostic);
    if (!mapped) println("    mapped image: {} (offset {:#x})", diagnostic.message, diagnostic.offset);
    SELFTEST_CHECK(mapped);
    SELFTEST_CHECK(!exec::has_writable_segment(*mapped));
    SELFTEST_CHECK(exec::dynamic_relocation_count(*mapped) == 0);
    SELFTEST_CHECK(!mapped->has_text_relocations);
    SELFTEST_CHECK(mapped->segment_count == 1 && mapped->segments[0].execute && !mapped->segments[0].write);
    auto entry = exec::find_symbol(*mapped, "cokernel_poll_once", COKERNEL_VDSO_VERSION);
    auto at_boot = exec::find_symbol(vdso_binding::shared_object(), "cokernel_poll_once", COKERNEL_VDSO_VERSION);
    SELFTEST_CHECK(entry && at_boot && *entry == *at_boot);
    SELFTEST_CHECK(__builtin_memcmp(reinterpret_cast<const void*>(vdso_binding::KernelVdsoBase), vdso_binding::image(),
                                    vdso_binding::image_size()) == 0);
    return true;
}

// One copy: every page of the kernel-half mapping and of a fresh process's mapping translates to the
// same frame, and that frame is the image's own page inside the kernel image.
bool one_physical_copy() {
    proc::AddressSpace space;
    SELFTEST_CHECK(space.create());
    bool same = true;
    auto mapped = vdso_binding::map_into(space);
    if (!mapped) println("    map_into: {}", error_name(mapped.error()));
    for (uint64_t offset = 0; mapped && offset < vdso_binding::mapped_size(); offset += mm::PageSize) {
        auto in_kernel = mm::kernel_page_table().translate(vdso_binding::KernelVdsoBase + offset);
        auto in_process = space.page_table().translate(vdso_binding::UserVdsoBase + offset);
        auto kernel_view = space.page_table().translate(vdso_binding::KernelVdsoBase + offset);  // shared kernel half
        uint64_t image_frame = mm::kernel_image_physical(vdso_binding::image() + offset);
        bool page_ok = in_kernel && in_process && kernel_view && in_kernel->physical == image_frame &&
                       in_process->physical == image_frame && kernel_view->physical == image_frame &&
                       (in_kernel->flags & (mm::pte::User | mm::pte::Write)) == 0 &&
                       (in_kernel->flags & mm::pte::Execute) && (in_kernel->flags & mm::pte::Global) &&
                       (in_process->flags & (mm::pte::User | mm::pte::Execute | mm::pte::Read)) ==
                           (mm::pte::User | mm::pte::Execute | mm::pte::Read) &&
                       !(in_process->flags & mm::pte::Write);
        if (!page_ok) println("    page {:#x}: translations differ or wrong permissions", offset);
        same = same && page_ok;
    }
    if (mapped && same)
        println("    {} page(s) at {:#x} (kernel) and {:#x} (user) -> frame {:#x} in the kernel image",
                vdso_binding::mapped_size() / mm::PageSize, vdso_binding::KernelVdsoBase, vdso_binding::UserVdsoBase, vdso_binding::image_physical());
    space.destroy();
    SELFTEST_CHECK(mapped);
    SELFTEST_CHECK(same);
    SELFTEST_CHECK(vdso_binding::image_physical() >= mm::KernelPhysicalBase);
    return true;
}

// A program of the user runtime (bin/coroutines) finds the image through AT_SYSINFO_EHDR, binds it by
// name and version and runs its coroutines on an executor in its own memory, from the same frames.
bool user_process_runs_the_image() {
    SELFTEST_CHECK(proc::init_archive());
    const char* arguments[] = {"bin/coroutines"};
    auto status = proc::run_program("bin/coroutines", arguments, 1);
    if (!status) println("    bin/coroutines: {}", error_name(status.error()));
    SELFTEST_CHECK(status && *status == 0);
    return true;
}

} // namespace

bool selftest_vdso() {
    SELFTEST_CHECK(entry_points_are_in_the_image());
    SELFTEST_CHECK(image_is_hermetic());
    SELFTEST_CHECK(coroutines_run_in_priority_order());
    size_t free_before = mm::frames().free_frames();
    SELFTEST_CHECK(one_physical_copy());
    SELFTEST_CHECK(mm::frames().free_frames() == free_before);  // the test address space left nothing
    SELFTEST_CHECK(user_process_runs_the_image());
    return true;
}

} // namespace kernel
