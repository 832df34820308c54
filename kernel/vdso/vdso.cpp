#include "kernel/vdso/vdso.hpp"

#include "kernel/arch/riscv/csr.hpp"
#include "kernel/console/log.hpp"
#include "kernel/mm/memory.hpp"
#include "kernel/proc/address_space.hpp"
#include "kernel/vdso/binding.hpp"

// kernel/vdso/vdso_image.S: the image, and the page boundary after it.
extern "C" const uint8_t vdso_image_start[], vdso_image_end[], vdso_image_pages_end[];

namespace kernel::vdso_binding {

namespace {

exec::SharedObject validated;

static_assert(mm::is_canonical_sv39(KernelVdsoBase) && KernelVdsoBase % mm::PageSize == 0);
static_assert(UserVdsoBase % mm::PageSize == 0 && UserVdsoBase < 0x0000004000000000ull);

// Beyond what open_shared_object checks: the rules that let the kernel map the file's pages as they
// are (vdso/vdso.lds), and the hermetic-image rules (no writable segment, no relocation).
const char* layout_violation(const exec::SharedObject& object) {
    if (object.segment_count != 1) return "not exactly one PT_LOAD segment";
    const exec::LoadSegment& segment = object.segments[0];
    if (segment.virtual_address != 0 || segment.file_offset != 0) return "PT_LOAD not at address 0 == offset 0";
    if (segment.file_size != segment.memory_size) return "PT_LOAD has a zero-filled part (.bss)";
    if (!segment.read || !segment.execute) return "PT_LOAD is not R-X";
    if (exec::has_writable_segment(object)) return "writable segment";
    if (exec::dynamic_relocation_count(object) != 0) return "dynamic relocations";
    if (object.has_text_relocations) return "TEXTREL";
    if (object.highest_address > mapped_size()) return "segment beyond the embedded pages";
    return nullptr;
}

} // namespace

const uint8_t* image() { return vdso_image_start; }
size_t image_size() { return static_cast<size_t>(vdso_image_end - vdso_image_start); }
size_t mapped_size() { return static_cast<size_t>(vdso_image_pages_end - vdso_image_start); }
mm::PhysicalAddress image_physical() { return mm::kernel_image_physical(vdso_image_start); }
const exec::SharedObject& shared_object() { return validated; }

void init() {
    if (reinterpret_cast<uint64_t>(vdso_image_start) % mm::PageSize != 0 || mapped_size() % mm::PageSize != 0)
        panic("vdso: the embedded image is not page-aligned (kernel/vdso/vdso_image.S)");
    exec::Diagnostic diagnostic;
    auto opened = exec::open_shared_object(image(), image_size(), diagnostic);
    if (!opened) panic("vdso: broken image: {} (offset {:#x})", diagnostic.message, diagnostic.offset);
    if (const char* violation = layout_violation(*opened)) panic("vdso: broken image: {}", violation);
    validated = *opened;

    // Root entry 510 already has its level-1 table (the kernel image lives under it), so this mapping
    // is visible in every address space created afterwards; it is made before any exists anyway.
    auto mapped = mm::kernel_page_table().map_range(KernelVdsoBase, image_physical(), mapped_size(),
                                                    mm::pte::Read | mm::pte::Execute | mm::pte::Global);
    if (!mapped) panic("vdso: mapping at {:#x} failed: {}", KernelVdsoBase, error_name(mapped.error()));
    for (uint64_t offset = 0; offset < mapped_size(); offset += mm::PageSize)
        riscv::flush_tlb_page(KernelVdsoBase + offset);
    asm volatile("fence.i" ::: "memory");  // instruction fetch sees the new mapping's bytes
    bind_kernel_entry_points(validated, KernelVdsoBase);
}

Result<void> map_into(proc::AddressSpace& space) {
    return space.page_table().map_range(UserVdsoBase, image_physical(), mapped_size(),
                                        mm::pte::Read | mm::pte::Execute | mm::pte::User);
}

} // namespace kernel::vdso_binding
