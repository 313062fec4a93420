#!/bin/bash
# Fail-closed detours: a proxy that is down, stalls or is unreachable (garbage,
# hang-ups and refusals: t_proxy_garbage.sh). Every time the program's connect must fail
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

finish
