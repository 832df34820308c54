#!/usr/bin/env bash
# The table of docs/syscalls.md lists exactly the calls of abi/syscall_list.hpp: the same numbers
# with the same names, and "asynchronous form too" on exactly the rows whose form is Async.
# The list is read through the C preprocessor, as the kernel and the user runtime read it.
# Prints every difference and fails if there is one.
set -euo pipefail
root=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
cxx=${CXX:-c++}
cd "$root"

from_list=$(printf '#include "abi/syscall_list.hpp"\n#define ROW(number, name, Number, form, p, a) @@ number name form\nCOKERNEL_SYSCALLS(ROW)\n' |
    "$cxx" -std=c++20 -E -P -I. -x c++ - | tr -s ' \n' ' ' | sed 's/@@/\n/g' |
    awk 'NF == 3 { print $1, $2, ($3 == "Async" ? "async" : "sync") }' | sort -n)

# Rows of the first table (the one before the first "## " section): | number | `name` | status |
from_docs=$(awk -F'|' '/^## / { exit } /^\| *[0-9]+ *\| *`/ {
        number = $2; gsub(/ /, "", number); name = $3; gsub(/[ `]/, "", name)
        print number, name, ($4 ~ /asynchronous form too/ ? "async" : "sync") }' docs/syscalls.md | sort -n)

if [ -z "$from_list" ]; then echo "syscall docs: could not read abi/syscall_list.hpp"; exit 1; fi
if [ "$from_list" == "$from_docs" ]; then
    echo "syscall docs: docs/syscalls.md lists the $(echo "$from_list" | wc -l) calls of abi/syscall_list.hpp"
    exit 0
fi
echo "syscall docs: docs/syscalls.md and abi/syscall_list.hpp disagree (< list, > docs):"
diff <(echo "$from_list") <(echo "$from_docs") | grep '^[<>]' || true
exit 1
