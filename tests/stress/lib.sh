# shellcheck shell=bash
# Sourced by tests/integration/t_stress_*.sh after lib.sh (and proxy_lib.sh /
# names_lib.sh where needed): the stress program, its echo server, and running a client
# through a shim that may be built with a sanitizer.
#
# A sanitized shim (make SANITIZE=address,undefined -> build/san-address,undefined/,
# SANITIZE=thread -> build/san-thread/) cannot simply be preloaded into a program that
# is not itself instrumented: the sanitizer runtime must come first in the initial
# library list. stress_env does that: it reads the shim's DT_NEEDED libasan/libtsan/
# libubsan and preloads that runtime before the shim, sends every report to files under
# $T/san/ (san_reports counts and shows them), and keeps leak checking on for the
# stress program only (python3 and sh have leaks of their own).
#
# Safety as lib.sh: lab namespaces and addresses only; every process under timeout.

STRESS_SRC=$ROOT/tests/stress/stress.c
STRESS=$T/stress
FAULT_PROXY=$ROOT/tests/stress/fault_proxy.py
STMO=${STMO:-40} # seconds any stress client may run
# The ASan/UBSan build the *_san cases use when the shim under test is a plain one.
SAN_SHIM=${SAN_SHIM:-$ROOT/build/san-address,undefined/libdialshim.so}

# stress_build: compiles tests/stress/stress.c (uninstrumented: the shim is what we test).
stress_build() {
    ${CC:-cc} -O2 -g -Wall -Wextra -pthread -o "$STRESS" "$STRESS_SRC" 2>"$T/stress-cc.err" || {
        echo "FAIL - stress: cannot build $STRESS_SRC: $(head -c 300 "$T/stress-cc.err")"
        exit 1
    }
}

# stress_sysctls: per-namespace settings so that tens of thousands of short connections
# in a few seconds do not run out of ephemeral ports (only in the lab's namespaces).
stress_sysctls() {
    local ns
    for ns in "$CLI" "$SRV"; do
        ip netns exec "$ns" sysctl -qw net.ipv4.ip_local_port_range="10000 65000" \
            net.ipv4.tcp_tw_reuse=1 net.core.somaxconn=4096 net.ipv4.tcp_max_syn_backlog=4096 \
            >/dev/null 2>&1
    done
}

# serve_start NAME ADDR:PORT...: the stress echo server in the server namespace; its
# counts go to $T/NAME.stats ("total N", "peer IP N").
serve_start() {
    local name=$1 i
    shift
    : >"$T/$name.out"
    in_srv timeout 150 "$STRESS" serve --life 140 --stats "$T/$name.stats" "$@" \
        >"$T/$name.out" 2>"$T/$name.err" &
    BG_PIDS+=($!)
    for i in $(seq 1 100); do
        grep -q listening "$T/$name.out" 2>/dev/null && return 0
        sleep 0.05
    done
    fail "stress server $name did not start: $(cat "$T/$name.err")"
    return 1
}

# stats_get NAME KEY...: "total" or "peer IP": the count (0 when absent). Waits until
# the file has settled (the server rewrites it every 0.1 s).
stats_get() {
    local f=$T/$1.stats
    shift
    sleep 0.3
    awk -v k="$*" '{ v = $NF; $NF = ""; sub(/ $/, ""); if ($0 == k) { print v; found = 1 } }
        END { if (!found) print 0 }' "$f" 2>/dev/null
}

# san_kind SHIM: address, thread, undefined or "" (from the shim's DT_NEEDED).
san_kind() {
    local needed
    needed=$(ldd "$1" 2>/dev/null)
    case $needed in
    *libasan*) echo address ;;
    *libtsan*) echo thread ;;
    *libubsan*) echo undefined ;;
    *) echo "" ;;
    esac
}

# san_runtime SHIM: the path of the sanitizer runtime the shim needs, or "".
san_runtime() {
    local l
    l=$(ldd "$1" 2>/dev/null)
    printf '%s\n' "$l" | awk '$1 ~ /^lib(asan|tsan)\.so/ { print $3; exit }' | grep . ||
        printf '%s\n' "$l" | awk '$1 ~ /^libubsan\.so/ { print $3; exit }'
}

# stress_env SHIM [leaks]: prints env assignments (one per line) that run a program with
# SHIM preloaded (its sanitizer runtime first); "leaks" keeps LeakSanitizer on.
stress_env() {
    local shim=$1 leaks=${2:-noleaks} rt
    rt=$(san_runtime "$shim")
    mkdir -p "$T/san"
    if [ -n "$rt" ]; then
        echo "LD_PRELOAD=$rt $shim"
    else
        echo "LD_PRELOAD=$shim"
    fi
    echo "ASAN_OPTIONS=log_path=$T/san/asan:detect_leaks=$([ "$leaks" = leaks ] && echo 1 || echo 0):handle_segv=1:detect_stack_use_after_return=0"
    echo "UBSAN_OPTIONS=log_path=$T/san/ubsan:print_stacktrace=1:halt_on_error=0"
    echo "TSAN_OPTIONS=log_path=$T/san/tsan:halt_on_error=0:second_deadlock_stack=1"
    echo "LSAN_OPTIONS=log_path=$T/san/lsan"
}

# san_reports: how many sanitizer report files there are (and shows the first lines
# of each as diagnostics); san_clear removes them.
san_reports() {
    local n=0 f
    for f in "$T"/san/*; do
        [ -f "$f" ] || continue
        n=$((n + 1))
        note "sanitizer report $(basename "$f"):"
        grep -E 'ERROR|WARNING|runtime error|SUMMARY|^    #[0-9]+ ' "$f" | head -n 25 | sed 's/^/    #   /' >&2
        cp "$f" "${SAN_KEEP:-/tmp}/dialshim-$(basename "$f").$$" 2>/dev/null
    done
    echo "$n"
}
san_clear() { rm -f "$T"/san/*; }

# run_with SHIM CONF [leaks] -- CMD...: runs CMD in the client namespace with SHIM
# (sanitizer runtime first, if any), DIALSHIM_CONFIG=CONF and DIALSHIM_LOG=${SLOG:-warn}.
# Sets RC, OUT, ERR (the shim's log).
run_with() {
    local shim=$1 conf=$2 leaks=noleaks
    shift 2
    [ "${1:-}" = leaks ] && { leaks=leaks; shift; }
    [ "${1:-}" = -- ] && shift
    local -a envs
    mapfile -t envs < <(stress_env "$shim" "$leaks")
    in_cli timeout "$STMO" env "${envs[@]}" DIALSHIM_CONFIG="$conf" DIALSHIM_LOG="${SLOG:-warn}" \
        "$@" >"$T/run.out" 2>"$T/run.err"
    RC=$?
    OUT=$(cat "$T/run.out")
    ERR=$(cat "$T/run.err")
    note "\$ $*  -> rc=$RC"
    [ -n "$OUT" ] && note "stdout: $(printf '%s' "$OUT" | tr '\n' ' ' | head -c 600)"
    [ -n "$ERR" ] && printf '%s\n' "$ERR" | head -n 8 | sed 's/^/    #   log: /' >&2
    return 0
}

# shim_kind_note: says which shim runs (and its sanitizer).
shim_kind_note() {
    local k
    k=$(san_kind "$SHIM")
    note "shim under test: $SHIM${k:+ (sanitizer: $k, runtime $(san_runtime "$SHIM"))}"
}
