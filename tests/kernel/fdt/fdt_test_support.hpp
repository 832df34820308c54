// Test support for the device tree tests: loading the dumped DTBs, copying a blob into a buffer of
// exactly its size (so AddressSanitizer catches any read past it), and FdtBuilder, which writes
// small blobs by hand, well-formed or deliberately broken.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "kernel/fdt/platform.hpp"

namespace fdt_test {

using Bytes = std::vector<uint8_t>;

inline uint32_t get_be32(const Bytes& bytes, size_t offset) { return kernel::fdt::read_be32(bytes.data() + offset); }
inline void put_be32(Bytes& bytes, size_t offset, uint32_t value) {
    for (int index = 0; index < 4; ++index) bytes[offset + index] = uint8_t(value >> (24 - 8 * index));
}

// A dumped DTB from tests/data, cut to its header's totalsize (QEMU dumps a 1 MiB buffer).
inline Bytes load_dtb(const std::string& name) {
    std::ifstream file(std::string(TEST_DATA_DIR) + "/" + name, std::ios::binary);
    Bytes bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    if (bytes.size() >= 8 && get_be32(bytes, 4) <= bytes.size()) bytes.resize(get_be32(bytes, 4));
    return bytes;
}

// The first `length` bytes of a blob in a heap buffer of exactly that size.
struct ExactBuffer {
    std::unique_ptr<uint8_t[]> bytes;
    size_t length;
    ExactBuffer(const Bytes& source, size_t count) : bytes(new uint8_t[count == 0 ? 1 : count]), length(count) {
        if (count != 0) std::memcpy(bytes.get(), source.data(), count);
    }
    explicit ExactBuffer(const Bytes& source) : ExactBuffer(source, source.size()) {}
};

struct ParseOutcome {
    kernel::Result<void> result;
    kernel::fdt::Diagnostic diagnostic;
    std::unique_ptr<kernel::fdt::BootInfo> info;
    std::string message() const { return diagnostic.message ? diagnostic.message : ""; }
};

inline ParseOutcome parse(const Bytes& blob, size_t length) {
    ExactBuffer buffer(blob, length);
    auto info = std::make_unique<kernel::fdt::BootInfo>();
    kernel::fdt::Diagnostic diagnostic;
    kernel::Result<void> result = kernel::fdt::parse_boot_info(buffer.bytes.get(), length, *info, diagnostic);
    return ParseOutcome{result, diagnostic, std::move(info)};
}
inline ParseOutcome parse(const Bytes& blob) { return parse(blob, blob.size()); }

// Writes a blob token by token. Nothing is checked: tests build broken trees with it on purpose.
class FdtBuilder {
public:
    FdtBuilder& begin(const std::string& name) {
        word(1);
        structure_.insert(structure_.end(), name.begin(), name.end());
        structure_.push_back(0);
        pad();
        return *this;
    }
    FdtBuilder& end() { return word(2); }
    FdtBuilder& nop() { return word(4); }
    FdtBuilder& property(const std::string& name, const Bytes& value) {
        word(3);
        word(uint32_t(value.size()));
        word(string_offset(name));
        structure_.insert(structure_.end(), value.begin(), value.end());
        pad();
        return *this;
    }
    FdtBuilder& cells(const std::string& name, std::initializer_list<uint32_t> values) {
        Bytes value(values.size() * 4);
        size_t offset = 0;
        for (uint32_t cell : values) put_be32(value, (offset++) * 4, cell);
        return property(name, value);
    }
    FdtBuilder& string(const std::string& name, const std::string& text) {
        Bytes value(text.begin(), text.end());
        value.push_back(0);
        return property(name, value);
    }
    FdtBuilder& strings(const std::string& name, std::initializer_list<std::string> texts) {
        Bytes value;
        for (const std::string& text : texts) {
            value.insert(value.end(), text.begin(), text.end());
            value.push_back(0);
        }
        return property(name, value);
    }
    FdtBuilder& empty(const std::string& name) { return property(name, {}); }
    FdtBuilder& word(uint32_t value) {
        Bytes bytes(4);
        put_be32(bytes, 0, value);
        structure_.insert(structure_.end(), bytes.begin(), bytes.end());
        return *this;
    }
    FdtBuilder& reserve(uint64_t base, uint64_t size) {
        reservations_.push_back({base, size});
        return *this;
    }

    // header | reservations + terminator | structure (+ FDT_END) | strings
    Bytes finish(bool append_end = true) {
        if (append_end) word(9);
        Bytes blob(40);
        for (auto [base, size] : reservations_) append64(blob, base), append64(blob, size);
        append64(blob, 0), append64(blob, 0);
        const uint32_t struct_offset = uint32_t(blob.size());
        blob.insert(blob.end(), structure_.begin(), structure_.end());
        const uint32_t strings_offset = uint32_t(blob.size());
        blob.insert(blob.end(), strings_.begin(), strings_.end());
        put_be32(blob, 0, 0xd00dfeed);
        put_be32(blob, 4, uint32_t(blob.size()));
        put_be32(blob, 8, struct_offset);
        put_be32(blob, 12, strings_offset);
        put_be32(blob, 16, 40);
        put_be32(blob, 20, 17);
        put_be32(blob, 24, 16);
        put_be32(blob, 28, 0);
        put_be32(blob, 32, uint32_t(strings_.size()));
        put_be32(blob, 36, uint32_t(structure_.size()));
        return blob;
    }

private:
    void pad() {
        while (structure_.size() % 4 != 0) structure_.push_back(0);
    }
    uint32_t string_offset(const std::string& name) {
        size_t found = strings_.find(name + '\0');
        if (found != std::string::npos && (found == 0 || strings_[found - 1] == '\0')) return uint32_t(found);
        const uint32_t offset = uint32_t(strings_.size());
        strings_ += name;
        strings_ += '\0';
        return offset;
    }
    static void append64(Bytes& blob, uint64_t value) {
        for (int index = 0; index < 8; ++index) blob.push_back(uint8_t(value >> (56 - 8 * index)));
    }
    Bytes structure_;
    std::string strings_;
    std::vector<std::pair<uint64_t, uint64_t>> reservations_;
};

// The parts of a small well-formed board: root properties, memory and one cpus node.
inline void add_memory(FdtBuilder& builder, uint64_t base, uint64_t size) {
    char name[64];
    std::snprintf(name, sizeof name, "memory@%llx", (unsigned long long)base);
    builder.begin(name).string("device_type", "memory")
        .cells("reg", {uint32_t(base >> 32), uint32_t(base), uint32_t(size >> 32), uint32_t(size)}).end();
}
inline void add_hart(FdtBuilder& builder, uint32_t hart_id, const std::string& isa, uint32_t intc_phandle) {
    builder.begin("cpu@" + std::to_string(hart_id)).string("device_type", "cpu").cells("reg", {hart_id})
        .string("status", "okay").string("riscv,isa", isa).string("mmu-type", "riscv,sv39")
        .begin("interrupt-controller").cells("#interrupt-cells", {1}).empty("interrupt-controller")
        .string("compatible", "riscv,cpu-intc").cells("phandle", {intc_phandle}).end()
        .end();
}
inline void add_cpus(FdtBuilder& builder, uint32_t harts, uint32_t timebase = 10000000) {
    builder.begin("cpus").cells("#address-cells", {1}).cells("#size-cells", {0});
    if (timebase != 0) builder.cells("timebase-frequency", {timebase});
    for (uint32_t hart = 0; hart < harts; ++hart) add_hart(builder, hart, "rv64imac_zicsr", 100 + hart);
    builder.end();
}
inline void begin_root(FdtBuilder& builder) {
    builder.begin("").cells("#address-cells", {2}).cells("#size-cells", {2}).string("model", "test board");
}
// A complete minimal board: root, one memory range, `harts` harts.
inline Bytes minimal_board(uint32_t harts = 1) {
    FdtBuilder builder;
    begin_root(builder);
    add_memory(builder, 0x80000000, 0x8000000);
    add_cpus(builder, harts);
    builder.end();
    return builder.finish();
}

} // namespace fdt_test
