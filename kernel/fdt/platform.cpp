// BootInfo extraction: walks the device tree a few times (model, memory and reserved ranges, harts,
// devices, /chosen) and fills the fixed-capacity BootInfo. See platform.hpp for the invariants.
#include "kernel/fdt/platform.hpp"

#include <new>

namespace kernel::fdt {

namespace {

// ---- small helpers ----

Error fail(Diagnostic& diagnostic, Error error, const char* message, uint32_t offset) {
    diagnostic = {message, offset};
    return error;
}

// Copies `source` into `destination` of `capacity` bytes; false if it does not fit (then "" is left).
bool copy_string(char* destination, size_t capacity, const char* source) {
    const size_t length = string_length(source);
    if (length >= capacity) {
        destination[0] = '\0';
        return false;
    }
    for (size_t index = 0; index <= length; ++index) destination[index] = source[index];
    return true;
}

// True if the node's name without its "@unit-address" equals `base_name`.
bool has_base_name(const Node& node, const char* base_name) {
    size_t length = 0;
    while (node.name[length] != '\0' && node.name[length] != '@') ++length;
    return prefix_equals(node.name, length, base_name);
}

// Insertion sort by .base (a few dozen entries at most).
template <typename Entry>
void sort_by_base(Entry* entries, size_t count) {
    for (size_t sorted = 1; sorted < count; ++sorted)
        for (size_t index = sorted; index > 0 && entries[index].base < entries[index - 1].base; --index) {
            const Entry moved = entries[index];
            entries[index] = entries[index - 1];
            entries[index - 1] = moved;
        }
}

// The string value of a property, or nullptr if absent or not a string.
const char* string_property(const Tree& tree, Node node, const char* name) {
    Result<Property> property = tree.find_property(node, name);
    if (!property) return nullptr;
    Result<const char*> text = property->as_string();
    return text ? *text : nullptr;
}

// Appends a non-empty range that does not wrap around; Unsupported past `capacity`.
Result<void> append_range(Range* ranges, size_t& count, size_t capacity, Range range, const char* too_many,
                          uint32_t offset, Diagnostic& diagnostic) {
    if (range.size == 0) return success();
    if (range.base + range.size < range.base)
        return fail(diagnostic, Error::Malformed, "address range wraps around past 2^64", offset);
    if (count == capacity) return fail(diagnostic, Error::Unsupported, too_many, offset);
    ranges[count++] = range;
    return success();
}

// Appends every reg entry of `node`, laid out by its parent `bus`.
Result<void> append_reg_entries(const Tree& tree, Node node, Node bus, Range* ranges, size_t& count,
                                size_t capacity, const char* too_many, Diagnostic& diagnostic) {
    Result<RegFormat> format = tree.reg_format(bus);
    Result<size_t> entries = format ? tree.reg_count(node, *format) : Result<size_t>(format.error());
    if (!entries) {
        diagnostic = tree.diagnostic();
        return entries.error();
    }
    for (size_t index = 0; index < *entries; ++index) {
        Result<Range> range = tree.reg(node, *format, index);
        if (!range) return fail(diagnostic, range.error(), "unreadable reg entry", node.offset);
        Result<void> appended = append_range(ranges, count, capacity, *range, too_many, node.offset, diagnostic);
        if (!appended) return appended;
    }
    return success();
}

// Runs `visit(walk)` for every node; stops early when it returns an error.
template <typename Visitor>
Result<void> walk_all(const Tree& tree, Diagnostic& diagnostic, Visitor&& visit) {
    Walk walk(tree);
    for (;;) {
        Result<bool> more = walk.next();
        if (!more) {
            diagnostic = tree.diagnostic();
            return more.error();
        }
        if (!*more) return success();
        Result<void> visited = visit(walk);
        if (!visited) return visited;
    }
}

} // namespace

namespace {

// ---- harts ----

// riscv,isa, or (newer trees only) riscv,isa-base + riscv,isa-extensions composed into the same form.
Result<void> read_isa_string(const Tree& tree, Node cpu, HartInfo& hart, Diagnostic& diagnostic) {
    Result<Property> isa = tree.find_property(cpu, "riscv,isa");
    if (isa) {
        Result<const char*> text = isa->as_string();
        if (!text) return fail(diagnostic, Error::Malformed, "riscv,isa is not a string", isa->offset);
        if (!copy_string(hart.isa_string, MaxIsaString, *text))
            return fail(diagnostic, Error::Unsupported, "riscv,isa longer than the HartInfo capacity", isa->offset);
        return success();
    }
    const char* base = string_property(tree, cpu, "riscv,isa-base");
    Result<Property> extensions = tree.find_property(cpu, "riscv,isa-extensions");
    if (base == nullptr || !extensions)
        return fail(diagnostic, Error::NotFound, "cpu node has no riscv,isa", cpu.offset);
    if (extensions->length == 0 || extensions->data[extensions->length - 1] != '\0')
        return fail(diagnostic, Error::Malformed, "riscv,isa-extensions is not a string list", extensions->offset);
    size_t used = 0;
    auto append = [&](const char* text) {
        for (; *text != '\0'; ++text) {
            if (used + 1 >= MaxIsaString) return false;
            hart.isa_string[used++] = *text;
        }
        hart.isa_string[used] = '\0';
        return true;
    };
    bool fits = append(base);
    // Single letters first (after the base's own letters), then "_name" for every multi-letter one.
    const char* list = reinterpret_cast<const char*>(extensions->data);
    for (int pass = 0; pass < 2 && fits; ++pass)
        for (uint32_t position = 0; position < extensions->length && fits;) {
            const char* name = list + position;
            const size_t name_length = string_length(name);
            const bool single = name_length == 1;
            if (pass == 0 && single && ascii_lower(name[0]) != 'i') fits = append(name);
            if (pass == 1 && !single && name_length > 0) fits = append("_") && append(name);
            position += static_cast<uint32_t>(name_length) + 1;
        }
    if (!fits)
        return fail(diagnostic, Error::Unsupported, "riscv,isa-extensions longer than the HartInfo capacity",
                    extensions->offset);
    return success();
}

Result<void> read_hart(const Tree& tree, Node cpu, RegFormat format, HartInfo& hart, Diagnostic& diagnostic) {
    Result<Range> reg = tree.reg(cpu, format, 0);
    if (!reg) return fail(diagnostic, reg.error() == Error::NotFound ? Error::Malformed : reg.error(),
                          "cpu node has no readable reg (hart id)", cpu.offset);
    if (reg->base > 0xffffffffu) return fail(diagnostic, Error::Unsupported, "hart id wider than 32 bits", cpu.offset);
    hart.hart_id = static_cast<uint32_t>(reg->base);
    hart.enabled = tree.is_enabled(cpu);
    const char* mmu = string_property(tree, cpu, "mmu-type");
    hart.has_mmu = mmu != nullptr && (strings_equal(mmu, "riscv,sv39") || strings_equal(mmu, "riscv,sv48") ||
                                      strings_equal(mmu, "riscv,sv57"));
    Result<void> isa = read_isa_string(tree, cpu, hart, diagnostic);
    if (!isa) return isa;
    if (!parse_isa_string(hart.isa_string, hart.isa))
        return fail(diagnostic, Error::Malformed, "riscv,isa does not start with rv32/rv64/rv128", cpu.offset);
    Result<void> children = tree.for_each_child(cpu, [&](Node child) {
        if (!tree.is_compatible(child, "riscv,cpu-intc")) return true;
        const uint32_t phandle = tree.phandle_of(child);
        hart.intc_phandle = phandle == InvalidPhandle ? 0 : phandle;
        return false;
    });
    if (!children) diagnostic = tree.diagnostic();
    return children;
}

Result<void> parse_cpus(const Tree& tree, BootInfo& out, Diagnostic& diagnostic) {
    Result<Node> cpus = tree.find_node("/cpus");
    if (!cpus) return fail(diagnostic, Error::NotFound, "no /cpus node", 0);
    Result<RegFormat> format = tree.reg_format(*cpus);
    if (!format) {
        diagnostic = tree.diagnostic();
        return format.error();
    }
    Result<void> status = success();
    Result<void> walked = tree.for_each_child(*cpus, [&](Node cpu) {
        const char* device_type = string_property(tree, cpu, "device_type");
        if (device_type == nullptr || !strings_equal(device_type, "cpu")) return true;
        if (out.hart_count == MaxHarts) {
            status = fail(diagnostic, Error::Unsupported, "more harts than MaxHarts", cpu.offset);
            return false;
        }
        HartInfo& hart = out.harts[out.hart_count];
        status = read_hart(tree, cpu, *format, hart, diagnostic);
        for (size_t index = 0; status && index < out.hart_count; ++index)
            if (out.harts[index].hart_id == hart.hart_id)
                status = fail(diagnostic, Error::Malformed, "two cpu nodes with the same hart id", cpu.offset);
        if (!status) return false;
        ++out.hart_count;
        if (out.timebase_frequency == 0) {  // the spec allows timebase-frequency per cpu as well
            Result<Property> timebase = tree.find_property(cpu, "timebase-frequency");
            if (timebase) out.timebase_frequency = timebase->as_u32_or_u64().value_or(0);
        }
        return true;
    });
    if (!walked) {
        diagnostic = tree.diagnostic();
        return walked;
    }
    if (!status) return status;
    if (out.hart_count == 0) return fail(diagnostic, Error::NotFound, "no cpu nodes under /cpus", cpus->offset);

    Result<Property> timebase = tree.find_property(*cpus, "timebase-frequency");
    if (timebase) {
        Result<uint64_t> value = timebase->as_u32_or_u64();
        if (!value) return fail(diagnostic, Error::Malformed, "timebase-frequency is not 1 or 2 cells", timebase->offset);
        out.timebase_frequency = *value;
    }
    if (out.timebase_frequency == 0)
        return fail(diagnostic, Error::NotFound, "/cpus has no timebase-frequency", cpus->offset);
    return success();
}

// ---- memory ----

Result<void> parse_memory(const Tree& tree, BootInfo& out, Diagnostic& diagnostic) {
    for (size_t index = 0; index < tree.reservation_count(); ++index) {
        Result<Range> range = tree.reservation(index);
        if (!range) return fail(diagnostic, range.error(), "unreadable memory reservation entry", 0);
        Result<void> appended = append_range(out.reserved, out.reserved_count, MaxReserved, *range,
                                             "more reserved ranges than MaxReserved", 0, diagnostic);
        if (!appended) return appended;
    }
    Result<void> walked = walk_all(tree, diagnostic, [&](const Walk& walk) -> Result<void> {
        const Node& node = walk.node();
        if (walk.depth() == 1 && tree.is_enabled(node)) {
            const char* device_type = string_property(tree, node, "device_type");
            if (device_type != nullptr && strings_equal(device_type, "memory"))
                return append_reg_entries(tree, node, walk.ancestor(0), out.memory, out.memory_count, MaxMemoryRanges,
                                          "more memory ranges than MaxMemoryRanges", diagnostic);
        }
        if (walk.depth() == 2 && has_base_name(walk.ancestor(1), "reserved-memory") && tree.is_enabled(node))
            return append_reg_entries(tree, node, walk.ancestor(1), out.reserved, out.reserved_count, MaxReserved,
                                      "more reserved ranges than MaxReserved", diagnostic);
        return success();
    });
    if (!walked) return walked;
    if (out.memory_count == 0) return fail(diagnostic, Error::NotFound, "no memory node", 0);
    sort_by_base(out.memory, out.memory_count);
    sort_by_base(out.reserved, out.reserved_count);
    return success();
}

} // namespace
} // namespace kernel::fdt

namespace kernel::fdt {
namespace {

// ---- devices ----

// The walk's current node's interrupt-parent: its own or the nearest ancestor's (spec 2.4.1).
uint32_t interrupt_parent(const Tree& tree, const Walk& walk) {
    for (uint32_t depth = walk.depth() + 1; depth-- > 0;) {
        Result<Property> parent = tree.find_property(walk.ancestor(depth), "interrupt-parent");
        if (parent) return parent->as_u32().value_or(InvalidPhandle);
    }
    return InvalidPhandle;
}

// The first interrupt of the walk's current node if it goes to the PLIC `plic_phandle`, else 0.
uint32_t plic_irq(const Tree& tree, const Walk& walk, uint32_t plic_phandle) {
    if (plic_phandle == 0) return 0;
    Result<Property> extended = tree.find_property(walk.node(), "interrupts-extended");
    if (extended) {
        Result<uint32_t> controller = extended->cell(0);
        return controller && *controller == plic_phandle ? extended->cell(1).value_or(0) : 0;
    }
    Result<Property> interrupts = tree.find_property(walk.node(), "interrupts");
    if (!interrupts || interrupt_parent(tree, walk) != plic_phandle) return 0;
    return interrupts->cell(0).value_or(0);
}

// reg[0] of the walk's current node as a CPU physical address: translated through the "ranges" of
// every ancestor bus (an empty or absent "ranges" maps 1:1).
Result<Range> device_registers(const Tree& tree, const Walk& walk, Diagnostic& diagnostic) {
    const Node& node = walk.node();
    if (walk.depth() == 0) return fail(diagnostic, Error::Malformed, "the root node is not a device", node.offset);
    Result<RegFormat> format = tree.reg_format(walk.ancestor(walk.depth() - 1));
    Result<Range> range = format ? tree.reg(node, *format, 0) : Result<Range>(format.error());
    if (!range) {
        if (range.error() == Error::NotFound) return fail(diagnostic, Error::Malformed, "device node has no reg", node.offset);
        diagnostic = tree.diagnostic();
        return range.error();
    }
    for (uint32_t level = walk.depth() - 1; level > 0; --level) {
        const Node& bus = walk.ancestor(level);
        Result<Property> ranges = tree.find_property(bus, "ranges");
        if (!ranges || ranges->length == 0) continue;
        Result<RegFormat> child = tree.reg_format(bus);
        Result<RegFormat> parent = tree.reg_format(walk.ancestor(level - 1));
        if (!child || !parent) {
            diagnostic = tree.diagnostic();
            return child ? parent.error() : child.error();
        }
        const uint32_t entry_cells = child->address_cells + parent->address_cells + child->size_cells;
        if (entry_cells == 0 || ranges->cell_count() % entry_cells != 0 || ranges->length % 4 != 0)
            return fail(diagnostic, Error::Malformed, "ranges length not a multiple of its entry size", ranges->offset);
        bool translated = false;
        for (size_t first = 0; first < ranges->cell_count() && !translated; first += entry_cells) {
            const uint64_t child_base = ranges->cells(first, child->address_cells).value_or(0);
            const uint64_t parent_base = ranges->cells(first + child->address_cells, parent->address_cells).value_or(0);
            const uint64_t size =
                ranges->cells(first + child->address_cells + parent->address_cells, child->size_cells).value_or(0);
            if (range->base >= child_base && range->base - child_base < size) {
                range->base = parent_base + (range->base - child_base);
                translated = true;
            }
        }
        if (!translated) return fail(diagnostic, Error::Malformed, "reg address outside its bus's ranges", node.offset);
    }
    return range;
}

UartKind uart_kind(const Tree& tree, Node node) {
    if (tree.is_compatible(node, "sifive,uart0")) return UartKind::SifiveUart0;
    if (tree.is_compatible(node, "ns16550a") || tree.is_compatible(node, "ns16550") ||
        tree.is_compatible(node, "snps,dw-apb-uart"))
        return UartKind::Ns16550a;
    return UartKind::None;
}

// An optional one-cell property: `fallback` if absent, Malformed if not one cell.
Result<uint32_t> optional_cell(const Tree& tree, Node node, const char* name, uint32_t fallback,
                               const char* malformed, Diagnostic& diagnostic) {
    Result<Property> property = tree.find_property(node, name);
    if (!property) return fallback;
    Result<uint64_t> value = property->as_u32_or_u64();
    if (!value || *value > 0xffffffffu) return fail(diagnostic, Error::Malformed, malformed, property->offset);
    return static_cast<uint32_t>(*value);
}

Result<UartInfo> read_uart(const Tree& tree, const Walk& walk, UartKind kind, uint32_t plic_phandle,
                           Diagnostic& diagnostic) {
    const Node& node = walk.node();
    UartInfo uart;
    uart.kind = kind;
    Range registers = TRY(device_registers(tree, walk, diagnostic));
    uart.base = registers.base;
    uart.size = registers.size;
    uart.irq = plic_irq(tree, walk, plic_phandle);
    Result<uint32_t> shift = optional_cell(tree, node, "reg-shift", 0, "uart reg-shift is not one cell", diagnostic);
    Result<uint32_t> width = optional_cell(tree, node, "reg-io-width", 1, "uart reg-io-width is not one cell", diagnostic);
    Result<uint32_t> clock =
        optional_cell(tree, node, "clock-frequency", 0, "uart clock-frequency is not a 32-bit number", diagnostic);
    if (!shift || !width || !clock) return Error::Malformed;
    uart.reg_shift = *shift;
    uart.reg_io_width = *width;
    uart.clock_frequency = *clock;
    return uart;
}

// PLIC contexts come from its interrupts-extended: entry i = <cpu-intc phandle, cause> is context i.
// Cause 9 (S-mode external) gives a hart's S context; 0xffffffff entries are unconnected contexts.
Result<void> read_plic_contexts(const Tree& tree, Node plic, BootInfo& out, Diagnostic& diagnostic) {
    Result<Property> contexts = tree.find_property(plic, "interrupts-extended");
    if (!contexts) return success();
    if (contexts->length % 8 != 0)
        return fail(diagnostic, Error::Malformed, "PLIC interrupts-extended is not <phandle cause> pairs", contexts->offset);
    for (uint32_t context = 0; context < contexts->cell_count() / 2; ++context) {
        const uint32_t phandle = contexts->cell(2 * context).value_or(InvalidPhandle);
        const uint32_t cause = contexts->cell(2 * context + 1).value_or(InvalidPhandle);
        if (cause != 9 || phandle == 0 || phandle == InvalidPhandle) continue;
        for (size_t index = 0; index < out.hart_count; ++index) {
            if (out.harts[index].intc_phandle != phandle) continue;
            if (out.plic.s_context_count == MaxHarts)
                return fail(diagnostic, Error::Unsupported, "more PLIC S-mode contexts than MaxHarts", contexts->offset);
            out.plic.s_contexts[out.plic.s_context_count++] = PlicContext{context, out.harts[index].hart_id};
            break;
        }
    }
    return success();
}

// First walk: the interrupt controller and timer, which later device lookups refer to.
Result<void> parse_plic_and_clint(const Tree& tree, BootInfo& out, Diagnostic& diagnostic) {
    return walk_all(tree, diagnostic, [&](const Walk& walk) -> Result<void> {
        const Node& node = walk.node();
        if (!out.plic.present && (tree.is_compatible(node, "riscv,plic0") || tree.is_compatible(node, "sifive,plic-1.0.0")) &&
            tree.is_enabled(node)) {
            Range registers = TRY(device_registers(tree, walk, diagnostic));
            out.plic.present = true;
            out.plic.base = registers.base;
            out.plic.size = registers.size;
            const uint32_t phandle = tree.phandle_of(node);
            out.plic.phandle = phandle == InvalidPhandle ? 0 : phandle;
            uint32_t ndev = TRY(optional_cell(tree, node, "riscv,ndev", 0, "riscv,ndev is not one cell", diagnostic));
            out.plic.ndev = ndev;
            return read_plic_contexts(tree, node, out, diagnostic);
        }
        if (!out.clint.present && (tree.is_compatible(node, "riscv,clint0") || tree.is_compatible(node, "sifive,clint0")) &&
            tree.is_enabled(node)) {
            Range registers = TRY(device_registers(tree, walk, diagnostic));
            out.clint = ClintInfo{true, registers.base, registers.size};
        }
        if (!out.rtc.present && tree.is_compatible(node, "google,goldfish-rtc") && tree.is_enabled(node)) {
            Range registers = TRY(device_registers(tree, walk, diagnostic));
            out.rtc = RtcInfo{true, registers.base, registers.size};
        }
        return success();
    });
}

// /chosen stdout-path (or linux,stdout-path) without its ":options"; 0 if absent or unresolvable.
uint32_t stdout_node_offset(const Tree& tree, Node chosen) {
    const char* path = string_property(tree, chosen, "stdout-path");
    if (path == nullptr) path = string_property(tree, chosen, "linux,stdout-path");
    if (path == nullptr) return 0;
    size_t length = 0;
    while (path[length] != '\0' && path[length] != ':') ++length;
    Result<Node> node = tree.find_node(path, length);
    return node ? node->offset : 0;
}

// Second walk: the console UART and the virtio-mmio slots, with their PLIC interrupts.
Result<void> parse_uart_and_virtio(const Tree& tree, uint32_t stdout_offset, BootInfo& out, Diagnostic& diagnostic) {
    bool uart_is_stdout = false;
    Result<void> walked = walk_all(tree, diagnostic, [&](const Walk& walk) -> Result<void> {
        const Node& node = walk.node();
        if (!tree.is_enabled(node)) return success();
        const UartKind kind = uart_kind(tree, node);
        const bool is_stdout = stdout_offset != 0 && node.offset == stdout_offset;
        if (kind != UartKind::None && !uart_is_stdout && (is_stdout || out.uart.kind == UartKind::None)) {
            UartInfo uart = TRY(read_uart(tree, walk, kind, out.plic.phandle, diagnostic));
            out.uart = uart;
            uart_is_stdout = is_stdout;
        }
        if (tree.is_compatible(node, "virtio,mmio")) {
            if (out.virtio_count == MaxVirtio)
                return fail(diagnostic, Error::Unsupported, "more virtio-mmio slots than MaxVirtio", node.offset);
            Range registers = TRY(device_registers(tree, walk, diagnostic));
            out.virtio[out.virtio_count++] =
                VirtioMmioSlot{registers.base, registers.size, plic_irq(tree, walk, out.plic.phandle)};
        }
        return success();
    });
    if (!walked) return walked;
    sort_by_base(out.virtio, out.virtio_count);
    return success();
}

// ---- /chosen and the model ----

Result<void> parse_chosen(const Tree& tree, Node chosen, BootInfo& out, Diagnostic& diagnostic) {
    Result<Property> bootargs = tree.find_property(chosen, "bootargs");
    if (bootargs && bootargs->length > 0) {
        Result<const char*> text = bootargs->as_string();
        if (!text) return fail(diagnostic, Error::Malformed, "bootargs is not a string", bootargs->offset);
        if (!copy_string(out.bootargs, MaxBootargs, *text))
            return fail(diagnostic, Error::Unsupported, "bootargs longer than MaxBootargs", bootargs->offset);
    }
    Result<Property> start = tree.find_property(chosen, "linux,initrd-start");
    Result<Property> end = tree.find_property(chosen, "linux,initrd-end");
    if (!start && !end) return success();
    if (!start || !end)
        return fail(diagnostic, Error::Malformed, "only one of linux,initrd-start/-end", (start ? start : end)->offset);
    Result<uint64_t> first = start->as_u32_or_u64();
    Result<uint64_t> last = end->as_u32_or_u64();
    if (!first || !last)
        return fail(diagnostic, Error::Malformed, "linux,initrd-start/-end is not 1 or 2 cells", start->offset);
    if (*last < *first) return fail(diagnostic, Error::Malformed, "linux,initrd-end before linux,initrd-start", end->offset);
    out.initrd = Range{*first, *last - *first};
    return success();
}

void read_model(const Tree& tree, BootInfo& out) {
    const char* model = string_property(tree, tree.root(), "model");
    if (model == nullptr) model = string_property(tree, tree.root(), "compatible");
    if (model == nullptr) return;
    size_t index = 0;
    for (; index + 1 < MaxModel && model[index] != '\0'; ++index) out.model[index] = model[index];
    out.model[index] = '\0';
}

} // namespace

Result<void> parse_boot_info(const void* blob, size_t bytes_available, BootInfo& out, Diagnostic& diagnostic) {
    const uint32_t boot_hart_hint = out.boot_hart_hint;
    new (&out) BootInfo{};  // in place: BootInfo is too large for a kernel stack temporary
    out.boot_hart_hint = boot_hart_hint;
    diagnostic = Diagnostic{};

    Tree tree = TRY(Tree::open(blob, bytes_available, diagnostic));
    read_model(tree, out);
    Result<void> step = parse_memory(tree, out, diagnostic);
    if (step) step = parse_cpus(tree, out, diagnostic);
    if (step) step = parse_plic_and_clint(tree, out, diagnostic);
    if (!step) return step;
    uint32_t stdout_offset = 0;
    Result<Node> chosen = tree.find_node("/chosen");
    if (chosen) {
        step = parse_chosen(tree, *chosen, out, diagnostic);
        if (!step) return step;
        stdout_offset = stdout_node_offset(tree, *chosen);
    }
    return parse_uart_and_virtio(tree, stdout_offset, out, diagnostic);
}

} // namespace kernel::fdt
