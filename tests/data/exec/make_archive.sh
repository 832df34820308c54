#!/bin/sh
# Builds the cpio test archives for tests/kernel/exec/test_cpio.cpp (see README.md).
#   make_archive.sh <output directory> <a file to include as bin/init>
# Writes, from one staged tree with a few files and directories:
#   archive_newc.cpio  "newc" format (magic 070701), as the initramfs is built
#   archive_crc.cpio   "crc" format (magic 070702)
# GNU cpio strips a leading "./" from names, so the tests build archives with "./" names themselves.
set -eu
output=$1
init=$2
stage=$output/archive_stage
rm -rf "$stage"
mkdir -p "$stage/bin" "$stage/etc" "$stage/empty_directory"
cp "$init" "$stage/bin/init"
printf 'welcome to cokernel\n' > "$stage/etc/motd"
printf 'abc' > "$stage/etc/three_bytes"
: > "$stage/etc/empty"
chmod 755 "$stage/bin/init" "$stage/bin" "$stage/etc" "$stage/empty_directory"
chmod 644 "$stage/etc/motd" "$stage/etc/three_bytes" "$stage/etc/empty"
find "$stage" -exec touch -h -d @0 {} +
cd "$stage"
find . | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0 > "$output/archive_newc.cpio"
find . | LC_ALL=C sort | cpio --quiet -o -H crc -R 0:0 > "$output/archive_crc.cpio"
