#!/bin/sh
# Files that are not valid executables, for the loader's tests (exectest, family):
#   not-elf        text
#   truncated-elf  the first 200 bytes of a real program
#   elf32          a real program whose class byte (e_ident[EI_CLASS]) says 32-bit
# Usage: make-bad-executables.sh PROGRAM OUTPUT_FOLDER
set -eu
program=$1 out=$2
echo "this is not an executable" > "$out/not-elf"
head -c 200 "$program" > "$out/truncated-elf"
{ printf '\177ELF\001'; tail -c +6 "$program"; } > "$out/elf32"
