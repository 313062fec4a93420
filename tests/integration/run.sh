#!/bin/sh
# Runs every tests/integration/t_*.sh, each in a fresh lab (two network namespaces
# of its own), each under a time limit. Prints one line per case, `ok - NAME` or
# `FAIL - NAME: why`, then `N passed, N failed`. Exit status 1 if anything failed.
#
#   sh tests/integration/run.sh [t_file.sh ...]     (make integration)
#   VERBOSE=1 ...   also show each file's diagnostics (stderr)
#   JOBS=2 ...      run two files at a time (default 1)
#   FILE_TIMEOUT=S  time limit per file (default 120: a watchdog, not a measure;
#                   t_stress_faults and t_fault_dns take 50 s alone)
#   SHIM=/nonexistent ...   run the same clients bare: nearly every case must fail
#
# Needs root (network namespaces, SO_MARK). Uses only 192.0.2.0/24, 198.51.100.0/24,
# 203.0.113.0/24, 2001:db8::/32, inside its own namespaces.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u

IT_DIR=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$IT_DIR/../.." && pwd)
export BUILD=${BUILD:-$ROOT/build}
FILE_TIMEOUT=${FILE_TIMEOUT:-120}

if [ "$(id -u)" != 0 ]; then
    echo "FAIL - integration: must run as root (network namespaces, SO_MARK); try: sudo make integration"
    echo "0 passed, 1 failed"
    exit 1
fi
for tool in ip python3 curl nc timeout; do
    command -v "$tool" >/dev/null 2>&1 || { echo "FAIL - integration: $tool not installed (make deps)"; echo "0 passed, 1 failed"; exit 1; }
done
# the C clients (tests/integration/*.c, lib*.c preloaded libraries), rebuilt
# when their source changed
for src in "$IT_DIR"/*.c; do
    bin=$BUILD/tests/$(basename "$src" .c)
    case $src in */lib*.c) bin=$bin.so ;; esac
    make -s -C "$ROOT" "$bin" >/dev/null 2>&1 || echo "# could not build $bin" >&2
done
[ -f "${SHIM:-$BUILD/libdialshim.so}" ] || echo "# note: ${SHIM:-$BUILD/libdialshim.so} missing: the shim runs are bare runs" >&2

if [ $# -gt 0 ]; then files=("$@"); else files=("$IT_DIR"/t_*.sh); fi

pass=0
fail=0
start=$(date +%s)
tmp=$(mktemp -d /tmp/dialshim-run.$$.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM HUP

# run_one FILE: runs one test file under the time limit; keeps its output in $tmp.
run_one() {
    local f=$1 name t0
    name=$(basename "$f" .sh)
    t0=$(date +%s)
    if [ "${VERBOSE:-0}" = 1 ]; then
        timeout -k 10 "$FILE_TIMEOUT" bash "$f" >"$tmp/$name.out"
    else
        timeout -k 10 "$FILE_TIMEOUT" bash "$f" >"$tmp/$name.out" 2>"$tmp/$name.err"
    fi
    echo $? >"$tmp/$name.rc"
    echo $(($(date +%s) - t0)) >"$tmp/$name.time"
}

# report_one FILE: prints its case lines and adds them up.
report_one() {
    local name rc p n why
    name=$(basename "$1" .sh)
    rc=$(cat "$tmp/$name.rc")
    grep -E '^(ok|FAIL) - ' "$tmp/$name.out"
    p=$(grep -c '^ok - ' "$tmp/$name.out")
    n=$(grep -c '^FAIL - ' "$tmp/$name.out")
    pass=$((pass + p))
    fail=$((fail + n))
    if [ "$rc" -ne 0 ] && [ "$n" -eq 0 ]; then
        case $rc in
        124 | 137) why="timed out after ${FILE_TIMEOUT}s" ;;
        *) why="exited with status $rc" ;;
        esac
        echo "FAIL - $name: $why"
        [ -f "$tmp/$name.err" ] && tail -n 5 "$tmp/$name.err" | sed 's/^/    # /' >&2
        fail=$((fail + 1))
    fi
    echo "# $name: $(cat "$tmp/$name.time")s" >&2
}

# JOBS=N runs N files at once (each has its own namespaces); the default is one at
# a time, as timing assertions are calibrated for an otherwise idle machine.
JOBS=${JOBS:-1}
if [ "$JOBS" -gt 1 ]; then
    for f in "${files[@]}"; do
        while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n; done
        run_one "$f" &
    done
    wait
    for f in "${files[@]}"; do report_one "$f"; done
else
    for f in "${files[@]}"; do
        run_one "$f"
        report_one "$f"
    done
fi

echo "# total $(($(date +%s) - start))s" >&2
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
