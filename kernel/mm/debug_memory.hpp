// The memory debug build (CMake option COKERNEL_DEBUG_MEMORY, `make fuzz DEBUG_MEMORY=1`): a small
// substitute for KASAN in the kernel heap and the frame allocator.
//
//   * the heap fills a block it hands out with FreshByte and a block it takes back with FreedByte
//     (past the free-list link and poison word); handing a free block out again checks that it
//     still holds FreedByte throughout (a write after free), that its poison word is intact and that
//     its link stays inside its slab (a corrupt free list); every free checks the slab's or the
//     large chunk's header (an overwritten header) and refuses nothing silently: a double free or a
//     pointer the heap never handed out panics instead of being counted in rejected_frees;
//   * the frame allocator fills every free frame with FreedFrameWord (all free frames at init, each
//     one as it is freed) and checks the whole frame when it hands it out again, then fills it with
//     FreshByte; a double free, or a free of a frame it does not manage, panics.
//
// Every violation panics with `heap: ...` or `frames: ...` naming the address and what was wrong.
// Without the option DebugMemory is false and none of this is compiled in: the normal build's paths
// are unchanged. The self-test `poison` (named only, debug build only) makes each violation happen on
// purpose; the QEMU tests `virt-debug-memory-*` (registered in a build configured with the option)
// check the panic's message.
#pragma once

#include <cstdint>

#ifndef COKERNEL_DEBUG_MEMORY
#define COKERNEL_DEBUG_MEMORY 0
#endif

namespace kernel::mm {

inline constexpr bool DebugMemory = COKERNEL_DEBUG_MEMORY != 0;
inline constexpr uint8_t FreshByte = 0xa5;
inline constexpr uint8_t FreedByte = 0xdf;
inline constexpr uint64_t FreedFrameWord = 0xdfdfdfdfdfdfdfdfull;

} // namespace kernel::mm
