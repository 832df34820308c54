// A reader for the flattened device tree (FDT, "DTB") that the firmware passes to the kernel.
//
// Devicetree Specification v0.4, chapter 5. Layout of a blob (all numbers big-endian):
//
//     header (40 bytes) | memory reservation block | structure block | strings block
//
// Allocation-free and freestanding. The blob is untrusted input: every offset and length read from it
// is checked against the blob's bounds before use, every token walk strictly advances (so no walk can
// loop forever) and nesting is limited to MaxDepth. Nothing here faults on any input; a bad blob yields
// an Error plus a Diagnostic that names the problem and the byte offset where it was found.
//
// Invariants of a Tree returned by Tree::open:
//   * the header passed validate_header() and bytes [0, totalsize) are readable;
//   * the structure block was walked once end to end: it holds exactly one root node, balanced
//     BEGIN_NODE/END_NODE tokens nested at most MaxDepth deep, and ends with FDT_END; every name is
//     NUL-terminated inside its block and every property value lies inside the structure block;
//   * the memory reservation block has its terminating (0, 0) entry before the next block.
// Accessors still check every read (defence in depth), so they never trust those facts blindly.
#pragma once

#include <cstddef>
#include <cstdint>

#include "abi/result.hpp"

namespace kernel::fdt {

// Why parsing failed: a static message and, where it applies, the byte offset into the blob.
struct Diagnostic {
    const char* message = nullptr;
    uint32_t offset = 0;
};

// A physical address range.
struct Range {
    uint64_t base = 0;
    uint64_t size = 0;
};

constexpr uint32_t HeaderMagic = 0xd00dfeed;
constexpr uint32_t OldestSupportedVersion = 16;  // header.version must be at least this
constexpr uint32_t NewestKnownVersion = 17;      // header.last_comp_version must be at most this
constexpr uint32_t MaxDepth = 32;                // nodes nested deeper than this are rejected
constexpr uint32_t InvalidPhandle = 0xffffffff;  // phandles 0 and 0xffffffff name no node

// Structure block tokens.
enum class TokenKind : uint32_t { BeginNode = 1, EndNode = 2, Property = 3, Nop = 4, End = 9 };

// ---- small freestanding helpers ----

constexpr uint32_t read_be32(const uint8_t* bytes) {
    return (uint32_t{bytes[0]} << 24) | (uint32_t{bytes[1]} << 16) | (uint32_t{bytes[2]} << 8) | bytes[3];
}
constexpr uint64_t read_be64(const uint8_t* bytes) {
    return (uint64_t{read_be32(bytes)} << 32) | read_be32(bytes + 4);
}
constexpr size_t string_length(const char* text) {
    size_t length = 0;
    while (text[length] != '\0') ++length;
    return length;
}
constexpr bool strings_equal(const char* left, const char* right) {
    size_t index = 0;
    for (; left[index] != '\0' && left[index] == right[index]; ++index) {}
    return left[index] == right[index];
}
// True when the `length` characters at `text` (not necessarily NUL-terminated) equal `word`.
constexpr char ascii_lower(char letter) { return letter >= 'A' && letter <= 'Z' ? char(letter - 'A' + 'a') : letter; }

constexpr bool prefix_equals(const char* text, size_t length, const char* word) {
    for (size_t index = 0; index < length; ++index)
        if (word[index] == '\0' || word[index] != text[index]) return false;
    return word[length] == '\0';
}

// ---- header ----

// Checks the header: magic, version, totalsize against bytes_available, and that every block lies
// inside totalsize, is aligned and does not overlap another. Returns totalsize. The kernel calls this
// first, with bytes_available = what it knows to be readable at the pointer, to learn how many bytes
// belong to the blob (and so must be kept reserved).
Result<uint32_t> validate_header(const void* blob, size_t bytes_available, Diagnostic& diagnostic);

// ---- properties and nodes ----

// A property: its name points into the strings block, its value into the structure block.
struct Property {
    const char* name = nullptr;
    const uint8_t* data = nullptr;
    uint32_t length = 0;  // bytes of value
    uint32_t offset = 0;  // blob offset of the FDT_PROP token

    uint32_t cell_count() const { return length / 4; }
    // The cell at `index` (big-endian u32); NotFound past the end.
    Result<uint32_t> cell(size_t index) const;
    // `count` (0..2) cells starting at cell `first` as one number; NotFound past the end.
    Result<uint64_t> cells(size_t first, uint32_t count) const;
    // The value as exactly one cell; Malformed for any other length.
    Result<uint32_t> as_u32() const;
    // The value as one or two cells (e.g. linux,initrd-start); Malformed for other lengths.
    Result<uint64_t> as_u32_or_u64() const;
    // The value as a string: Malformed unless non-empty and NUL-terminated inside the value.
    Result<const char*> as_string() const;
    // True if the value is a well-formed string list (every entry NUL-terminated) containing `word`.
    bool contains_string(const char* word) const;
};

// A node: the blob offset of its FDT_BEGIN_NODE token, its name ("" for the root, otherwise with
// "@unit-address" if it has one) and its depth (root = 0).
struct Node {
    uint32_t offset = 0;
    const char* name = nullptr;
    uint32_t depth = 0;
};

// One token of the structure block, checked to lie inside it.
struct Token {
    TokenKind kind = TokenKind::End;
    uint32_t offset = 0;       // blob offset of the token
    uint32_t next_offset = 0;  // blob offset of the following token (always > offset)
    const char* name = nullptr;       // BeginNode: node name; Property: property name
    const uint8_t* data = nullptr;    // Property: value
    uint32_t length = 0;              // Property: value length
};

// How `reg` of a node's children is laid out: the bus node's #address-cells and #size-cells.
struct RegFormat {
    uint32_t address_cells = 2;
    uint32_t size_cells = 1;
};

class Tree {
public:
    // Validates the header and the whole structure block. Failures are described in `diagnostic`.
    static Result<Tree> open(const void* blob, size_t bytes_available, Diagnostic& diagnostic);

    uint32_t total_size() const { return total_size_; }
    uint32_t boot_cpu_id() const { return boot_cpu_id_; }
    // Failure description of the last accessor that returned Malformed/Truncated/Unsupported.
    const Diagnostic& diagnostic() const { return diagnostic_; }

    // Low level: the token at `offset`, with all of its bounds checked.
    Result<Token> read_token(uint32_t offset) const;

    // Memory reservation block: entries before the (0, 0) terminator.
    size_t reservation_count() const { return reservation_count_; }
    Result<Range> reservation(size_t index) const;

    Node root() const { return root_; }
    // Looks a node up by path: "/cpus", "/soc/serial@10000000", "/memory" (a component without a
    // unit address matches a node name with one, first match wins) or an alias: "serial0" or
    // "serial0/child" resolves through /aliases. NotFound if there is no such node.
    Result<Node> find_node(const char* path) const;
    Result<Node> find_node(const char* path, size_t path_length) const;
    // First child / next sibling in document order; NotFound when there is none.
    Result<Node> first_child(Node node) const;
    Result<Node> next_sibling(Node node) const;
    // The node's parent (a walk from the root); NotFound for the root.
    Result<Node> parent(Node node) const;
    // The node whose "phandle" (or legacy "linux,phandle") equals `phandle`.
    Result<Node> find_by_phandle(uint32_t phandle) const;
    // The node's phandle, or InvalidPhandle if it has none.
    uint32_t phandle_of(Node node) const;

    Result<Property> find_property(Node node, const char* name) const;
    Result<Property> first_property(Node node) const;
    Result<Property> next_property(const Property& property) const;
    // True if the node's "compatible" list contains `compatible`.
    bool is_compatible(Node node, const char* compatible) const;
    // True if "status" is absent, "okay" or "ok".
    bool is_enabled(Node node) const;

    // The #address-cells/#size-cells of a bus node (defaults 2 and 1); Unsupported above 2 cells
    // (addresses and sizes are decoded into 64 bits), so check this only where reg is decoded.
    Result<RegFormat> reg_format(Node bus) const;
    // Number of entries of the node's "reg" (0 if absent) and one entry, laid out by `format`
    // (the parent's reg_format()).
    Result<size_t> reg_count(Node node, RegFormat format) const;
    Result<Range> reg(Node node, RegFormat format, size_t index) const;
    // Same, finding the parent itself (one walk from the root).
    Result<Range> reg(Node node, size_t index) const;

    // Visits each child; `visit(Node)` returns false to stop early.
    template <typename Visitor>
    Result<void> for_each_child(Node node, Visitor&& visit) const {
        Result<Node> child = first_child(node);
        while (child) {
            if (!visit(*child)) return success();
            child = next_sibling(*child);
        }
        return child.error() == Error::NotFound ? success() : Result<void>(child.error());
    }

private:
    friend class Walk;
    Tree() = default;
    Error fail(Error error, const char* message, uint32_t offset) const;
    Result<void> validate_structure();
    Result<void> validate_reservations();
    Result<Node> find_child(Node node, const char* name, size_t name_length) const;
    Result<Node> find_relative(Node start, const char* path, size_t path_length) const;

    const uint8_t* bytes_ = nullptr;
    uint32_t total_size_ = 0;
    uint32_t boot_cpu_id_ = 0;
    uint32_t struct_begin_ = 0, struct_end_ = 0;    // [begin, end) blob offsets
    uint32_t strings_begin_ = 0, strings_end_ = 0;
    uint32_t reservations_begin_ = 0;
    size_t reservation_count_ = 0;
    Node root_;
    mutable Diagnostic diagnostic_;
};

// A depth-first walk over every node in document order that keeps the chain of ancestors, so that a
// node's parent (for #address-cells, interrupt-parent) is known without walking again. Usage:
//     Walk walk(tree);
//     for (Result<bool> more = walk.next(); ; more = walk.next()) { if (!more) error; if (!*more) break; ... }
class Walk {
public:
    explicit Walk(const Tree& tree) : tree_(tree) {}
    // Advances to the next node (the root first); false after the last node.
    Result<bool> next();
    const Node& node() const { return chain_[open_count_ - 1]; }
    uint32_t depth() const { return open_count_ - 1; }
    // The ancestor at `depth` (0 = root, depth() = the node itself).
    const Node& ancestor(uint32_t depth) const { return chain_[depth]; }

private:
    const Tree& tree_;
    Node chain_[MaxDepth];
    uint32_t open_count_ = 0;  // nodes begun and not yet ended
    uint32_t offset_ = 0;      // next token to read
    bool started_ = false;
    bool finished_ = false;
};

} // namespace kernel::fdt
