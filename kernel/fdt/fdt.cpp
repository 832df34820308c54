// The flattened device tree reader: header and structure validation, token walk, lookups.
// See fdt.hpp for the invariants. All arithmetic on offsets read from the blob is done in 64 bits so
// that no sum of two 32-bit fields can wrap around and pass a bounds check.
#include "kernel/fdt/fdt.hpp"

namespace kernel::fdt {

namespace {

// Header field offsets (all u32, big-endian).
constexpr uint32_t FieldMagic = 0, FieldTotalSize = 4, FieldStructOffset = 8, FieldStringsOffset = 12,
                   FieldReservationsOffset = 16, FieldVersion = 20, FieldLastCompatibleVersion = 24,
                   FieldBootCpuId = 28, FieldStringsSize = 32, FieldStructSize = 36;
constexpr uint32_t HeaderSizeVersion16 = 36;  // size_dt_struct appeared in version 17
constexpr uint32_t HeaderSizeVersion17 = 40;
constexpr uint32_t ReservationEntrySize = 16;  // u64 address, u64 size

constexpr uint64_t align_up_4(uint64_t value) { return (value + 3) & ~uint64_t{3}; }

// size_dt_struct appeared in version 17; before, the structure block runs to the strings block (which
// dtc places after it) or to totalsize. Only called once the offsets are known to lie in totalsize.
uint64_t struct_block_size(const uint8_t* bytes, uint32_t version, uint64_t total_size) {
    const uint64_t begin = read_be32(bytes + FieldStructOffset);
    if (version >= 17) return read_be32(bytes + FieldStructSize);
    const uint64_t strings = read_be32(bytes + FieldStringsOffset);
    const uint64_t end = strings > begin ? strings : total_size;
    return end > begin ? end - begin : 0;
}

Result<uint32_t> fail_header(Diagnostic& diagnostic, Error error, const char* message, uint32_t offset) {
    diagnostic = {message, offset};
    return error;
}

// True if [a_begin, a_end) and [b_begin, b_end) share a byte.
constexpr bool overlaps(uint64_t a_begin, uint64_t a_end, uint64_t b_begin, uint64_t b_end) {
    return a_begin < b_end && b_begin < a_end;
}

// Index of the first '\0' in [begin, end) of `bytes`, or `end` if there is none.
uint32_t find_terminator(const uint8_t* bytes, uint32_t begin, uint32_t end) {
    uint32_t position = begin;
    while (position < end && bytes[position] != '\0') ++position;
    return position;
}

} // namespace

// ---- header ----

Result<uint32_t> validate_header(const void* blob, size_t bytes_available, Diagnostic& diagnostic) {
    if (blob == nullptr) return fail_header(diagnostic, Error::InvalidArgument, "device tree pointer is null", 0);
    const auto* bytes = static_cast<const uint8_t*>(blob);
    if (bytes_available < 4) return fail_header(diagnostic, Error::Truncated, "blob shorter than the header", 0);
    if (read_be32(bytes + FieldMagic) != HeaderMagic)
        return fail_header(diagnostic, Error::Malformed, "bad magic (not a flattened device tree)", FieldMagic);
    if (bytes_available < HeaderSizeVersion17)
        return fail_header(diagnostic, Error::Truncated, "blob shorter than the header", 0);

    const uint32_t version = read_be32(bytes + FieldVersion);
    if (version < OldestSupportedVersion)
        return fail_header(diagnostic, Error::Malformed, "version older than 16", FieldVersion);
    if (read_be32(bytes + FieldLastCompatibleVersion) > NewestKnownVersion)
        return fail_header(diagnostic, Error::Malformed, "last_comp_version newer than 17",
                           FieldLastCompatibleVersion);
    const uint64_t header_size = version >= 17 ? HeaderSizeVersion17 : HeaderSizeVersion16;

    const uint64_t total_size = read_be32(bytes + FieldTotalSize);
    if (total_size < header_size)
        return fail_header(diagnostic, Error::Malformed, "totalsize smaller than the header", FieldTotalSize);
    if (total_size > bytes_available)
        return fail_header(diagnostic, Error::Truncated, "totalsize larger than the memory given", FieldTotalSize);

    const uint64_t reservations = read_be32(bytes + FieldReservationsOffset);
    if (reservations % 8 != 0)
        return fail_header(diagnostic, Error::Malformed, "memory reservation block not 8-byte aligned",
                           FieldReservationsOffset);
    if (reservations < header_size || reservations + ReservationEntrySize > total_size)
        return fail_header(diagnostic, Error::Malformed, "memory reservation block outside totalsize",
                           FieldReservationsOffset);

    const uint64_t struct_begin = read_be32(bytes + FieldStructOffset);
    const uint64_t struct_size = struct_block_size(bytes, version, total_size);
    if (struct_begin % 4 != 0)
        return fail_header(diagnostic, Error::Malformed, "structure block not 4-byte aligned", FieldStructOffset);
    if (struct_begin < header_size || struct_begin + struct_size > total_size)
        return fail_header(diagnostic, Error::Malformed, "structure block outside totalsize", FieldStructOffset);
    if (struct_size < 4)
        return fail_header(diagnostic, Error::Malformed, "structure block too small for FDT_END", FieldStructSize);

    const uint64_t strings_begin = read_be32(bytes + FieldStringsOffset);
    const uint64_t strings_size = read_be32(bytes + FieldStringsSize);
    if (strings_begin < header_size || strings_begin + strings_size > total_size)
        return fail_header(diagnostic, Error::Malformed, "strings block outside totalsize", FieldStringsOffset);

    if (overlaps(struct_begin, struct_begin + struct_size, strings_begin, strings_begin + strings_size))
        return fail_header(diagnostic, Error::Malformed, "structure and strings blocks overlap", FieldStringsOffset);
    if (overlaps(reservations, reservations + ReservationEntrySize, struct_begin, struct_begin + struct_size) ||
        overlaps(reservations, reservations + ReservationEntrySize, strings_begin, strings_begin + strings_size))
        return fail_header(diagnostic, Error::Malformed, "memory reservation block overlaps another block",
                           FieldReservationsOffset);
    return static_cast<uint32_t>(total_size);
}

// ---- Tree: opening ----

Result<Tree> Tree::open(const void* blob, size_t bytes_available, Diagnostic& diagnostic) {
    uint32_t total_size = TRY(validate_header(blob, bytes_available, diagnostic));

    Tree tree;
    tree.bytes_ = static_cast<const uint8_t*>(blob);
    tree.total_size_ = total_size;
    const uint32_t version = read_be32(tree.bytes_ + FieldVersion);
    tree.boot_cpu_id_ = read_be32(tree.bytes_ + FieldBootCpuId);
    tree.struct_begin_ = read_be32(tree.bytes_ + FieldStructOffset);
    tree.struct_end_ = tree.struct_begin_ + static_cast<uint32_t>(struct_block_size(tree.bytes_, version, total_size));
    tree.strings_begin_ = read_be32(tree.bytes_ + FieldStringsOffset);
    tree.strings_end_ = tree.strings_begin_ + read_be32(tree.bytes_ + FieldStringsSize);
    tree.reservations_begin_ = read_be32(tree.bytes_ + FieldReservationsOffset);

    Result<void> checked = tree.validate_reservations();
    if (checked) checked = tree.validate_structure();
    if (!checked) {
        diagnostic = tree.diagnostic_;
        return checked.error();
    }
    return tree;
}

Error Tree::fail(Error error, const char* message, uint32_t offset) const {
    diagnostic_ = {message, offset};
    return error;
}

// The reservation block runs from its offset up to the next block (or totalsize) and must hold its
// (0, 0) terminator inside that space.
Result<void> Tree::validate_reservations() {
    uint64_t limit = total_size_;
    if (struct_begin_ > reservations_begin_ && struct_begin_ < limit) limit = struct_begin_;
    if (strings_begin_ > reservations_begin_ && strings_begin_ < limit) limit = strings_begin_;
    for (uint64_t entry = reservations_begin_; entry + ReservationEntrySize <= limit; entry += ReservationEntrySize) {
        if (read_be64(bytes_ + entry) == 0 && read_be64(bytes_ + entry + 8) == 0) return success();
        ++reservation_count_;
    }
    return fail(Error::Malformed, "memory reservation block has no terminating entry", reservations_begin_);
}

// One walk over the whole structure block, checking the token grammar:
//     NOP* BEGIN_NODE(root) (PROP | NOP | BEGIN_NODE ... END_NODE)* END_NODE NOP* END
Result<void> Tree::validate_structure() {
    uint32_t depth = 0;
    bool seen_root = false;
    uint32_t offset = struct_begin_;
    for (;;) {
        Token token = TRY(read_token(offset));
        switch (token.kind) {
        case TokenKind::BeginNode:
            if (depth == 0 && seen_root) return fail(Error::Malformed, "more than one root node", offset);
            if (depth == MaxDepth) return fail(Error::Malformed, "nodes nested too deep", offset);
            if (!seen_root) root_ = Node{offset, token.name, 0};
            seen_root = true;
            ++depth;
            break;
        case TokenKind::EndNode:
            if (depth == 0) return fail(Error::Malformed, "FDT_END_NODE without a matching FDT_BEGIN_NODE", offset);
            --depth;
            break;
        case TokenKind::Property:
            if (depth == 0) return fail(Error::Malformed, "property outside any node", offset);
            break;
        case TokenKind::Nop:
            break;
        case TokenKind::End:
            if (depth != 0) return fail(Error::Malformed, "FDT_END inside an unclosed node", offset);
            if (!seen_root) return fail(Error::Malformed, "structure block has no root node", offset);
            return success();
        }
        offset = token.next_offset;
    }
}

// ---- tokens ----

Result<Token> Tree::read_token(uint32_t offset) const {
    if (offset % 4 != 0 || offset < struct_begin_)
        return fail(Error::Malformed, "token offset misaligned or outside the structure block", offset);
    if (uint64_t{offset} + 4 > struct_end_)
        return fail(Error::Truncated, "structure block ends without FDT_END", offset);
    Token token;
    token.offset = offset;
    const uint32_t kind = read_be32(bytes_ + offset);
    switch (kind) {
    case uint32_t(TokenKind::BeginNode): {
        const uint32_t terminator = find_terminator(bytes_, offset + 4, struct_end_);
        if (terminator == struct_end_) return fail(Error::Malformed, "unterminated node name", offset + 4);
        token.name = reinterpret_cast<const char*>(bytes_ + offset + 4);
        token.next_offset = static_cast<uint32_t>(align_up_4(uint64_t{terminator} + 1));
        break;
    }
    case uint32_t(TokenKind::Property): {
        if (uint64_t{offset} + 12 > struct_end_)
            return fail(Error::Truncated, "property header runs past the structure block", offset);
        token.length = read_be32(bytes_ + offset + 4);
        const uint64_t name_offset = read_be32(bytes_ + offset + 8);
        const uint64_t value_end = uint64_t{offset} + 12 + token.length;
        if (value_end > struct_end_)
            return fail(Error::Malformed, "property length runs past the structure block", offset + 4);
        if (uint64_t{strings_begin_} + name_offset >= strings_end_)
            return fail(Error::Malformed, "property name offset outside the strings block", offset + 8);
        const uint32_t name_begin = static_cast<uint32_t>(strings_begin_ + name_offset);
        if (find_terminator(bytes_, name_begin, strings_end_) == strings_end_)
            return fail(Error::Malformed, "property name not terminated inside the strings block", name_begin);
        token.name = reinterpret_cast<const char*>(bytes_ + name_begin);
        token.data = bytes_ + offset + 12;
        token.next_offset = static_cast<uint32_t>(align_up_4(value_end));
        break;
    }
    case uint32_t(TokenKind::EndNode):
    case uint32_t(TokenKind::Nop):
    case uint32_t(TokenKind::End):
        token.next_offset = offset + 4;
        break;
    default:
        return fail(Error::Malformed, "unknown token in the structure block", offset);
    }
    token.kind = static_cast<TokenKind>(kind);
    return token;
}

Result<Range> Tree::reservation(size_t index) const {
    if (index >= reservation_count_) return Error::NotFound;
    const uint8_t* entry = bytes_ + reservations_begin_ + index * ReservationEntrySize;
    return Range{read_be64(entry), read_be64(entry + 8)};
}

// ---- Walk ----

Result<bool> Walk::next() {
    if (finished_) return false;
    if (!started_) {
        offset_ = tree_.struct_begin_;
        started_ = true;
    }
    for (;;) {
        Token token = TRY(tree_.read_token(offset_));
        offset_ = token.next_offset;
        switch (token.kind) {
        case TokenKind::BeginNode:
            if (open_count_ == MaxDepth) return tree_.fail(Error::Malformed, "nodes nested too deep", token.offset);
            chain_[open_count_] = Node{token.offset, token.name, open_count_};
            ++open_count_;
            return true;
        case TokenKind::EndNode:
            if (open_count_ == 0)
                return tree_.fail(Error::Malformed, "FDT_END_NODE without a matching FDT_BEGIN_NODE", token.offset);
            --open_count_;
            break;
        case TokenKind::End:
            finished_ = true;
            return false;
        case TokenKind::Property:
        case TokenKind::Nop:
            break;
        }
    }
}

// ---- navigation ----

// Skips the properties and NOPs that open a node's content: returns the first BEGIN_NODE or END_NODE.
Result<Node> Tree::first_child(Node node) const {
    Result<Token> token = read_token(node.offset);
    if (!token) return token.error();
    if (token->kind != TokenKind::BeginNode) return fail(Error::InvalidArgument, "not a node offset", node.offset);
    for (;;) {
        token = read_token(token->next_offset);
        if (!token) return token.error();
        if (token->kind == TokenKind::BeginNode) return Node{token->offset, token->name, node.depth + 1};
        if (token->kind == TokenKind::EndNode) return Error::NotFound;
        if (token->kind == TokenKind::End) return fail(Error::Malformed, "FDT_END inside an unclosed node", token->offset);
    }
}

// Skips the node's whole subtree, then NOPs and properties; the next BEGIN_NODE at the same level is
// the sibling, an END_NODE closes the parent.
Result<Node> Tree::next_sibling(Node node) const {
    uint32_t open = 0;
    uint32_t offset = node.offset;
    for (;;) {
        Token token = TRY(read_token(offset));
        offset = token.next_offset;
        switch (token.kind) {
        case TokenKind::BeginNode:
            if (open == 0 && token.offset != node.offset) return Node{token.offset, token.name, node.depth};
            if (++open > MaxDepth) return fail(Error::Malformed, "nodes nested too deep", token.offset);
            break;
        case TokenKind::EndNode:
            if (open == 0) return Error::NotFound;
            --open;
            break;
        case TokenKind::End:
            return fail(Error::Malformed, "FDT_END inside an unclosed node", token.offset);
        case TokenKind::Property:
        case TokenKind::Nop:
            break;
        }
    }
}

Result<Node> Tree::parent(Node node) const {
    Walk walk(*this);
    for (;;) {
        bool more = TRY(walk.next());
        if (!more) return Error::NotFound;
        if (walk.node().offset == node.offset) {
            if (walk.depth() == 0) return Error::NotFound;
            return walk.ancestor(walk.depth() - 1);
        }
    }
}

// A path component matches a node name exactly, or, when it has no unit address, the name's part
// before '@' (spec 2.2.3: "memory" finds "memory@80000000").
Result<Node> Tree::find_child(Node node, const char* name, size_t name_length) const {
    bool component_has_unit_address = false;
    for (size_t index = 0; index < name_length; ++index) component_has_unit_address |= name[index] == '@';
    Result<Node> child = first_child(node);
    while (child) {
        const char* child_name = child->name;
        size_t compared = 0;
        while (child_name[compared] != '\0' && (component_has_unit_address || child_name[compared] != '@')) ++compared;
        if (name_length != 0 && compared == name_length) {
            bool equal = true;
            for (size_t index = 0; index < name_length && equal; ++index) equal = child_name[index] == name[index];
            if (equal) return child;
        }
        child = next_sibling(*child);
    }
    return child.error();
}

Result<Node> Tree::find_relative(Node start, const char* path, size_t path_length) const {
    Node node = start;
    size_t position = 0;
    while (position < path_length) {
        if (path[position] == '/') {
            ++position;
            continue;
        }
        size_t end = position;
        while (end < path_length && path[end] != '/' && path[end] != '\0') ++end;
        if (end < path_length && path[end] == '\0') path_length = end;  // stop at an early terminator
        Node child = TRY(find_child(node, path + position, end - position));
        node = child;
        position = end;
    }
    return node;
}

Result<Node> Tree::find_node(const char* path) const { return find_node(path, string_length(path)); }

Result<Node> Tree::find_node(const char* path, size_t path_length) const {
    if (path == nullptr || path_length == 0) return Error::NotFound;
    if (path[0] == '/') return find_relative(root_, path, path_length);

    // An alias: the first component names a property of /aliases whose value is an absolute path.
    size_t alias_length = 0;
    while (alias_length < path_length && path[alias_length] != '/') ++alias_length;
    Node aliases = TRY(find_child(root_, "aliases", 7));
    Result<Property> alias = first_property(aliases);
    for (; alias; alias = next_property(*alias)) {
        if (!prefix_equals(path, alias_length, alias->name)) continue;
        Result<const char*> target = alias->as_string();
        if (!target || (*target)[0] != '/') return Error::NotFound;  // an alias must be an absolute path
        Node node = TRY(find_relative(root_, *target, string_length(*target)));
        return find_relative(node, path + alias_length, path_length - alias_length);
    }
    return alias.error();
}

Result<Node> Tree::find_by_phandle(uint32_t phandle) const {
    if (phandle == 0 || phandle == InvalidPhandle) return Error::NotFound;
    Walk walk(*this);
    for (;;) {
        bool more = TRY(walk.next());
        if (!more) return Error::NotFound;
        if (phandle_of(walk.node()) == phandle) return walk.node();
    }
}

uint32_t Tree::phandle_of(Node node) const {
    Result<Property> property = find_property(node, "phandle");
    if (!property) property = find_property(node, "linux,phandle");
    if (!property) return InvalidPhandle;
    return property->as_u32().value_or(InvalidPhandle);
}

// ---- properties ----

Result<Property> Tree::first_property(Node node) const {
    Token token = TRY(read_token(node.offset));
    if (token.kind != TokenKind::BeginNode) return fail(Error::InvalidArgument, "not a node offset", node.offset);
    return next_property(Property{nullptr, nullptr, 0, node.offset});
}

// From a property (or the node's BEGIN_NODE token), the next property of the same node, skipping NOPs.
Result<Property> Tree::next_property(const Property& property) const {
    Result<Token> token = read_token(property.offset);
    for (;;) {
        if (!token) return token.error();
        token = read_token(token->next_offset);
        if (!token) return token.error();
        if (token->kind == TokenKind::Property) return Property{token->name, token->data, token->length, token->offset};
        if (token->kind != TokenKind::Nop) return Error::NotFound;
    }
}

Result<Property> Tree::find_property(Node node, const char* name) const {
    Result<Property> property = first_property(node);
    while (property && !strings_equal(property->name, name)) property = next_property(*property);
    return property;
}

bool Tree::is_compatible(Node node, const char* compatible) const {
    Result<Property> property = find_property(node, "compatible");
    return property && property->contains_string(compatible);
}

bool Tree::is_enabled(Node node) const {
    Result<Property> status = find_property(node, "status");
    if (!status) return true;
    Result<const char*> text = status->as_string();
    return text && (strings_equal(*text, "okay") || strings_equal(*text, "ok"));
}

Result<uint32_t> Property::cell(size_t index) const {
    if (index >= cell_count()) return Error::NotFound;
    return read_be32(data + index * 4);
}

Result<uint64_t> Property::cells(size_t first, uint32_t count) const {
    if (count > 2) return Error::Unsupported;
    if (first > cell_count() || count > cell_count() - first) return Error::NotFound;
    uint64_t value = 0;
    for (uint32_t index = 0; index < count; ++index) value = (value << 32) | read_be32(data + (first + index) * 4);
    return value;
}

Result<uint32_t> Property::as_u32() const {
    if (length != 4) return Error::Malformed;
    return read_be32(data);
}

Result<uint64_t> Property::as_u32_or_u64() const {
    if (length == 4) return uint64_t{read_be32(data)};
    if (length == 8) return read_be64(data);
    return Error::Malformed;
}

Result<const char*> Property::as_string() const {
    if (length == 0 || data[length - 1] != '\0') return Error::Malformed;
    return reinterpret_cast<const char*>(data);
}

bool Property::contains_string(const char* word) const {
    if (length == 0 || data[length - 1] != '\0') return false;
    const char* text = reinterpret_cast<const char*>(data);
    for (uint32_t position = 0; position < length;) {
        if (strings_equal(text + position, word)) return true;
        position += static_cast<uint32_t>(string_length(text + position)) + 1;
    }
    return false;
}

// ---- reg ----

Result<RegFormat> Tree::reg_format(Node bus) const {
    RegFormat format;
    Result<Property> address_cells = find_property(bus, "#address-cells");
    if (address_cells) {
        Result<uint32_t> value = address_cells->as_u32();
        if (!value) return fail(Error::Malformed, "#address-cells is not one cell", address_cells->offset);
        format.address_cells = *value;
    }
    Result<Property> size_cells = find_property(bus, "#size-cells");
    if (size_cells) {
        Result<uint32_t> value = size_cells->as_u32();
        if (!value) return fail(Error::Malformed, "#size-cells is not one cell", size_cells->offset);
        format.size_cells = *value;
    }
    if (format.address_cells > 2 || format.size_cells > 2)
        return fail(Error::Unsupported, "#address-cells or #size-cells wider than 64 bits", bus.offset);
    return format;
}

Result<size_t> Tree::reg_count(Node node, RegFormat format) const {
    Result<Property> reg = find_property(node, "reg");
    if (!reg) return reg.error() == Error::NotFound ? Result<size_t>(size_t{0}) : Result<size_t>(reg.error());
    const uint32_t entry_size = (format.address_cells + format.size_cells) * 4;
    if (format.address_cells > 2 || format.size_cells > 2 || entry_size == 0)
        return fail(Error::Unsupported, "reg cell counts not decodable", reg->offset);
    if (reg->length % entry_size != 0)
        return fail(Error::Malformed, "reg length not a multiple of its entry size", reg->offset);
    return size_t{reg->length / entry_size};
}

Result<Range> Tree::reg(Node node, RegFormat format, size_t index) const {
    size_t count = TRY(reg_count(node, format));
    if (index >= count) return Error::NotFound;
    Property reg = TRY(find_property(node, "reg"));
    const size_t first = index * (format.address_cells + format.size_cells);
    Result<uint64_t> base = reg.cells(first, format.address_cells);
    Result<uint64_t> size = reg.cells(first + format.address_cells, format.size_cells);
    if (!base || !size) return Error::Malformed;
    return Range{*base, *size};
}

Result<Range> Tree::reg(Node node, size_t index) const {
    Node bus = TRY(parent(node));
    RegFormat format = TRY(reg_format(bus));
    return reg(node, format, index);
}

} // namespace kernel::fdt
