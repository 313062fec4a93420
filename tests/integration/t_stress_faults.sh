#!/bin/bash
# Fault injection with scripted proxies (tests/stress/fault_proxy.py), the cases
# t_proxy_fail.sh / t_proxy_garbage.sh do not have: a SOCKS5 proxy that resets the
# connection (RST) right after the greeting or after the request, closes after the
# greeting, answers a reply whose domain length is 255 and then closes (or stalls), a
# SOCKS4 / HTTP proxy that resets at once, an HTTP proxy that closes inside its status
# line. Each time ONE long-lived process makes 50 failing connects (dialshim(1) ERRORS): every
# one fails with the errno common/dialer/detour.c documents for it (EOF and RST in a
# handshake: ECONNRESET; a stall: ETIMEDOUT) within the deadline, each leaves a
# `dialshim: ... result=ERRNO p (TYPE ADDR): why` line on stderr, the process does
# not crash, its descriptor count (/proc/PID/fd, read from outside while it waits, and
# /proc/self/fd from inside) is what it was before the first connect, and the far
# server sees nothing: never a direct connection instead.
# Verified to fail without the shim (SHIM=/nonexistent): every connect then reaches the
# far server directly and succeeds.
. "$(dirname "$0")/lib.sh"
. "$IT_DIR/proxy_lib.sh"
. "$ROOT/tests/stress/lib.sh"
lab_up
shim_present
shim_kind_note
stress_build
srv_start far $FAR4:8081
LOG=$T/far.log

# fault_start NAME MODE PORT: fault_proxy.py MODE on 198.51.100.2:PORT, log $T/NAME.log.
fault_start() {
    local name=$1 mode=$2 port=$3 ready=$T/$1.ready i pid
    : >"$T/$name.log"
    in_srv timeout "$PLIFE" "$PY" "$FAULT_PROXY" "$mode" --log "$T/$name.log" --ready "$ready" \
        --life $((PLIFE - 5)) "$B4_SRV:$port" 2>"$T/$name.err" &
    pid=$!
    BG_PIDS+=("$pid")
    for i in $(seq 1 100); do
        [ -e "$ready" ] && return 0
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    fail "fault proxy $name did not start: $(cat "$T/$name.err")"
    return 1
}

fault_start rstg rst-greeting 1301
fault_start closeg close-greeting 1302
fault_start rstreq rst-request 1303
fault_start over oversize 1304
fault_start overstall oversize-stall 1305
fault_start rstany rst-any 1306
fault_start halfhttp half-http 1307

# failing_run CONF COUNT: `stress fail --count COUNT` through the shim in the background;
# while it holds after the last connect, counts /proc/PID/fd from outside (EXT_FDS).
# Sets RC, OUT, ERR, EXT_FDS.
failing_run() {
    local conf=$1 count=$2 pid i
    local -a envs
    mapfile -t envs < <(stress_env "$SHIM" leaks)
    : >"$T/fail.out"
    in_cli timeout "$STMO" env "${envs[@]}" DIALSHIM_CONFIG="$conf" DIALSHIM_LOG=warn \
        "$STRESS" fail --count "$count" --hold 1.5 $FAR4 8081 >"$T/fail.out" 2>"$T/fail.err" &
    pid=$!
    EXT_FDS=""
    for i in $(seq 1 600); do
        if grep -q '^holding' "$T/fail.out"; then
            local cpid
            cpid=$(sed -n 's/^pid=//p' "$T/fail.out")
            EXT_FDS=$(ls "/proc/$cpid/fd" 2>/dev/null | wc -l)
            break
        fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    wait "$pid"
    RC=$?
    OUT=$(cat "$T/fail.out")
    ERR=$(cat "$T/fail.err")
    note "stress fail --count $count -> rc=$RC: $(printf '%s' "$OUT" | tr '\n' ' ')"
    printf '%s\n' "$ERR" | head -n 3 | sed 's/^/    #   log: /' >&2
}

# check_failing TYPE PORT ERRNO MAX_SECONDS COUNT PROXYLOG: the assertions on a failing_run.
check_failing() {
    local type=$1 port=$2 want=$3 max=$4 count=$5 plog=$6 lines
    assert_eq "$RC" 0 "stress exit status (0: no connect succeeded, no descriptor left; >= 128: a crash)"
    assert_eq "$(kv "$OUT" connected)" 0 "connects that succeeded"
    assert_eq "$(kv "$OUT" errnos)" "$want:$count" "errnos of the $count connects"
    assert_le "$(kv "$OUT" max_connect_s)" "$max" "slowest failing connect (s)"
    assert_eq "$(kv "$OUT" fd_after)" "$(kv "$OUT" fd_before)" "descriptors after $count failures (/proc/self/fd)"
    assert_eq "$EXT_FDS" "$(kv "$OUT" fd_after)" "descriptors seen from outside (/proc/PID/fd) while it waits"
    lines=$(printf '%s\n' "$ERR" | grep -cE "^dialshim: .*result=$want p \($type $B4_SRV:$port\): [^ ]")
    assert_eq "$lines" "$count" "log lines 'dialshim: ... result=$want p ($type $B4_SRV:$port): why'"
    assert_ge "$(count_lines "$plog" "^PEER $B4_CLI ")" "$count" "connections the faulty proxy got"
    assert_eq "$(san_reports)" 0 "sanitizer reports"
    assert_saw_nothing "$LOG" "far server"
}

conf() { # NAME TYPE PORT [extra lines]
    proxy_conf "$1" "$2" "$B4_SRV:$3" <<<"connect_timeout = ${4:-3s}
${5:-}"
}

for hs in auto lockstep pipelined; do
    case_begin "socks5 proxy resets (RST) right after the greeting, handshake = $hs: 50 connects, ECONNRESET at once, no fd leaked, nothing direct"
    : >"$T/rstg.log"
    failing_run "$(conf rstg-$hs socks5 1301 3s "handshake = $hs")" 50
    check_failing socks5 1301 ECONNRESET 1 50 "$T/rstg.log"
done

case_begin "socks5 proxy closes (FIN) after the greeting without a word: 50 connects, ECONNRESET at once, no fd leaked, nothing direct"
failing_run "$(conf closeg socks5 1302)" 50
check_failing socks5 1302 ECONNRESET 1 50 "$T/closeg.log"
assert_match "$ERR" "the proxy closed the connection" "the log says the proxy closed"

case_begin "socks5 proxy resets after reading the request: 50 connects, ECONNRESET at once, no fd leaked, nothing direct"
failing_run "$(conf rstreq socks5 1303 3s "handshake = lockstep")" 50
check_failing socks5 1303 ECONNRESET 1 50 "$T/rstreq.log"

case_begin "socks5 reply with a domain of length 255, 16 bytes of it, then close: 50 connects, ECONNRESET at once, no fd leaked"
failing_run "$(conf over socks5 1304)" 50
check_failing socks5 1304 ECONNRESET 1 50 "$T/over.log"
assert_match "$ERR" "closed the connection after [0-9]+ bytes" "the log says how much of the reply came"

case_begin "socks5 reply with a domain of length 255, 16 bytes of it, then silence: ETIMEDOUT at connect_timeout (1 s), no fd leaked"
failing_run "$(conf overstall socks5 1305 1s "handshake = lockstep")" 3
check_failing socks5 1305 ETIMEDOUT 2.5 3 "$T/overstall.log"

case_begin "socks4 proxy resets at once: 50 connects, ECONNRESET at once, no fd leaked, nothing direct"
: >"$T/rstany.log"
failing_run "$(conf rstany4 socks4 1306)" 50
check_failing socks4 1306 ECONNRESET 1 50 "$T/rstany.log"

case_begin "http proxy resets at once: 50 connects, ECONNRESET at once, no fd leaked, nothing direct"
: >"$T/rstany.log"
failing_run "$(conf rstanyh http 1306)" 50
check_failing http 1306 ECONNRESET 1 50 "$T/rstany.log"

case_begin "http proxy closes inside its status line: 50 connects, ECONNRESET at once, no fd leaked, nothing direct"
failing_run "$(conf halfhttp http 1307)" 50
check_failing http 1307 ECONNRESET 1 50 "$T/halfhttp.log"

finish
