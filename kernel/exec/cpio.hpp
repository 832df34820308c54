// A reader for cpio "newc" archives: the initial archive of user programs (initramfs), built with
// `cpio -o -H newc` and handed over by the boot loader as the initrd.
//
// Format (cpio(5), "New ASCII Format"): a sequence of entries, each
//     header (110 bytes: magic "070701" or "070702", then 13 fields of 8 hex digits:
//             ino mode uid gid nlink mtime filesize devmajor devminor rdevmajor rdevminor namesize check)
//     name (namesize bytes, the last one NUL), padded so that header + name end on a 4-byte boundary
//     data (filesize bytes), padded to a 4-byte boundary
// up to the entry named "TRAILER!!!". Offsets are counted from the start of the archive. The "070702"
// checksum is not verified; bytes after the trailer (block padding, further archives) are ignored.
//
// Allocation-free and freestanding. The archive is untrusted input: every field is checked to be
// exactly 8 hex digits, every name to be non-empty with its only NUL at its last byte, and every name
// and data range to lie inside the archive, with overflow-checked sums. Each entry advances the walk by
// at least one header, so no walk can loop forever. A bad archive yields an Error plus a Diagnostic.
//
// Invariants of an Archive returned by Archive::open: the walk from offset 0 reaches the trailer, and
// every entry before it passed the checks above. Accessors re-check every entry they read anyway.
#pragma once

#include <cstddef>
#include <cstdint>

#include "abi/result.hpp"
#include "kernel/exec/diagnostic.hpp"

namespace kernel::exec::cpio {

constexpr size_t HeaderSize = 110;
constexpr uint32_t FileTypeMask = 0170000, RegularFile = 0100000, Directory = 0040000;

// One archive member. `name` points into the archive and is NUL-terminated (name[name_length] == 0);
// `data` points into the archive, `size` bytes.
struct Entry {
    const char* name = nullptr;
    size_t name_length = 0;
    const uint8_t* data = nullptr;
    size_t size = 0;
    uint32_t mode = 0;
    uint64_t header_offset = 0;  // archive offset of this entry's header
    uint64_t next_offset = 0;    // archive offset of the following header

    bool is_regular_file() const { return (mode & FileTypeMask) == RegularFile; }
    bool is_directory() const { return (mode & FileTypeMask) == Directory; }
};

class Archive {
public:
    // Validates the whole archive up to its trailer. Failures are described in `diagnostic`.
    static Result<Archive> open(const void* archive, size_t size, Diagnostic& diagnostic);

    // The entry whose name equals `path`, ignoring a leading "./" or "/" on either side ("bin/init",
    // "./bin/init" and "/bin/init" name the same member). If several match, the last wins, as when an
    // initramfs is unpacked. NotFound if none does.
    Result<Entry> find(const char* path) const;

    // Low level: the entry whose header is at `offset` (NotFound for the trailer), fully checked.
    Result<Entry> read_entry(uint64_t offset) const;
    // Failure description of the last accessor that returned Malformed/Truncated.
    const Diagnostic& diagnostic() const { return diagnostic_; }

    // Visits every entry before the trailer in archive order; `visit(const Entry&)` returns false to stop.
    template <typename Visitor>
    Result<void> for_each_entry(Visitor&& visit) const {
        for (uint64_t offset = 0;;) {
            Result<Entry> entry = read_entry(offset);
            if (!entry) return entry.error() == Error::NotFound ? success() : Result<void>(entry.error());
            if (!visit(*entry)) return success();
            offset = entry->next_offset;
        }
    }
    // Same, over regular files only.
    template <typename Visitor>
    Result<void> for_each_file(Visitor&& visit) const {
        return for_each_entry([&](const Entry& entry) { return !entry.is_regular_file() || visit(entry); });
    }

private:
    Archive(const uint8_t* bytes, uint64_t size) : bytes_(bytes), size_(size) {}

    const uint8_t* bytes_ = nullptr;
    uint64_t size_ = 0;
    mutable Diagnostic diagnostic_;
};

} // namespace kernel::exec::cpio
