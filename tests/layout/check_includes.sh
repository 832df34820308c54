#!/usr/bin/env bash
# The layering rules of docs/architecture.md ("Source map"), checked on the include graph:
#   - abi/ includes nothing of the project's other folders (every side includes it);
#   - vdso/ and user/ include no header of kernel/ (they share only abi/ with it);
#   - kernel/arch/ includes none of the subsystems above it (sched, syscall, file, proc, uintr, vdso,
#     exec, selftest, monitor, bench): it calls up only through hooks.
# Prints every offending line and fails if there is one.
set -euo pipefail
root=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$root"
failed=0
check() { # <what> <folder> <extended regex of forbidden include paths>
    local hits
    hits=$(grep -rnE "^[[:space:]]*#[[:space:]]*include[[:space:]]+\"($3)" "$2" \
               --include='*.cpp' --include='*.hpp' --include='*.h' --include='*.S' || true)
    if [ -n "$hits" ]; then
        echo "layout: $1:"; echo "$hits"; failed=1
    else
        echo "layout: $1: ok"
    fi
}
check "abi/ includes only itself" abi 'kernel/|vdso/|user/|drivers/'
check "vdso/ includes nothing of kernel/" vdso 'kernel/'
check "user/ includes nothing of kernel/" user 'kernel/'
check "kernel/arch/ includes no subsystem above it" kernel/arch \
      'kernel/(sched|syscall|file|proc|uintr|vdso|exec|selftest|monitor|bench)/'
exit $failed
