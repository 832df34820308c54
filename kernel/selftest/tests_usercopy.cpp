// Self-test of the kernel's copies to and from user memory (issue 12; docs/architecture.md, "User
// memory access"): bin/copytest's cases (every alignment, refused copies that write nothing, the vDSO
// and the priority table, a munmap racing copies on every hart). Afterwards the free frames and the
// kernel heap are back to their figures, and the refused copies went through the fault fixup (the
// copies with SUM ran: a count of 0 would mean every copy took the page-table walk).
#include "kernel/arch/riscv/user_access.hpp"
#include "kernel/mm/memory.hpp"
#include "kernel/proc/process.hpp"
#include "kernel/selftest/selftest.hpp"

namespace kernel {

namespace {
bool run_copytest() {
    const char* arguments[] = {"bin/copytest"};
    auto status = proc::run_program("bin/copytest", arguments, 1);
    if (!status) {
        println("    bin/copytest: {}", error_name(status.error()));
        return false;
    }
    if (*status != 0) println("    bin/copytest: exit status {}", *status);
    return *status == 0;
}
} // namespace

bool selftest_usercopy() {
    SELFTEST_CHECK(proc::init_archive());
    SELFTEST_CHECK(run_copytest());  // warm-up: heap slabs for process records stay cached
    size_t free_before = mm::frames().free_frames();
    size_t heap_before = mm::heap().stats().bytes_in_use;
    uint64_t fixed_before = riscv::user_access_faults_fixed();
    SELFTEST_CHECK(run_copytest());
    uint64_t fixed = riscv::user_access_faults_fixed() - fixed_before;
    size_t free_after = mm::frames().free_frames();
    size_t heap_after = mm::heap().stats().bytes_in_use;
    println("    faults resumed at a fixup {}; free frames before {} after {}, heap bytes in use before {} after {}",
            fixed, free_before, free_after, heap_before, heap_after);
    SELFTEST_CHECK(fixed > 0);
    SELFTEST_CHECK(free_after == free_before);
    SELFTEST_CHECK(heap_after == heap_before);
    return true;
}

} // namespace kernel
