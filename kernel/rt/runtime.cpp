// The freestanding C++ runtime: everything the compiler expects from a C++ library, in one place.
//
//   operator new/delete   on the kernel heap. Plain `new` cannot report failure without
//                         exceptions, so it stops the kernel on out of memory; kernel code that can
//                         fail allocates with `new (std::nothrow)` or mm::heap() and checks.
//   __cxa_pure_virtual    a call through a pure virtual slot is a kernel bug.
//   static constructors   run_static_constructors() walks .init_array (kernel.ld collects it).
//   guard variables       function-local statics initialised once, even when harts race.
//   atexit                the kernel never exits: registrations are accepted and ignored.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <new>

#include "kernel/console/log.hpp"
#include "kernel/mm/memory.hpp"
#include "kernel/rt/runtime.hpp"

extern "C" void (*__init_array_start[])();
extern "C" void (*__init_array_end[])();

namespace kernel {

void run_static_constructors() {
    for (auto* constructor = __init_array_start; constructor != __init_array_end; ++constructor) (*constructor)();
}

} // namespace kernel

namespace std {
const nothrow_t nothrow{};
}

void* operator new(size_t size) {
    void* p = kernel::mm::heap().allocate(size);
    if (!p) kernel::panic("operator new: out of memory for {} bytes (use new (std::nothrow))", size);
    return p;
}
void* operator new[](size_t size) { return operator new(size); }
void* operator new(size_t size, const std::nothrow_t&) noexcept { return kernel::mm::heap().allocate(size); }
void* operator new[](size_t size, const std::nothrow_t&) noexcept { return kernel::mm::heap().allocate(size); }
void operator delete(void* p) noexcept { kernel::mm::heap().free(p); }
void operator delete[](void* p) noexcept { kernel::mm::heap().free(p); }
void operator delete(void* p, size_t) noexcept { kernel::mm::heap().free(p); }
void operator delete[](void* p, size_t) noexcept { kernel::mm::heap().free(p); }

extern "C" {

void* __dso_handle = nullptr;

void __cxa_pure_virtual() { kernel::panic("pure virtual function called"); }

int atexit(void (*)()) { return 0; }

// Itanium C++ ABI guard: byte 0 = "initialised"; byte 1 = "in progress" (taken as a spin lock).
int __cxa_guard_acquire(uint64_t* guard) {
    auto* bytes = reinterpret_cast<uint8_t*>(guard);
    auto initialised = std::atomic_ref<uint8_t>(bytes[0]);
    auto busy = std::atomic_ref<uint8_t>(bytes[1]);
    for (;;) {
        if (initialised.load(std::memory_order_acquire)) return 0;
        uint8_t expected = 0;
        if (busy.compare_exchange_weak(expected, 1, std::memory_order_acquire)) {
            if (initialised.load(std::memory_order_acquire)) {
                busy.store(0, std::memory_order_release);
                return 0;
            }
            return 1;  // the caller runs the initialiser, then calls __cxa_guard_release
        }
    }
}

void __cxa_guard_release(uint64_t* guard) {
    auto* bytes = reinterpret_cast<uint8_t*>(guard);
    std::atomic_ref<uint8_t>(bytes[0]).store(1, std::memory_order_release);
    std::atomic_ref<uint8_t>(bytes[1]).store(0, std::memory_order_release);
}

void __cxa_guard_abort(uint64_t* guard) {
    std::atomic_ref<uint8_t>(reinterpret_cast<uint8_t*>(guard)[1]).store(0, std::memory_order_release);
}

} // extern "C"
