// FakeMemory: a host buffer standing for RAM at physical 0x80000000, for the kernel/mm tests.
#pragma once

#include "kernel/mm/physical.hpp"

#include <cstdlib>
#include <cstring>

namespace kernel::mm::testing {

class FakeMemory {
public:
    static constexpr PhysicalAddress Base = 0x80000000;
    static constexpr size_t Alignment = 2 * 1024 * 1024;  // the direct-map offset stays 2 MiB-aligned

    explicit FakeMemory(size_t bytes) : bytes_(bytes), buffer_(std::aligned_alloc(Alignment, (bytes + Alignment - 1) / Alignment * Alignment)) {
        std::memset(buffer_, 0xa5, bytes_);  // RAM holds garbage, never zeroes
    }
    ~FakeMemory() { std::free(buffer_); }
    FakeMemory(const FakeMemory&) = delete;
    FakeMemory& operator=(const FakeMemory&) = delete;

    PhysicalMap map() const { return PhysicalMap{reinterpret_cast<uintptr_t>(buffer_) - Base}; }
    PhysicalRange ram() const { return {Base, bytes_}; }
    size_t bytes() const { return bytes_; }

private:
    size_t bytes_;
    void* buffer_;
};

constexpr size_t KiB = 1024;
constexpr size_t MiB = 1024 * KiB;
constexpr uint64_t GiB = 1024 * MiB;

} // namespace kernel::mm::testing
