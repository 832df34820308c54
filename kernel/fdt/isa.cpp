// riscv,isa strings: "rv64imafdc_zicsr_zifencei_zbb_sstc" -> IsaExtensions.
#include "kernel/fdt/fdt.hpp"
#include "kernel/fdt/platform.hpp"

namespace kernel::fdt {

namespace {

// ---- ISA strings ----

struct NamedExtension {
    const char* name;
    bool IsaExtensions::*flag;
};
constexpr NamedExtension multi_letter_extensions[] = {
    {"zicsr", &IsaExtensions::zicsr},     {"zifencei", &IsaExtensions::zifencei},
    {"zihintpause", &IsaExtensions::zihintpause}, {"zicbom", &IsaExtensions::zicbom},
    {"zicboz", &IsaExtensions::zicboz},   {"zba", &IsaExtensions::zba},
    {"zbb", &IsaExtensions::zbb},         {"zbc", &IsaExtensions::zbc},
    {"zbs", &IsaExtensions::zbs},         {"sstc", &IsaExtensions::sstc},
    {"svpbmt", &IsaExtensions::svpbmt},   {"svnapot", &IsaExtensions::svnapot},
    {"svinval", &IsaExtensions::svinval}, {"sscofpmf", &IsaExtensions::sscofpmf},
};

constexpr bool is_digit(char letter) { return letter >= '0' && letter <= '9'; }

// Length of a version suffix "<major>[p<minor>]" at `text` (0 if none).
size_t version_length(const char* text, size_t limit) {
    size_t length = 0;
    while (length < limit && is_digit(text[length])) ++length;
    if (length > 0 && length + 1 < limit && ascii_lower(text[length]) == 'p' && is_digit(text[length + 1])) {
        ++length;
        while (length < limit && is_digit(text[length])) ++length;
    }
    return length;
}

// A multi-letter extension token (between underscores), possibly with a version suffix.
void apply_multi_letter(const char* token, size_t length, IsaExtensions& out) {
    for (const NamedExtension& extension : multi_letter_extensions) {
        const size_t name_length = string_length(extension.name);
        if (length < name_length) continue;
        bool equal = true;
        for (size_t index = 0; index < name_length && equal; ++index) equal = ascii_lower(token[index]) == extension.name[index];
        if (equal && version_length(token + name_length, length - name_length) == length - name_length) {
            out.*extension.flag = true;
            return;
        }
    }
}

void apply_single_letter(char letter, IsaExtensions& out) {
    switch (letter) {
    case 'i': out.i = true; break;
    case 'm': out.m = true; break;
    case 'a': out.a = true; break;
    case 'f': out.f = true; break;
    case 'd': out.d = true; break;
    case 'c': out.c = true; break;
    case 'h': out.h = true; break;
    case 'v': out.v = true; break;
    case 'n': out.n = true; break;
    case 'g':
        out.i = out.m = out.a = out.f = out.d = true;
        out.zicsr = out.zifencei = true;
        break;
    default: break;  // other standard letters are not tracked
    }
}

// A run of single-letter extensions, each optionally versioned ("i2p1m2p0a").
void apply_single_letters(const char* token, size_t length, IsaExtensions& out) {
    for (size_t position = 0; position < length;) {
        apply_single_letter(ascii_lower(token[position]), out);
        ++position;
        position += version_length(token + position, length - position);
    }
}

} // namespace

Result<void> parse_isa_string(const char* isa, IsaExtensions& out) {
    out = IsaExtensions{};
    const size_t length = string_length(isa);
    if (length < 4 || ascii_lower(isa[0]) != 'r' || ascii_lower(isa[1]) != 'v') return Error::Malformed;
    size_t position = 2;
    uint32_t xlen = 0;
    while (position < length && is_digit(isa[position]) && xlen < 1000) xlen = xlen * 10 + (isa[position++] - '0');
    if (xlen != 32 && xlen != 64 && xlen != 128) return Error::Malformed;
    out.xlen = xlen;

    // The first token holds the base and the single letters; a multi-letter name may follow them
    // without an underscore. Later tokens are separated by '_'.
    bool first_token = true;
    while (position < length) {
        size_t end = position;
        while (end < length && isa[end] != '_') ++end;
        size_t split = position;  // start of a multi-letter extension inside this token, if any
        if (first_token) {
            while (split < end && ascii_lower(isa[split]) != 's' && ascii_lower(isa[split]) != 'x' && ascii_lower(isa[split]) != 'z') ++split;
            apply_single_letters(isa + position, split - position, out);
        }
        const char first = split < end ? ascii_lower(isa[split]) : '\0';
        const bool legacy_supervisor_user = first_token && (end - split <= 2) && first == 's' &&
                                            (end - split == 1 || ascii_lower(isa[split + 1]) == 'u');  // old "rv64imafdcsu"
        if (first == 's' || first == 'x' || first == 'z') {
            if (!legacy_supervisor_user) apply_multi_letter(isa + split, end - split, out);
        } else if (!first_token) {
            apply_single_letters(isa + position, end - position, out);
        }
        first_token = false;
        position = end + 1;
    }
    return success();
}

} // namespace kernel::fdt
