#!/bin/bash
# Fail-closed detours, part 2: a proxy that speaks garbage (an HTTP error to a SOCKS
# greeting, random bytes, a header that never ends), hangs up at once, asks for a
# method we cannot do, or refuses the destination with a SOCKS5 reply code. Every
# time the program's connect must fail quickly with a meaningful errno (python3
# exits with its own status 3: no crash), no descriptor may leak, the shim's log
# must say what the proxy sent, and the far server must see NOTHING.
# Verified to fail without the shim (SHIM=/nonexistent): every client then reaches
# the far server directly and its connect succeeds.
. "$(dirname "$0")/lib.sh"
. "$IT_DIR/proxy_lib.sh"
lab_up
shim_present
srv_start far $FAR4:8081
start_fake h400 http400 $B4_SRV:1092
start_fake rnd random $B4_SRV:1093
start_fake close close $B4_SRV:1094
start_fake huge hugehead $B4_SRV:1095
start_fake m2 socks5 $B4_SRV:1096 --method 2
start_fake mff socks5 $B4_SRV:1097 --method 255
start_fake rep3 socks5 $B4_SRV:1103 --rep 3
start_fake rep4 socks5 $B4_SRV:1104 --rep 4
start_fake rep5 socks5 $B4_SRV:1105 --rep 5
LOG=$T/far.log

conf() { # NAME TYPE SERVER [connect_timeout]
    proxy_conf "$1" "$2" "$3" <<<"connect_timeout = ${4:-3s}"
}

run_bare $PY $PROXY_CLIENT $FAR4 8081
[ "$RC" = 0 ] || note "bare run failed: $OUT"
: >"$LOG"

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

case_begin "http proxy whose response header never ends (64 KiB): a clean error, a log line"
run_shim "$(conf huge http $B4_SRV:1095)" $PY $PROXY_CLIENT $FAR4 8081 --fds
assert_eq "$RC" 3 "client exit status"
assert_eq "$(kv "$OUT" errno)" ECONNREFUSED "errno"
assert_le "$(kv "$OUT" elapsed)" 1 "seconds in connect"
assert_eq "$(kv "$OUT" fd_delta)" 0 "descriptors left open"
assert_match "$ERR" "dialshim: .*$B4_SRV:1095\): [^ ].*" "a log line"
assert_saw_nothing "$LOG" "far server"

case_begin "socks5 proxy demands user/pass (none configured) or offers no method: EACCES"
for m in m2:1096 mff:1097; do
    run_shim "$(conf ${m%%:*} socks5 $B4_SRV:${m#*:})" $PY $PROXY_CLIENT $FAR4 8081 --fds
    assert_eq "$RC" 3 "${m%%:*}: client exit status"
    assert_eq "$(kv "$OUT" errno)" EACCES "${m%%:*}: errno"
    assert_eq "$(kv "$OUT" fd_delta)" 0 "${m%%:*}: descriptors left open"
    assert_match "$ERR" "dialshim: .*result=EACCES.*$B4_SRV:${m#*:}\): [^ ].*" "${m%%:*}: a log line"
done
assert_saw_nothing "$LOG" "far server"

finish
