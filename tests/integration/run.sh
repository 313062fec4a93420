#!/bin/sh
# Runs every tests/integration/t_*.sh, each in a fresh lab (two network namespaces
# of its own), each under a time limit. Prints one line per case, `ok - NAME` or
# `FAIL - NAME: why`, then `N passed, N failed`. Exit status 1 if anything failed.
#
#   sh tests/integration/run.sh [t_file.sh ...]     (make integration)
#   VERBOSE=1 ...   also show each file's diagnostics (stderr)
#   SHIM=/nonexistent ...   run the same clients bare: nearly every case must fail
#
# Needs root (network namespaces, SO_MARK). Uses only 192.0.2.0/24, 198.51.100.0/24,
# 203.0.113.0/24, 2001:db8::/32, inside its own namespaces.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u

IT_DIR=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$IT_DIR/../.." && pwd)
export BUILD=${BUILD:-$ROOT/build}
FILE_TIMEOUT=${FILE_TIMEOUT:-60}

if [ "$(id -u)" != 0 ]; then
    echo "FAIL - integration: must run as root (network namespaces, SO_MARK); try: sudo make integration"
    echo "0 passed, 1 failed"
    exit 1
fi
for tool in ip python3 curl nc timeout; do
    command -v "$tool" >/dev/null 2>&1 || { echo "FAIL - integration: $tool not installed (make deps)"; echo "0 passed, 1 failed"; exit 1; }
done
if [ ! -x "$BUILD/tests/tcpinfo" ]; then
    make -s -C "$ROOT" "$BUILD/tests/tcpinfo" >/dev/null 2>&1 ||
        echo "# could not build $BUILD/tests/tcpinfo" >&2
fi
[ -f "${SHIM:-$BUILD/libdialshim.so}" ] || echo "# note: ${SHIM:-$BUILD/libdialshim.so} missing: the shim runs are bare runs" >&2

if [ $# -gt 0 ]; then files=("$@"); else files=("$IT_DIR"/t_*.sh); fi

pass=0
fail=0
start=$(date +%s)
tmp=$(mktemp -d /tmp/dialshim-run.$$.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM HUP

for f in "${files[@]}"; do
    name=$(basename "$f" .sh)
    t0=$(date +%s)
    if [ "${VERBOSE:-0}" = 1 ]; then
        timeout -k 10 "$FILE_TIMEOUT" bash "$f" >"$tmp/out"
    else
        timeout -k 10 "$FILE_TIMEOUT" bash "$f" >"$tmp/out" 2>"$tmp/err"
    fi
    rc=$?
    grep -E '^(ok|FAIL) - ' "$tmp/out"
    p=$(grep -c '^ok - ' "$tmp/out")
    n=$(grep -c '^FAIL - ' "$tmp/out")
    pass=$((pass + p))
    fail=$((fail + n))
    if [ "$rc" -ne 0 ] && [ "$n" -eq 0 ]; then
        case $rc in
        124 | 137) why="timed out after ${FILE_TIMEOUT}s" ;;
        *) why="exited with status $rc" ;;
        esac
        echo "FAIL - $name: $why"
        [ -f "$tmp/err" ] && tail -n 5 "$tmp/err" | sed 's/^/    # /' >&2
        fail=$((fail + 1))
    fi
    echo "# $name: $(($(date +%s) - t0))s" >&2
done

echo "# total $(($(date +%s) - start))s" >&2
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
