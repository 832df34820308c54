// malloc/free and operator new/delete (see malloc.hpp).
#include "user/lib/malloc.hpp"

#include <cstdint>
#include <new>

#include "user/lib/syscall.hpp"
#include "abi/spin_lock.hpp"

namespace user {

namespace {

constexpr size_t HeaderSize = 16;
constexpr size_t SmallestClass = 16; // bytes of payload
constexpr size_t ClassCount = 8;     // 16, 32, ..., 2048
constexpr size_t LargestSmall = SmallestClass << (ClassCount - 1);
constexpr size_t ChunkSize = 64 * 1024;
constexpr uint64_t LargeMark = ~uint64_t{0}; // header.size_class of a block with its own mapping

struct alignas(16) Header {
    uint64_t size_class; // 0..ClassCount-1, or LargeMark
    uint64_t mapping;    // for a large block: bytes mapped (header included)
};
static_assert(sizeof(Header) == HeaderSize);

struct FreeBlock {
    FreeBlock* next;
};

// Guarded by heap_lock: the free blocks of each class, and the unused tail of the current chunk.
vdso::SpinLock heap_lock;
FreeBlock* free_lists[ClassCount] = {};
uintptr_t chunk_next = 0;
uintptr_t chunk_end = 0;

size_t class_of(size_t size) {
    size_t size_class = 0;
    while ((SmallestClass << size_class) < size) ++size_class;
    return size_class;
}

long map(size_t bytes) { return mmap(0, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS); }

void* allocate_large(size_t size) {
    if (size > (uint64_t{1} << 40)) return nullptr;
    const size_t bytes = (size + HeaderSize + 4095) & ~size_t{4095};
    const long address = map(bytes);
    if (address < 0) return nullptr;
    auto* header = reinterpret_cast<Header*>(address);
    header->size_class = LargeMark;
    header->mapping = bytes;
    return header + 1;
}

// With heap_lock held: a block of `size_class` from the free list or the current chunk.
void* allocate_small_locked(size_t size_class) {
    const size_t block_bytes = HeaderSize + (SmallestClass << size_class);
    Header* header;
    if (FreeBlock* block = free_lists[size_class]) {
        free_lists[size_class] = block->next;
        header = reinterpret_cast<Header*>(block) - 1;
    } else {
        if (chunk_end - chunk_next < block_bytes) { // the old tail (if any) is left unused
            const long chunk = map(ChunkSize);
            if (chunk < 0) return nullptr;
            chunk_next = static_cast<uintptr_t>(chunk);
            chunk_end = chunk_next + ChunkSize;
        }
        header = reinterpret_cast<Header*>(chunk_next);
        chunk_next += block_bytes;
    }
    header->size_class = size_class;
    header->mapping = 0;
    return header + 1;
}

[[noreturn]] void out_of_memory() {
    const char message[] = "out of memory in operator new\n";
    write(2, message, sizeof(message) - 1);
    exit_group(134);
}

} // namespace

void* malloc(size_t size) {
    if (size == 0) size = 1;
    if (size > LargestSmall) return allocate_large(size);
    vdso::ScopedLock<vdso::SpinLock> guard(heap_lock);
    return allocate_small_locked(class_of(size));
}

void free(void* memory) {
    if (memory == nullptr) return;
    Header* header = static_cast<Header*>(memory) - 1;
    if (header->size_class == LargeMark) {
        munmap(reinterpret_cast<uintptr_t>(header), header->mapping);
        return;
    }
    vdso::ScopedLock<vdso::SpinLock> guard(heap_lock);
    auto* block = static_cast<FreeBlock*>(memory);
    block->next = free_lists[header->size_class];
    free_lists[header->size_class] = block;
}

void* calloc(size_t count, size_t size) {
    if (size != 0 && count > ~size_t{0} / size) return nullptr;
    void* memory = malloc(count * size);
    if (memory != nullptr) __builtin_memset(memory, 0, count * size);
    return memory;
}

} // namespace user

// operator new/delete. Alignments above 16 are not supported by this heap: aligned new fails.
void* operator new(size_t size) {
    void* memory = user::malloc(size);
    if (memory == nullptr) user::out_of_memory();
    return memory;
}
void* operator new[](size_t size) { return operator new(size); }
void* operator new(size_t size, const std::nothrow_t&) noexcept { return user::malloc(size); }
void* operator new[](size_t size, const std::nothrow_t&) noexcept { return user::malloc(size); }
void operator delete(void* memory) noexcept { user::free(memory); }
void operator delete[](void* memory) noexcept { user::free(memory); }
void operator delete(void* memory, size_t) noexcept { user::free(memory); }
void operator delete[](void* memory, size_t) noexcept { user::free(memory); }
