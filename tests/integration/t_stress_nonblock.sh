#!/bin/bash
# Stress of non-blocking dials (dialshim(1) NON-BLOCKING SOCKETS): one process, 16
# threads x 150 non-blocking connects each (STRESS_THREADS, STRESS_PER) through a local
# SOCKS5 proxy (microsocks), of which a third are closed at once, a third closed after
# a wait of up to 2 ms (racing the end of the dial in the driver) and a third waited
# for with poll and used. Zero failures, the far side saw only the proxy, the
# process's descriptors back where they started (the driver's duplicates and
# eventfds all closed), and no sanitizer report when the shim is an instrumented
# build (`make check SANITIZE=thread` runs this file under ThreadSanitizer).
# Verified to fail without the shim (SHIM=/nonexistent): the far side then sees
# 192.0.2.1. The sanitizer run: SHIM=build/san-thread/libdialshim.so.
. "$(dirname "$0")/lib.sh"
. "$IT_DIR/proxy_lib.sh"
. "$ROOT/tests/stress/lib.sh"
lab_up
shim_present
stress_build
stress_sysctls
serve_start echo $FAR4:9000
start_microsocks ms $B4_SRV 1080
N=${STRESS_THREADS:-16} PER=${STRESS_PER:-150}
PROXY=$(proxy_conf nb-proxy socks5 $B4_SRV:1080 <<<'connect_timeout = 5s
handshake = lockstep')

case_begin "$N threads x $PER non-blocking connects through microsocks, closes racing completions: all work, fds back"
t0=$(stats_get echo total)
run_with "$SHIM" "$PROXY" leaks -- "$STRESS" nb --threads "$N" --per "$PER" --expect $FAR4 $FAR4 9000
assert_eq "$RC" 0 "stress exit status ($(kv "$OUT" first_error))"
assert_eq "$(kv "$OUT" ok)" "$((N * PER))" "connects that worked (or were closed as asked)"
assert_eq "$(kv "$OUT" fail)" 0 "failures ($(kv "$OUT" errnos))"
assert_eq "$(kv "$OUT" fd_after)" "$(kv "$OUT" fd_before)" "open descriptors after the run"
assert_eq "$(san_reports)" 0 "sanitizer reports"
assert_eq "$(stats_get echo peer $A4_CLI)" 0 "connections the far side saw from the client itself"
assert_ge "$(($(stats_get echo total) - t0))" "$((N * PER / 3))" "connections the far side saw (the waited-for third at least)"

finish
