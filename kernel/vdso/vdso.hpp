// The vDSO image inside the kernel: validated at boot, mapped once into the kernel half and into every
// process, from the same physical frames (the ones the image occupies in the kernel's .rodata).
//
// Layout (Sv39):
//   KernelVdsoBase = 0xffffffff90000000  supervisor R-X, global, in the kernel page table (root entry
//                                        510, whose level-1 table the kernel image already created, so
//                                        every address space that copied the kernel half sees it)
//   UserVdsoBase   = 0x0000003ff8000000  user R-X in each process, above the user stack
//                                        (proc::UserStackTop = 0x3ff0000000), below the end of the
//                                        user half (0x4000000000); passed as AT_SYSINFO_EHDR
// Invariants after init() returned:
//   * the image opened with exec::open_shared_object, has one R-X PT_LOAD at 0 == file offset 0 with
//     file size == memory size, no writable segment, no dynamic relocation, no TEXTREL, and every
//     entry point in binding.hpp is defined at version COKERNEL_1.0 (a broken image panics: it is
//     part of the kernel build, so nothing could be trusted after it);
//   * [KernelVdsoBase, KernelVdsoBase + mapped_size()) maps image_physical() .. + mapped_size().
#pragma once

#include <cstddef>
#include <cstdint>

#include "abi/result.hpp"
#include "kernel/exec/elf.hpp"
#include "kernel/mm/physical.hpp"

namespace kernel::proc {
class AddressSpace;
}

namespace kernel::vdso_binding {

constexpr uint64_t KernelVdsoBase = 0xffffffff90000000ull;
constexpr uint64_t UserVdsoBase = 0x0000003ff8000000ull;

// Validates the embedded image, maps it into the kernel half, binds the kernel's entry points
// (binding.hpp) and creates the kernel's executor. Once, at boot, after mm::init and before any
// process exists. Panics with the validator's diagnostic if the image is broken.
void init();

// The embedded image (file bytes) and its page-padded span.
const uint8_t* image();
size_t image_size();
size_t mapped_size();
mm::PhysicalAddress image_physical();
// The image as validated at boot (points into the embedded copy).
const exec::SharedObject& shared_object();

// Maps the image's frames into a process at UserVdsoBase (user R-X). The frames belong to the kernel
// image: the address space's destroy() frees the table pages, never these frames.
Result<void> map_into(proc::AddressSpace& space);

} // namespace kernel::vdso_binding
