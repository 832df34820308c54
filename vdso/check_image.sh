#!/bin/sh
# Build-time check of the vDSO image (vdso/CMakeLists.txt runs it after every link of vdso.so, and a
# failure fails the build). Usage: check_image.sh <readelf> <image>
#
# The image must be position-independent code that runs unchanged at any address from one read-only
# copy shared by the kernel and every process, so it must have:
#   - exactly one PT_LOAD, R-X, at virtual address 0 == file offset 0, file size == memory size;
#   - no writable PT_LOAD;
#   - no dynamic relocation (readelf -r prints none, every relocation table size is 0) and no
#     DT_TEXTREL / DF_TEXTREL;
#   - no undefined dynamic symbol (nothing to bind: no libgcc, no libc);
#   - the version definition COKERNEL_1.0.
set -eu
readelf=$1
image=$2
# On failure the image is removed, so that nothing can embed an image that failed its check.
fail() { echo "vdso check: $image: $*" >&2; rm -f "$image"; exit 1; }

[ -f "$image" ] || fail "missing"
headers=$("$readelf" -lW "$image") || fail "readelf -l failed"
loads=$(printf '%s\n' "$headers" | awk '$1 == "LOAD"')
count=$(printf '%s\n' "$loads" | grep -c LOAD || true)
[ "$count" -eq 1 ] || fail "$count PT_LOAD segments, expected exactly 1"
# LOAD Offset VirtAddr PhysAddr FileSiz MemSiz Flg... Align
set -- $loads
offset=$2 vaddr=$3 filesz=$5 memsz=$6
flags=$(printf '%s\n' "$loads" | sed -E 's/.*0x[0-9a-f]+ +0x[0-9a-f]+ +(.*) +0x[0-9a-f]+$/\1/')
case "$flags" in *W*) fail "writable PT_LOAD (flags '$flags')";; esac
case "$flags" in *R*E*) ;; *) fail "PT_LOAD is not R-X (flags '$flags')";; esac
[ $((offset)) -eq 0 ] && [ $((vaddr)) -eq 0 ] || fail "PT_LOAD at offset $offset vaddr $vaddr, expected 0 and 0"
[ $((filesz)) -eq $((memsz)) ] || fail "PT_LOAD file size $filesz != memory size $memsz (no .bss allowed)"
printf '%s\n' "$headers" | grep -q ' DYNAMIC ' || fail "no PT_DYNAMIC"

relocations=$("$readelf" -rW "$image")
printf '%s\n' "$relocations" | grep -q 'There are no relocations in this file' ||
    fail "has dynamic relocations:
$relocations"
dynamic=$("$readelf" -dW "$image")
printf '%s\n' "$dynamic" | grep -q 'TEXTREL' && fail "has TEXTREL"
# ld keeps an empty DT_RELA (RELASZ 0) for the empty .rela.dyn; any non-zero size is a relocation.
printf '%s\n' "$dynamic" | awk '$2 ~ /^\((RELASZ|RELSZ|PLTRELSZ|RELRSZ)\)$/ && $3 != "0" { found = 1 } END { exit !found }' &&
    fail "has a non-empty relocation table in .dynamic"

undefined=$("$readelf" --dyn-syms -W "$image" | awk '$7 == "UND" && $8 != ""')
[ -z "$undefined" ] || fail "undefined dynamic symbols (would need a binder):
$undefined"
"$readelf" -VW "$image" | grep -q 'Name: COKERNEL_1.0' || fail "no version definition COKERNEL_1.0"
exit 0
