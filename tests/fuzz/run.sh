#!/bin/sh
# Runs libFuzzer targets (as `make fuzz FUZZ_SECONDS=N` does):
#   sh tests/fuzz/run.sh SECONDS build/fuzz/fuzz_NAME...
# Each target runs SECONDS on a scratch copy of its seed corpus
# tests/fuzz/corpus/NAME/ (so the checked-in corpus never grows), with the options
# below; crashes, leaks, timeouts and failed invariants are saved under
# build/fuzz/artifacts/NAME/ and shown as hex. One line per target:
#   ok - fuzz NAME: N runs in S s (E exec/s), corpus A -> B, coverage C
#   FAIL - fuzz NAME: crash-... (see the log)
#   sh tests/fuzz/run.sh --repro [FILE...]   replays tests/fuzz/crashes/* (or FILEs)
#                                            through the matching targets
# Exit status 1 when a target failed. FUZZ_JOBS is not used: one target at a time.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd) || exit 2
FUZZ_BUILD=${FUZZ_BUILD:-$root/build/fuzz}
case $FUZZ_BUILD in /*) ;; *) FUZZ_BUILD=$root/$FUZZ_BUILD ;; esac

# Per-target options: the largest useful input, a dictionary when there is one.
opts_for() {
    case $1 in
    conf) echo "-max_len=4096 -dict=$root/tests/fuzz/conf.dict" ;;
    http) echo "-max_len=9000 -dict=$root/tests/fuzz/http.dict" ;;
    route) echo "-max_len=1024 -dict=$root/tests/fuzz/route.dict" ;;
    glob) echo "-max_len=1025" ;;
    elf) echo "-max_len=4096" ;;
    fakeip) echo "-max_len=2048" ;;
    import) echo "-max_len=4096 -dict=$root/tests/fuzz/import.dict" ;;
    *) echo "-max_len=600" ;;
    esac
}

hexdump_file() { od -An -v -tx1 "$1" | tr -d ' \n' | head -c 2000; echo; }

if [ "${1:-}" = --repro ]; then
    shift
    [ $# -gt 0 ] || set -- "$root"/tests/fuzz/crashes/*
    rc=0
    for f in "$@"; do
        [ -f "$f" ] || continue
        case $f in *.md) continue ;; esac
        name=$(basename "$f")
        target=${name%%-*}
        bin=$FUZZ_BUILD/fuzz_$target
        [ -x "$bin" ] || { echo "FAIL - repro $name: $bin not built (make $bin)"; rc=1; continue; }
        if FUZZ_STRICT=1 "$bin" -runs=1 "$f" >/tmp/fuzz-repro.$$ 2>&1; then
            echo "ok - repro $name: no longer crashes"
        else
            echo "FAIL - repro $name: still crashes"
            grep -E 'ERROR|FUZZ INVARIANT|^  [^ ]|runtime error|#[0-9]+ 0x.* in [^ ]+ /.*(common|conf|shim|tests)/' /tmp/fuzz-repro.$$ | head -n 20 | sed 's/^/    # /'
            rc=1
        fi
        rm -f /tmp/fuzz-repro.$$
    done
    exit $rc
fi

secs=${1:?usage: run.sh SECONDS BIN...}
shift
scratch=$(mktemp -d /tmp/dialshim-fuzz.$$.XXXXXX)
trap 'rm -rf "$scratch"' EXIT
trap 'exit 130' INT TERM HUP
failed=0
total=0
for bin in "$@"; do
    total=$((total + 1))
    name=$(basename "$bin")
    target=${name#fuzz_}
    seeds=$root/tests/fuzz/corpus/$target
    art=$FUZZ_BUILD/artifacts/$target
    log=$FUZZ_BUILD/logs/$target.log
    mkdir -p "$scratch/$target" "$art" "$(dirname "$log")"
    [ -d "$seeds" ] && cp "$seeds"/* "$scratch/$target/" 2>/dev/null
    before=$(ls "$scratch/$target" | wc -l)
    ls "$art" >"$scratch/art.before"
    # -timeout: one input may take 10 s at most (a hang is a finding);
    # -rss_limit_mb: a runaway allocation is a finding too.
    # shellcheck disable=SC2046
    timeout -k 10 $((secs + 120)) "$bin" $(opts_for "$target") -max_total_time="$secs" \
        -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$art/" \
        "$scratch/$target" >"$log" 2>&1
    rc=$?
    after=$(ls "$scratch/$target" | wc -l)
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
    cov=$(grep -Eo 'cov: [0-9]+' "$log" | tail -n 1 | sed 's/cov: //')
    if [ "$rc" -eq 0 ]; then
        echo "ok - fuzz $target: ${runs:-?} runs in ${secs}s (${eps:-?} exec/s), corpus $before -> $after, coverage ${cov:-?}"
    else
        failed=$((failed + 1))
        echo "FAIL - fuzz $target: exit status $rc after ${runs:-?} runs (log: $log)"
        grep -E '^==[0-9]+==ERROR|FUZZ INVARIANT|^  [^ ]|runtime error|SUMMARY|#[0-9]+ 0x.* in [^ ]+ /.*(common|conf|shim|tests)/' "$log" | head -n 25 | sed 's/^/    # /'
        ls "$art" | sort >"$scratch/art.after"
        for f in $(sort "$scratch/art.before" | comm -13 - "$scratch/art.after"); do
            echo "    # artifact $art/$f ($(wc -c <"$art/$f") bytes): $(hexdump_file "$art/$f")"
        done
    fi
done
echo "fuzz: $((total - failed)) of $total targets ran clean for ${secs}s each"
[ "$failed" -eq 0 ]
