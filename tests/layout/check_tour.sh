#!/usr/bin/env bash
# docs/tour.md names files, functions and self-tests for a student to open and run; this keeps those
# names true as the code moves:
#   * every `path` in backticks that looks like a source file or folder of the tree exists;
#   * every function named as `name` right after a file, in the form "`file` (`function`, ...)",
#     occurs in that file;
#   * every self-test named in a selftest= boot argument is one the kernel has.
# Build outputs (build/...) are not checked. Prints every stale name and fails if there is one.
set -euo pipefail
root=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$root"
tour=docs/tour.md
failures=0
stale() { echo "tour: $1"; failures=$((failures + 1)); }

# Paths: backticked words with a slash, under one of the tree's top folders.
for path in $(grep -o '`[A-Za-z0-9_./-]*/[A-Za-z0-9_./-]*`' "$tour" | tr -d '`' | sort -u); do
    case "$path" in
        build/*|../*|bin/*) continue ;;  # build outputs, the design folder, guest paths
    esac
    [[ -e "$path" ]] || stale "no file or folder $path"
done

# "`file` (`function`, `function`)": each function (without a Class:: or namespace:: prefix) in file.
grep -o '`[A-Za-z0-9_./-]*\.[a-zA-Z]*` (`[^)]*)' "$tour" | while IFS= read -r mention; do
    file=$(echo "$mention" | sed 's/^`\([^`]*\)`.*/\1/')
    [[ -f "$file" ]] || continue
    for name in $(echo "$mention" | sed 's/^`[^`]*` (//' | grep -o '`[A-Za-z_:]*`' | tr -d '`'); do
        base=${name##*::}
        grep -q "\b$base\b" "$file" || echo "tour: $file does not mention $name"
    done
done | { stale_names=$(cat); if [[ -n "$stale_names" ]]; then echo "$stale_names"; exit 1; fi; } || failures=$((failures + 1))

# Self-tests named in selftest=a,b boot arguments.
for name in $(grep -o 'selftest=[a-z,-]*' "$tour" | sed 's/selftest=//' | tr ',' '\n' | sort -u); do
    grep -q "{\"$name\"," kernel/selftest/selftest.cpp || stale "no self-test '$name'"
done

if [[ $failures -ne 0 ]]; then exit 1; fi
echo "tour: every file, function and self-test docs/tour.md names exists"
