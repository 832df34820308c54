// The cpio newc reader: header decoding, the checked walk, lookups. See cpio.hpp for the invariants.
// Offsets and sizes are kept in 64 bits; fields are at most 32 bits, so header offset + 110 + name size
// + padding + data size cannot wrap, and each is compared with the archive size before it is used.
#include "kernel/exec/cpio.hpp"

namespace kernel::exec::cpio {

namespace {

constexpr size_t MagicLength = 6;
constexpr size_t FieldLength = 8;
// Field positions in the header, in the order of cpio(5).
enum Field : size_t {
    FieldInode, FieldMode, FieldUid, FieldGid, FieldLinkCount, FieldModificationTime, FieldFileSize,
    FieldDeviceMajor, FieldDeviceMinor, FieldSpecialMajor, FieldSpecialMinor, FieldNameSize, FieldCheck,
    FieldCount,
};
static_assert(MagicLength + FieldCount * FieldLength == HeaderSize);

constexpr char TrailerName[] = "TRAILER!!!";

constexpr uint64_t align_up_4(uint64_t value) { return (value + 3) & ~uint64_t{3}; }

constexpr int hex_digit_value(uint8_t character) {
    if (character >= '0' && character <= '9') return character - '0';
    if (character >= 'a' && character <= 'f') return character - 'a' + 10;
    if (character >= 'A' && character <= 'F') return character - 'A' + 10;
    return -1;
}

// The parsed fields of one header; `bad_digit` is the archive offset of the first non-hex character.
struct Header {
    uint32_t fields[FieldCount] = {};
    bool valid = true;
    uint64_t bad_digit = 0;
};

// Decodes the 13 fields of the header at `offset` (which the caller checked lies inside the archive).
Header decode_header(const uint8_t* bytes, uint64_t offset) {
    Header header;
    for (size_t field = 0; field < FieldCount; ++field) {
        uint32_t value = 0;
        for (size_t digit = 0; digit < FieldLength; ++digit) {
            const uint64_t position = offset + MagicLength + field * FieldLength + digit;
            const int digit_value = hex_digit_value(bytes[position]);
            if (digit_value < 0) {
                header.valid = false;
                header.bad_digit = position;
                return header;
            }
            value = (value << 4) | static_cast<uint32_t>(digit_value);
        }
        header.fields[field] = value;
    }
    return header;
}

bool is_newc_magic(const uint8_t* magic) {
    return __builtin_memcmp(magic, "070701", MagicLength) == 0 || __builtin_memcmp(magic, "070702", MagicLength) == 0;
}

// `path` without a leading "./" or "/" (repeated, so ".//x" and "/./x" also work).
const char* without_leading_current_directory(const char* path, size_t& length) {
    for (;;) {
        if (length >= 2 && path[0] == '.' && path[1] == '/') {
            path += 2;
            length -= 2;
        } else if (length >= 1 && path[0] == '/') {
            path += 1;
            length -= 1;
        } else {
            return path;
        }
    }
}

bool names_equal(const char* left, size_t left_length, const char* right, size_t right_length) {
    left = without_leading_current_directory(left, left_length);
    right = without_leading_current_directory(right, right_length);
    return left_length == right_length && __builtin_memcmp(left, right, left_length) == 0;
}

} // namespace

Result<Archive> Archive::open(const void* archive, size_t size, Diagnostic& diagnostic) {
    if (archive == nullptr) return fail(diagnostic, Error::InvalidArgument, "archive pointer is null", 0);
    Archive result(static_cast<const uint8_t*>(archive), size);
    for (uint64_t offset = 0;;) {
        Result<Entry> entry = result.read_entry(offset);
        if (!entry) {
            if (entry.error() == Error::NotFound) return result;  // reached the trailer
            diagnostic = result.diagnostic_;
            return entry.error();
        }
        offset = entry->next_offset;  // always > offset: the walk ends
    }
}

Result<Entry> Archive::read_entry(uint64_t offset) const {
    if (offset % 4 != 0) return fail(diagnostic_, Error::InvalidArgument, "cpio header not 4-byte aligned", offset);
    if (offset >= size_)
        return fail(diagnostic_, Error::Truncated, "cpio archive ends without a trailer", size_);
    if (size_ - offset < HeaderSize) return fail(diagnostic_, Error::Truncated, "truncated cpio header", offset);
    if (__builtin_memcmp(bytes_ + offset, "\0\0\0\0\0\0", MagicLength) == 0)  // block padding, no trailer
        return fail(diagnostic_, Error::Truncated, "cpio archive ends without a trailer", offset);
    if (!is_newc_magic(bytes_ + offset))
        return fail(diagnostic_, Error::Malformed, "bad cpio magic (not newc)", offset);
    const Header header = decode_header(bytes_, offset);
    if (!header.valid) return fail(diagnostic_, Error::Malformed, "bad hex digit in cpio header", header.bad_digit);

    const uint64_t name_size = header.fields[FieldNameSize];
    const uint64_t name_offset = offset + HeaderSize;
    if (name_size < 2) return fail(diagnostic_, Error::Malformed, "empty cpio name", offset);
    if (size_ - name_offset < name_size) return fail(diagnostic_, Error::Truncated, "truncated cpio name", name_offset);
    const auto* name = reinterpret_cast<const char*>(bytes_ + name_offset);
    size_t name_length = 0;
    while (name_length < name_size && name[name_length] != '\0') ++name_length;
    if (name_length != name_size - 1)
        return fail(diagnostic_, Error::Malformed, "cpio name not NUL-terminated at its end", name_offset);

    const uint64_t data_offset = align_up_4(name_offset + name_size);
    const uint64_t data_size = header.fields[FieldFileSize];
    const bool trailer = name_size == sizeof(TrailerName) && __builtin_memcmp(name, TrailerName, name_size) == 0;
    if (trailer) return Error::NotFound;  // the end: its padding and size are not needed
    if (data_offset > size_ || size_ - data_offset < data_size)
        return fail(diagnostic_, Error::Truncated, "cpio file data outside the archive", offset);

    Entry entry;
    entry.name = name;
    entry.name_length = name_length;
    entry.data = bytes_ + data_offset;
    entry.size = static_cast<size_t>(data_size);
    entry.mode = header.fields[FieldMode];
    entry.header_offset = offset;
    entry.next_offset = align_up_4(data_offset + data_size);
    return entry;
}

Result<Entry> Archive::find(const char* path) const {
    if (path == nullptr) return Error::InvalidArgument;
    const size_t path_length = __builtin_strlen(path);
    Result<Entry> found = Error::NotFound;
    Result<void> walked = for_each_entry([&](const Entry& entry) {
        if (names_equal(entry.name, entry.name_length, path, path_length)) found = entry;
        return true;
    });
    if (!walked) return walked.error();
    return found;
}

} // namespace kernel::exec::cpio
