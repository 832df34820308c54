// threads: several threads of one process (clone) share memory and run on several harts at once;
// join through CLONE_CHILD_CLEARTID + futex, also of threads that end at once; exit of one thread does
// not end the others; a fault in any thread ends them all (with the argument "fault").
#include "user/lib/print.hpp"

namespace {

constexpr int ThreadCount = 4;
constexpr long Increments = 200000;
constexpr size_t StackSize = 16 * 1024;

long shared_counter = 0;
int thread_ids[ThreadCount];
long seen_tid[ThreadCount];

int work(void* argument) {
    long index = reinterpret_cast<long>(argument);
    seen_tid[index] = user::gettid();
    for (long i = 0; i < Increments; ++i) __atomic_fetch_add(&shared_counter, 1, __ATOMIC_RELAXED);
    return 0;
}

int quick(void*) { return 0; }

int crash(void*) {
    unsigned long address = 16;
    asm volatile("" : "+r"(address));  // a store to page 0: ends the whole process
    *reinterpret_cast<volatile long*>(address) = 1;
    return 0;
}

int failures = 0;
void expect(const char* what, long got, long wanted) {
    if (got == wanted) return;
    user::say("threads: FAILED ", what, ": got ", got, ", wanted ", wanted, "\n");
    ++failures;
}

} // namespace

int main(int argc, char** argv) {
    bool fault = argc > 1 && argv[1][0] == 'f';
    long pid = user::getpid();
    for (int i = 0; i < ThreadCount; ++i) {
        long stack = user::mmap(0, StackSize, user::PROT_READ | user::PROT_WRITE, user::MAP_PRIVATE | user::MAP_ANONYMOUS);
        if (stack < 0) {
            user::say("threads: FAILED mmap of a stack: ", stack, "\n");
            return 1;
        }
        auto* top = reinterpret_cast<void*>(stack + StackSize);
        long tid = user::spawn_thread(fault && i == ThreadCount - 1 ? crash : work, reinterpret_cast<void*>(static_cast<long>(i)), top,
                                      &thread_ids[i]);
        expect("spawn_thread", tid > 0, 1);
    }
    for (int i = 0; i < ThreadCount; ++i) user::join_thread(&thread_ids[i]);
    if (fault) {
        // The crash ends every thread, this one included, but this one learns it only at its next
        // trap: the others may already have been ended (their joins complete) while it still runs in
        // user mode. It checks nothing here, so it reports nothing false; it waits to be ended, and a
        // kernel that failed to end it would leave the test to time out.
        for (;;) user::sched_yield();
    }
    expect("counter", shared_counter, ThreadCount * Increments);
    for (int i = 0; i < ThreadCount; ++i) {
        expect("thread id differs from the process id", seen_tid[i] != pid, 1);
        for (int j = 0; j < i; ++j) expect("thread ids differ", seen_tid[i] != seen_tid[j], 1);
    }
    expect("getpid is the same in every thread", user::getpid(), pid);
    // Threads that end at once: the kernel writes CLONE_CHILD_SETTID before the child can run, so
    // the child's exit clears it for good and the join returns (it used to hang now and then).
    long quick_stack =
        user::mmap(0, StackSize, user::PROT_READ | user::PROT_WRITE, user::MAP_PRIVATE | user::MAP_ANONYMOUS);
    expect("mmap of the quick threads' stack", quick_stack > 0, 1);
    for (int i = 0; i < 200 && quick_stack > 0; ++i) {
        int quick_tid = 0;
        long tid = user::spawn_thread(quick, nullptr, reinterpret_cast<void*>(quick_stack + StackSize), &quick_tid);
        expect("spawn_thread (quick)", tid > 0, 1);
        if (tid > 0) user::join_thread(&quick_tid);
    }
    // A bad clone: no stack.
    expect("clone without a stack", user::syscall(220, 0x10f00, 0), -user::EINVAL);
    user::print(failures == 0 ? "threads: ok\n" : "threads: FAILED\n");
    return failures == 0 ? 0 : 1;
}
