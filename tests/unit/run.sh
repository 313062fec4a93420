#!/bin/sh
# Runs each unit test program given (as `make unit` does:
#   sh tests/unit/run.sh build/tests/test_*)
# from the repository root, so fixtures are found as tests/unit/fixtures/....
# Check prints its own summary line per program ("100%: Checks: N, Failures: 0,
# Errors: 0"). Exit status 1 when any program failed, crashed or is missing.
# Without arguments: every build/tests/test_* there is.
root=$(cd "$(dirname "$0")/../.." && pwd) || exit 2
here=$(pwd)
[ $# -gt 0 ] || set -- "$root"/build/tests/test_*

total=0
failed=0
for bin in "$@"; do
    total=$((total + 1))
    case $bin in
    /*) path=$bin ;;
    *) path=$here/$bin ;;
    esac
    if [ ! -f "$path" ] || [ ! -x "$path" ]; then
        echo "$bin: not built"
        failed=$((failed + 1))
        continue
    fi
    if ! (cd "$root" && "$path"); then
        echo "$bin: FAILED"
        failed=$((failed + 1))
    fi
done
echo "unit: $((total - failed)) of $total test programs passed"
[ "$failed" -eq 0 ]
