// fault: ends itself with the fault named by argv[1] (store, load, exec, illegal, misaligned).
// The kernel must end only this process, with a message naming the fault, pc and address.
#include "user/lib/print.hpp"

namespace {
bool same(const char* a, const char* b) {
    while (*a && *a == *b) ++a, ++b;
    return *a == *b;
}
} // namespace

int main(int argc, char** argv) {
    const char* kind = argc > 1 ? argv[1] : "store";
    user::say("fault: causing fault \"", kind, "\"\n");
    uintptr_t address = 0;
    asm volatile("" : "+r"(address));
    if (same(kind, "store")) *reinterpret_cast<volatile long*>(address) = 1;
    else if (same(kind, "load")) (void)*reinterpret_cast<volatile long*>(address + 8);
    else if (same(kind, "exec")) reinterpret_cast<void (*)()>(address + 0x40)();
    else if (same(kind, "illegal")) asm volatile("csrr %0, sstatus" : "=r"(address));
    else if (same(kind, "kernel")) (void)*reinterpret_cast<volatile long*>(0xffffffff80200000ul);
    user::print("fault: still running: FAILED\n");
    return 1;
}
