#!/bin/bash
# Fail-closed detours: a proxy that is down, stalls, is unreachable, speaks garbage,
# hangs up, or refuses the destination. Every time the program's connect must fail
# quickly with a meaningful errno (python3 exits with its own status 3, no crash), no
# descriptor may leak, the shim's log must say what went wrong, and the far server
# must see NOTHING: never a direct connection instead, not even when the program
# calls connect again on the same socket.
# Verified to fail without the shim (SHIM=/nonexistent): every client then reaches
# the far server directly and its connect succeeds.
. "$(dirname "$0")/lib.sh"
. "$IT_DIR/proxy_lib.sh"
lab_up
shim_present
srv_start far $FAR4:8081
srv_start web --http $FAR4:8080
start_fake stall stall $B4_SRV:1091
start_fake h400 http400 $B4_SRV:1092
start_fake rnd random $B4_SRV:1093
start_fake close close $B4_SRV:1094
start_fake rep3 socks5 $B4_SRV:1103 --rep 3
start_fake rep4 socks5 $B4_SRV:1104 --rep 4
start_fake rep5 socks5 $B4_SRV:1105 --rep 5
LOG=$T/far.log WLOG=$T/web.log
# 198.51.100.2:1090: nothing listens (the server namespace answers with a RST)

conf() { # NAME TYPE SERVER [extra line]
    proxy_conf "$1" "$2" "$3" <<<"connect_timeout = ${4:-3s}"
}

run_bare $PY $PROXY_CLIENT $FAR4 8081
[ "$RC" = 0 ] || note "bare run failed: $OUT"
: >"$LOG"

for type in socks5 socks4 http; do
    case_begin "$type proxy down (nothing listens): ECONNREFUSED, nothing goes direct"
    run_shim "$(conf down-$type $type $B4_SRV:1090)" $PY $PROXY_CLIENT $FAR4 8081 --fds
    assert_eq "$RC" 3 "client exit status"
    assert_eq "$(kv "$OUT" errno)" ECONNREFUSED "errno"
    assert_le "$(kv "$OUT" elapsed)" 1 "seconds in connect"
    assert_eq "$(kv "$OUT" fd_delta)" 0 "descriptors left open"
    assert_match "$ERR" "dialshim: .*result=ECONNREFUSED.*$B4_SRV:1090" "the shim's log line"
    assert_saw_nothing "$LOG" "far server"
done

case_begin "proxy down: curl fails, nothing goes direct"
run_shim "$(conf down-curl socks5 $B4_SRV:1090)" curl -sS --max-time 5 http://$FAR4:8080/
assert_eq "$RC" 7 "curl exit status (7: could not connect)"
assert_saw_nothing "$WLOG" "web server"

case_begin "proxy down: connecting again on the same socket (3 retries) must never go direct"
run_shim "$(conf down-again socks5 $B4_SRV:1090)" $PY $PROXY_CLIENT $FAR4 8081 --again=3
assert_eq "$RC" 3 "client exit status"
assert_eq "$(kv "$OUT" errno)" ECONNREFUSED "errno of the first connect"
assert_no_match "$OUT" "^again[0-9]+=0$" "a retry on the same socket connected"
assert_eq "$(kv "$OUT" again_reply)" "" "reply to a retry"
assert_saw_nothing "$LOG" "far server"

case_begin "proxy down: asyncio (non-blocking connect) gets ECONNREFUSED, nothing goes direct"
run_shim "$(conf down-aio socks5 $B4_SRV:1090)" $PY $PYCLIENT asyncio $FAR4 8081
assert_eq "$RC" 3 "client exit status"
assert_eq "$(kv "$OUT" errno)" ECONNREFUSED "errno"
assert_saw_nothing "$LOG" "far server"

for hs in auto lockstep; do
    case_begin "stalled socks5 proxy (handshake $hs), connect_timeout = 1s: ETIMEDOUT in about 1 s"
    run_shim "$(proxy_conf stall-$hs socks5 $B4_SRV:1091 <<<"connect_timeout = 1s
handshake = $hs")" $PY $PROXY_CLIENT $FAR4 8081 --fds
    assert_eq "$RC" 3 "client exit status"
    assert_eq "$(kv "$OUT" errno)" ETIMEDOUT "errno"
    assert_le "$(kv "$OUT" elapsed)" 3 "seconds in connect"
    assert_ge "$(kv "$OUT" elapsed)" 0.7 "seconds in connect"
    assert_eq "$(kv "$OUT" fd_delta)" 0 "descriptors left open"
    assert_match "$(cat "$T/stall.log")" "^PEER $B4_CLI " "the stalled proxy was reached"
    : >"$T/stall.log"
    assert_match "$ERR" "dialshim: .*result=ETIMEDOUT" "the shim's log line"
    assert_saw_nothing "$LOG" "far server"
done

case_begin "stalled http proxy, connect_timeout = 1s: ETIMEDOUT in about 1 s"
run_shim "$(conf stall-http http $B4_SRV:1091 1s)" $PY $PROXY_CLIENT $FAR4 8081
assert_eq "$RC" 3 "client exit status"
assert_eq "$(kv "$OUT" errno)" ETIMEDOUT "errno"
assert_le "$(kv "$OUT" elapsed)" 3 "seconds in connect"
assert_saw_nothing "$LOG" "far server"

case_begin "unreachable proxy (its SYNs vanish), connect_timeout = 1s: ETIMEDOUT in about 1 s"
run_shim "$(conf silent socks5 $SILENT4:1080 1s)" $PY $PROXY_CLIENT $FAR4 8081 --fds
assert_eq "$RC" 3 "client exit status"
assert_eq "$(kv "$OUT" errno)" ETIMEDOUT "errno"
assert_le "$(kv "$OUT" elapsed)" 3 "seconds in connect"
assert_ge "$(kv "$OUT" elapsed)" 0.7 "seconds in connect"
assert_eq "$(kv "$OUT" fd_delta)" 0 "descriptors left open"
assert_saw_nothing "$LOG" "far server"

# garbage: the proxy's name, its mode and what the log should mention
for g in "socks5 h400 1092" "socks5 rnd 1093" "socks4 h400 1092" "socks4 rnd 1093" "http rnd 1093"; do
    set -- $g
    type=$1 name=$2 port=$3
    case_begin "$type dialer, proxy answers $([ "$name" = h400 ] && echo 'HTTP/1.1 400' || echo 'random bytes'): ECONNREFUSED, a log line, no crash"
    for hs in auto lockstep; do
        [ "$type" != socks5 ] && [ "$hs" = lockstep ] && continue
        run_shim "$(proxy_conf g-$type-$name-$hs $type $B4_SRV:$port <<<"connect_timeout = 3s
handshake = $hs")" $PY $PROXY_CLIENT $FAR4 8081 --fds
        assert_eq "$RC" 3 "client exit status ($hs)"
        assert_eq "$(kv "$OUT" errno)" ECONNREFUSED "errno ($hs)"
        assert_le "$(kv "$OUT" elapsed)" 1 "seconds in connect ($hs)"
        assert_eq "$(kv "$OUT" fd_delta)" 0 "descriptors left open ($hs)"
        assert_match "$ERR" "dialshim: .*result=ECONNREFUSED p \($type $B4_SRV:$port\): [^ ].*" "a log line explaining what the proxy sent ($hs)"
        assert_saw_nothing "$LOG" "far server ($hs)"
    done
done

case_begin "http dialer, proxy answers HTTP/1.1 400: ECONNREFUSED, the log names the status"
run_shim "$(conf g-http-h400 http $B4_SRV:1092)" $PY $PROXY_CLIENT $FAR4 8081
assert_eq "$RC" 3 "client exit status"
assert_eq "$(kv "$OUT" errno)" ECONNREFUSED "errno"
assert_match "$ERR" "dialshim: .*result=ECONNREFUSED.*400" "the log line names the status"
assert_saw_nothing "$LOG" "far server"

for type in socks5 socks4 http; do
    case_begin "$type proxy hangs up at once: a quick error, a log line, nothing direct"
    run_shim "$(conf close-$type $type $B4_SRV:1094)" $PY $PROXY_CLIENT $FAR4 8081 --fds
    assert_eq "$RC" 3 "client exit status"
    assert_match "$(kv "$OUT" errno)" "^(ECONNREFUSED|ECONNRESET|ECONNABORTED)$" "errno"
    assert_le "$(kv "$OUT" elapsed)" 1 "seconds in connect"
    assert_eq "$(kv "$OUT" fd_delta)" 0 "descriptors left open"
    assert_match "$ERR" "dialshim: .*$B4_SRV:1094\): [^ ].*" "a log line"
    assert_saw_nothing "$LOG" "far server"
done

case_begin "SOCKS5 reply codes map to errno: 3 -> ENETUNREACH, 4 -> EHOSTUNREACH, 5 -> ECONNREFUSED"
for m in 3:ENETUNREACH 4:EHOSTUNREACH 5:ECONNREFUSED; do
    rep=${m%%:*} want=${m#*:}
    run_shim "$(conf rep$rep socks5 $B4_SRV:110$rep)" $PY $PROXY_CLIENT $FAR4 8081
    assert_eq "$RC" 3 "REP $rep: client exit status"
    assert_eq "$(kv "$OUT" errno)" "$want" "REP $rep: errno"
    assert_match "$(cat "$T/rep$rep.log")" "REQ $FAR4 8081" "REP $rep: the proxy got the request"
done
assert_saw_nothing "$LOG" "far server"

finish
