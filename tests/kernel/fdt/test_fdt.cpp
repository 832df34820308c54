// The generic device tree reader: header checks, lookups, properties, reg, and hand-made broken blobs.
#include <catch2/catch.hpp>

#include "tests/kernel/fdt/fdt_test_support.hpp"

using namespace kernel::fdt;
using namespace fdt_test;

namespace {

struct OpenedTree {
    ExactBuffer buffer;
    Diagnostic diagnostic;
    kernel::Result<Tree> tree;
    explicit OpenedTree(const Bytes& blob)
        : buffer(blob), tree(Tree::open(buffer.bytes.get(), buffer.length, diagnostic)) {}
    std::string message() const { return diagnostic.message ? diagnostic.message : ""; }
};

std::string name_of(const kernel::Result<Node>& node) { return node ? node->name : "<none>"; }

} // namespace

TEST_CASE("validate_header accepts the dumped QEMU trees and returns totalsize") {
    for (const char* file : {"virt-smp4.dtb", "virt-smp1.dtb", "sifive_u-smp2.dtb", "virt-smp2-bootargs-initrd.dtb",
                             "virt-smp2-after-opensbi.dtb", "sifive_u-smp2-after-opensbi.dtb"}) {
        Bytes blob = load_dtb(file);
        REQUIRE(blob.size() > 40);
        Diagnostic diagnostic;
        kernel::Result<uint32_t> total = validate_header(blob.data(), blob.size(), diagnostic);
        REQUIRE(total);
        CHECK(*total == blob.size());
        CHECK(diagnostic.message == nullptr);
    }
}

TEST_CASE("find_node resolves paths, unit-address-less names and aliases") {
    OpenedTree opened(load_dtb("sifive_u-smp2.dtb"));
    REQUIRE(opened.tree);
    const Tree& tree = *opened.tree;
    CHECK(name_of(tree.find_node("/cpus")) == "cpus");
    CHECK(name_of(tree.find_node("/memory")) == "memory@80000000");
    CHECK(name_of(tree.find_node("/memory@80000000")) == "memory@80000000");
    CHECK(name_of(tree.find_node("/soc/serial@10011000")) == "serial@10011000");
    CHECK(name_of(tree.find_node("/soc/serial")) == "serial@10010000");  // first match
    CHECK(name_of(tree.find_node("/cpus/cpu@1/interrupt-controller")) == "interrupt-controller");
    CHECK(name_of(tree.find_node("//soc//clint@2000000/")) == "clint@2000000");
    CHECK(name_of(tree.find_node("serial1")) == "serial@10011000");
    CHECK(name_of(tree.find_node("ethernet0/ethernet-phy@0")) == "ethernet-phy@0");
    CHECK(name_of(tree.find_node("/")) == "");
    CHECK(tree.find_node("/soc/serial@10012000").error() == kernel::Error::NotFound);
    CHECK(tree.find_node("/memory@8").error() == kernel::Error::NotFound);
    CHECK(tree.find_node("/mem").error() == kernel::Error::NotFound);
    CHECK(tree.find_node("serial9").error() == kernel::Error::NotFound);
    CHECK(tree.find_node("").error() == kernel::Error::NotFound);
    const char* with_options = "/soc/serial@10010000:115200";
    CHECK(name_of(tree.find_node(with_options, 20)) == "serial@10010000");
}

TEST_CASE("children, parents, phandles and properties") {
    OpenedTree opened(load_dtb("virt-smp4.dtb"));
    REQUIRE(opened.tree);
    const Tree& tree = *opened.tree;
    kernel::Result<Node> cpus = tree.find_node("/cpus");
    REQUIRE(cpus);
    std::vector<std::string> children;
    REQUIRE(tree.for_each_child(*cpus, [&](Node child) { children.push_back(child.name); return true; }));
    CHECK(children == std::vector<std::string>{"cpu@0", "cpu@1", "cpu@2", "cpu@3", "cpu-map"});

    kernel::Result<Node> intc = tree.find_by_phandle(8);
    REQUIRE(intc);
    CHECK(std::string(intc->name) == "interrupt-controller");
    kernel::Result<Node> cpu = tree.parent(*intc);
    REQUIRE(cpu);
    CHECK(std::string(cpu->name) == "cpu@0");
    CHECK(tree.parent(tree.root()).error() == kernel::Error::NotFound);
    CHECK(tree.find_by_phandle(0).error() == kernel::Error::NotFound);
    CHECK(tree.find_by_phandle(0x1234).error() == kernel::Error::NotFound);
    CHECK(tree.phandle_of(*cpu) == 7);

    kernel::Result<Node> plic = tree.find_node("/soc/plic@c000000");
    REQUIRE(plic);
    CHECK(tree.is_compatible(*plic, "riscv,plic0"));
    CHECK(tree.is_compatible(*plic, "sifive,plic-1.0.0"));
    CHECK_FALSE(tree.is_compatible(*plic, "riscv"));
    kernel::Result<Property> ndev = tree.find_property(*plic, "riscv,ndev");
    REQUIRE(ndev);
    CHECK(ndev->as_u32().value_or(0) == 0x60);
    CHECK(tree.find_property(*plic, "nonexistent").error() == kernel::Error::NotFound);
    kernel::Result<Range> reg = tree.reg(*plic, 0);
    REQUIRE(reg);
    CHECK(reg->base == 0xc000000);
    CHECK(reg->size == 0x600000);
    CHECK(tree.reg(*plic, 1).error() == kernel::Error::NotFound);

    kernel::Result<Node> flash = tree.find_node("/flash");
    REQUIRE(flash);
    kernel::Result<Range> bank1 = tree.reg(*flash, 1);
    REQUIRE(bank1);
    CHECK(bank1->base == 0x22000000);

    // The cpu's reg under /cpus (#address-cells 1, #size-cells 0).
    kernel::Result<Node> cpu3 = tree.find_node("/cpus/cpu@3");
    REQUIRE(cpu3);
    kernel::Result<Range> hart = tree.reg(*cpu3, 0);
    REQUIRE(hart);
    CHECK(hart->base == 3);
    CHECK(hart->size == 0);

    // Properties in order, including a boolean (empty) one.
    kernel::Result<Node> fw_cfg = tree.find_node("/fw-cfg");
    REQUIRE(fw_cfg);
    std::vector<std::string> names;
    for (kernel::Result<Property> property = tree.first_property(*fw_cfg); property;
         property = tree.next_property(*property))
        names.push_back(property->name);
    CHECK(names == std::vector<std::string>{"dma-coherent", "reg", "compatible"});
}

TEST_CASE("Property value accessors check lengths") {
    const uint8_t one_cell[] = {0, 0, 1, 2};
    const uint8_t two_cells[] = {0, 0, 0, 1, 0, 0, 0, 2};
    const uint8_t list[] = {'a', 0, 'b', 'c', 0};
    const uint8_t unterminated[] = {'a', 'b'};
    Property cell{"x", one_cell, 4, 0};
    CHECK(cell.as_u32().value_or(0) == 0x102);
    CHECK(cell.as_u32_or_u64().value_or(0) == 0x102);
    CHECK(cell.cell(1).error() == kernel::Error::NotFound);
    Property pair{"y", two_cells, 8, 0};
    CHECK(pair.as_u32().error() == kernel::Error::Malformed);
    CHECK(pair.as_u32_or_u64().value_or(0) == 0x100000002ull);
    CHECK(pair.cells(0, 2).value_or(0) == 0x100000002ull);
    CHECK(pair.cells(1, 1).value_or(0) == 2);
    CHECK(pair.cells(1, 2).error() == kernel::Error::NotFound);
    CHECK(pair.cells(0, 3).error() == kernel::Error::Unsupported);
    Property strings{"z", list, 5, 0};
    CHECK(strings.contains_string("a"));
    CHECK(strings.contains_string("bc"));
    CHECK_FALSE(strings.contains_string("b"));
    CHECK(std::string(strings.as_string().value_or("")) == "a");
    Property broken{"w", unterminated, 2, 0};
    CHECK_FALSE(broken.contains_string("ab"));
    CHECK(broken.as_string().error() == kernel::Error::Malformed);
    Property empty{"e", nullptr, 0, 0};
    CHECK(empty.as_string().error() == kernel::Error::Malformed);
    CHECK_FALSE(empty.contains_string(""));
}

TEST_CASE("memory reservation block entries") {
    FdtBuilder builder;
    builder.reserve(0x80000000, 0x40000).reserve(0x90000000, 0x1000);
    begin_root(builder);
    builder.end();
    OpenedTree opened(builder.finish());
    REQUIRE(opened.tree);
    REQUIRE(opened.tree->reservation_count() == 2);
    CHECK(opened.tree->reservation(1).value_or(Range{}).base == 0x90000000);
    CHECK(opened.tree->reservation(2).error() == kernel::Error::NotFound);
}

// ---- hand-made malformed blobs: each gives its own diagnostic ----

namespace {

struct MalformedCase {
    const char* what;
    Bytes blob;
    kernel::Error error;
    const char* message;
};

Bytes patched(Bytes blob, size_t offset, uint32_t value) {
    put_be32(blob, offset, value);
    return blob;
}

Bytes simple_root() {
    FdtBuilder builder;
    begin_root(builder);
    builder.end();
    return builder.finish();
}

} // namespace

TEST_CASE("malformed headers and structure blocks give the expected diagnostic") {
    const Bytes good = simple_root();
    const uint32_t struct_offset = get_be32(good, 8);
    std::vector<MalformedCase> cases;
    cases.push_back({"bad magic", patched(good, 0, 0xd00dfeee), kernel::Error::Malformed, "bad magic (not a flattened device tree)"});
    cases.push_back({"old version", patched(good, 20, 15), kernel::Error::Malformed, "version older than 16"});
    cases.push_back({"future format", patched(good, 24, 18), kernel::Error::Malformed, "last_comp_version newer than 17"});
    cases.push_back({"totalsize too big", patched(good, 4, uint32_t(good.size() + 1)), kernel::Error::Truncated,
                     "totalsize larger than the memory given"});
    cases.push_back({"totalsize too small", patched(good, 4, 20), kernel::Error::Malformed, "totalsize smaller than the header"});
    cases.push_back({"struct offset beyond size", patched(good, 8, 0x10000), kernel::Error::Malformed,
                     "structure block outside totalsize"});
    cases.push_back({"struct size beyond size", patched(good, 36, 0xfffffff0), kernel::Error::Malformed,
                     "structure block outside totalsize"});
    cases.push_back({"struct misaligned", patched(good, 8, struct_offset + 2), kernel::Error::Malformed,
                     "structure block not 4-byte aligned"});
    cases.push_back({"strings beyond size", patched(good, 32, 0xffffffff), kernel::Error::Malformed,
                     "strings block outside totalsize"});
    cases.push_back({"blocks overlap", patched(good, 12, struct_offset), kernel::Error::Malformed,
                     "structure and strings blocks overlap"});
    cases.push_back({"reservations misaligned", patched(good, 16, 44), kernel::Error::Malformed,
                     "memory reservation block not 8-byte aligned"});
    cases.push_back({"reservations inside struct", patched(good, 16, struct_offset), kernel::Error::Malformed,
                     "memory reservation block overlaps another block"});
    {
        Bytes blob = good;  // make the (0,0) terminator non-zero: no terminator before the struct block
        put_be32(blob, 44, 1);
        cases.push_back({"reservations unterminated", blob, kernel::Error::Malformed,
                         "memory reservation block has no terminating entry"});
    }
    {
        FdtBuilder builder;  // node name runs to the end of the struct block
        builder.word(1).word(0x41414141);
        Bytes blob = builder.finish(false);
        cases.push_back({"unterminated name", blob, kernel::Error::Malformed, "unterminated node name"});
    }
    {
        FdtBuilder builder;
        builder.begin("").word(3).word(0xfffffff0).word(0).word(2).word(9);
        cases.push_back({"property length overflow", builder.finish(false), kernel::Error::Malformed,
                         "property length runs past the structure block"});
    }
    {
        FdtBuilder builder;
        builder.begin("").word(3).word(4).word(0x7fffffff).word(0).end();
        cases.push_back({"name offset outside strings", builder.finish(), kernel::Error::Malformed,
                         "property name offset outside the strings block"});
    }
    {
        FdtBuilder builder;
        builder.begin("").string("a", "b");
        for (int depth = 0; depth < 40; ++depth) builder.begin("n");
        for (int depth = 0; depth < 40; ++depth) builder.end();
        builder.end();
        cases.push_back({"nesting too deep", builder.finish(), kernel::Error::Malformed, "nodes nested too deep"});
    }
    {
        FdtBuilder builder;
        builder.begin("").string("a", "b").end();
        cases.push_back({"missing END", builder.finish(false), kernel::Error::Truncated,
                         "structure block ends without FDT_END"});
    }
    {
        FdtBuilder builder;
        builder.begin("").begin("child").end();
        cases.push_back({"END inside a node", builder.finish(), kernel::Error::Malformed, "FDT_END inside an unclosed node"});
    }
    {
        FdtBuilder builder;
        builder.begin("").end().end();
        cases.push_back({"unbalanced END_NODE", builder.finish(), kernel::Error::Malformed,
                         "FDT_END_NODE without a matching FDT_BEGIN_NODE"});
    }
    {
        FdtBuilder builder;
        builder.begin("").end().begin("").end();
        cases.push_back({"two roots", builder.finish(), kernel::Error::Malformed, "more than one root node"});
    }
    {
        FdtBuilder builder;
        builder.begin("").word(7).end();
        cases.push_back({"unknown token", builder.finish(), kernel::Error::Malformed, "unknown token in the structure block"});
    }
    {
        FdtBuilder builder;
        builder.nop().string("a", "b").begin("").end();
        cases.push_back({"property outside a node", builder.finish(), kernel::Error::Malformed, "property outside any node"});
    }
    {
        FdtBuilder builder;
        builder.nop();
        cases.push_back({"no root", builder.finish(), kernel::Error::Malformed, "structure block has no root node"});
    }

    for (const MalformedCase& malformed : cases) {
        INFO(malformed.what);
        OpenedTree opened(malformed.blob);
        REQUIRE_FALSE(opened.tree);
        CHECK(opened.tree.error() == malformed.error);
        CHECK(opened.message() == malformed.message);
        ParseOutcome outcome = parse(malformed.blob);
        CHECK_FALSE(outcome.result);
        CHECK(outcome.message() == malformed.message);
    }
}

TEST_CASE("header checks on tiny and null inputs") {
    Diagnostic diagnostic;
    CHECK(validate_header(nullptr, 100, diagnostic).error() == kernel::Error::InvalidArgument);
    CHECK(std::string(diagnostic.message) == "device tree pointer is null");
    const Bytes good = simple_root();
    ExactBuffer three(good, 3);
    CHECK(validate_header(three.bytes.get(), 3, diagnostic).error() == kernel::Error::Truncated);
    ExactBuffer twenty(good, 20);
    CHECK(validate_header(twenty.bytes.get(), 20, diagnostic).error() == kernel::Error::Truncated);
    CHECK(std::string(diagnostic.message) == "blob shorter than the header");
    Bytes zeros(64, 0);
    CHECK(validate_header(zeros.data(), zeros.size(), diagnostic).error() == kernel::Error::Malformed);
    CHECK(diagnostic.offset == 0);
}

TEST_CASE("version 16 blobs (no size_dt_struct) end their structure block at the strings block") {
    Bytes blob = minimal_board();
    put_be32(blob, 20, 16);
    put_be32(blob, 36, 0xdeadbeef);  // not a field in version 16
    OpenedTree opened(blob);
    REQUIRE(opened.tree);
    CHECK(name_of(opened.tree->find_node("/cpus/cpu@0")) == "cpu@0");
    ParseOutcome outcome = parse(blob);
    CHECK(outcome.result);
}

TEST_CASE("diagnostics carry the byte offset of the problem") {
    FdtBuilder builder;
    builder.begin("").word(3).word(0xfffffff0).word(0).word(2).word(9);
    Bytes blob = builder.finish(false);
    const uint32_t struct_offset = get_be32(blob, 8);
    OpenedTree overflow(blob);
    REQUIRE_FALSE(overflow.tree);
    CHECK(overflow.diagnostic.offset == struct_offset + 8 + 4);  // the length field of the property

    FdtBuilder unknown;
    unknown.begin("").string("a", "b").word(0x55).end();
    blob = unknown.finish();
    OpenedTree opened(blob);
    REQUIRE_FALSE(opened.tree);
    CHECK(opened.diagnostic.offset == get_be32(blob, 8) + 8 + 16);  // after root BEGIN_NODE and one property

    Bytes bad_version = simple_root();
    put_be32(bad_version, 20, 1);
    OpenedTree old(bad_version);
    CHECK(old.diagnostic.offset == 20);
}
