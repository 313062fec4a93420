#!/bin/bash
# HTTP CONNECT detour via tinyproxy (with and without Basic auth), and the
# server-first case: a far server that speaks first (`SSH-2.0-test\r\n` on accept)
# must have its banner arrive intact as the very first bytes the program reads: the
# shim may read only the proxy's reply (HTTP: up to CRLFCRLF; SOCKS5: a length that
# depends on the address type), never past it. Scripted proxies (proxy_fake.py) put
# reply and banner in ONE write, so the bytes are certainly queued together.
# Verified to fail without the shim (SHIM=/nonexistent): the clients reach the far
# servers directly (seen as 192.0.2.1), nothing reaches the proxies, and the scripted
# proxies' ports are not the banner server.
. "$(dirname "$0")/lib.sh"
. "$IT_DIR/proxy_lib.sh"
lab_up
shim_present
srv_start far $FAR4:8081
srv_start web --http $FAR4:8080
start_fake ssh banner $FAR4:2222
start_tinyproxy tp $B4_SRV 8888 $FAR4 8080 8081 2222 8082
# a second tinyproxy that wants Basic auth
TP_EXTRA="BasicAuth $DANTE_USER $DANTE_PASS" start_tinyproxy tpa $B4_SRV 8889 $FAR4 8081
start_fake fh http $B4_SRV:3128
start_fake f4 socks5 $B4_SRV:1084 --atyp ipv4
start_fake f6 socks5 $B4_SRV:1086 --atyp ipv6
start_fake fd socks5 $B4_SRV:1085 --atyp domain
start_fake th http $B4_SRV:3129 --trickle
start_fake ts socks5 $B4_SRV:1087 --atyp domain --trickle
start_dante dante 1081 none $FAR4
LOG=$T/far.log WLOG=$T/web.log SSH=$T/ssh.log TP=$T/tp.log
BANNER="b'SSH-2.0-test\\r\\n'"

HTTP=$(proxy_conf http http $B4_SRV:8888 <<<'connect_timeout = 3s')

case_begin "http CONNECT via tinyproxy: curl gets the page, far sees the proxy, tinyproxy the client"
run_bare curl -sS --max-time 5 http://$FAR4:8080/
assert_saw "$WLOG" $A4_CLI "bare run (lab sanity)"
run_shim "$HTTP" curl -sS --max-time 5 http://$FAR4:8080/
assert_eq "$RC" 0 "curl exit status"
assert_eq "$OUT" "you are $FAR4" "page"
assert_saw "$WLOG" $FAR4 "web server"
assert_match "$(cat "$TP")" "Connect \(file descriptor [0-9]+\): $B4_CLI" "tinyproxy log: client"
assert_match "$(cat "$TP")" "CONNECT $FAR4:8080 HTTP" "tinyproxy log: request"
: >"$TP"

case_begin "http CONNECT via tinyproxy: python3"
run_shim "$HTTP" $PY $PROXY_CLIENT $FAR4 8081
assert_eq "$RC" 0 "client exit status"
assert_eq "$(kv "$OUT" reply)" "you are $FAR4" "reply"
assert_saw "$LOG" $FAR4 "far server"
assert_match "$(cat "$TP")" "CONNECT $FAR4:8081 HTTP" "tinyproxy log: request"
: >"$TP"

case_begin "server-first banner through tinyproxy arrives intact as the first bytes"
run_bare $PY $PROXY_CLIENT $FAR4 2222 --first
assert_eq "$(kv "$OUT" first)" "$BANNER" "bare run (lab sanity)"
assert_saw "$SSH" $A4_CLI "bare run (lab sanity)"
run_shim "$HTTP" $PY $PROXY_CLIENT $FAR4 2222 --first
assert_eq "$RC" 0 "client exit status"
assert_eq "$(kv "$OUT" first)" "$BANNER" "first bytes read"
assert_eq "$(kv "$OUT" reply)" "hello" "echo after the banner"
assert_saw "$SSH" $FAR4 "banner server"

case_begin "server-first banner in the same write as the HTTP 200 (scripted proxy)"
CONF=$(proxy_conf fh http $B4_SRV:3128 <<<'connect_timeout = 3s')
run_shim "$CONF" $PY $PROXY_CLIENT $FAR4 2222 --first
assert_eq "$RC" 0 "client exit status"
assert_eq "$(kv "$OUT" first)" "$BANNER" "first bytes read"
assert_eq "$(kv "$OUT" reply)" "hello" "echo after the banner"
assert_match "$(cat "$T/fh.log")" "REQ CONNECT $FAR4:2222 HTTP/1\.[01]" "scripted proxy: the request"
assert_saw_nothing "$SSH" "banner server (the scripted proxy does not connect)"

for v in f4:ipv4 f6:ipv6 fd:domain; do
    name=${v%%:*} atyp=${v#*:}
    case $name in f4) port=1084 ;; f6) port=1086 ;; fd) port=1085 ;; esac
    for hs in auto lockstep; do
        case_begin "server-first banner in the same write as a SOCKS5 reply (bound address $atyp, handshake $hs)"
        CONF=$(proxy_conf "$name-$hs" socks5 $B4_SRV:$port <<<"handshake = $hs
connect_timeout = 3s")
        run_shim "$CONF" $PY $PROXY_CLIENT $FAR4 2222 --first
        assert_eq "$RC" 0 "client exit status"
        assert_eq "$(kv "$OUT" first)" "$BANNER" "first bytes read"
        assert_eq "$(kv "$OUT" reply)" "hello" "echo after the banner"
        assert_match "$(cat "$T/$name.log")" "REQ $FAR4 2222 cmd=1" "scripted proxy: the request"
        : >"$T/$name.log"
        assert_saw_nothing "$SSH" "banner server"
    done
done

case_begin "reply and banner trickled one byte at a time (http, socks5 with a domain bound address)"
for v in th:http:3129 ts:socks5:1087; do
    IFS=: read -r name type port <<<"$v"
    run_shim "$(proxy_conf "$name" "$type" $B4_SRV:$port <<<'connect_timeout = 3s')" \
        $PY $PROXY_CLIENT $FAR4 2222 --first
    assert_eq "$RC" 0 "$type: client exit status"
    assert_eq "$(kv "$OUT" first)" "$BANNER" "$type: first bytes read"
    assert_eq "$(kv "$OUT" reply)" "hello" "$type: echo after the banner"
    assert_match "$(cat "$T/$name.log")" "^REQ " "$type: the scripted proxy got the request"
done
assert_saw_nothing "$SSH" "banner server"

case_begin "http CONNECT to an IPv6 destination: bracketed authority and Host"
run_shim "$(proxy_conf fh6 http $B4_SRV:3128 <<<'connect_timeout = 3s')" $PY $PROXY_CLIENT $FAR6 2222 --first
assert_eq "$RC" 0 "client exit status"
assert_eq "$(kv "$OUT" first)" "$BANNER" "first bytes read"
assert_match "$(cat "$T/fh.log")" "^REQ CONNECT \[$FAR6\]:2222 HTTP/1\.[01]\$" "request line"
assert_match "$(cat "$T/fh.log")" "^HOST \[$FAR6\]:2222\$" "Host header"
: >"$T/fh.log"

case_begin "server-first banner through dante (socks5) arrives intact"
CONF=$(proxy_conf dante socks5 $B4_SRV:1081 <<<'connect_timeout = 3s')
run_shim "$CONF" $PY $PROXY_CLIENT $FAR4 2222 --first
assert_eq "$RC" 0 "client exit status"
assert_eq "$(kv "$OUT" first)" "$BANNER" "first bytes read"
assert_saw "$SSH" $FAR4 "banner server"

case_begin "http CONNECT with Basic auth (tinyproxy BasicAuth): right password works"
CONF=$(proxy_conf tpa http $B4_SRV:8889 <<EOF
username = $DANTE_USER
password = $DANTE_PASS
connect_timeout = 3s
EOF
)
run_shim "$CONF" $PY $PROXY_CLIENT $FAR4 8081
assert_eq "$RC" 0 "client exit status"
assert_eq "$(kv "$OUT" reply)" "you are $FAR4" "reply"
assert_saw "$LOG" $FAR4 "far server"
assert_no_match "$ERR" "$DANTE_PASS" "password in the log"

case_begin "http CONNECT with Basic auth: wrong password fails with EACCES, far sees nothing"
CONF=$(proxy_conf tpbad http $B4_SRV:8889 <<EOF
username = $DANTE_USER
password = wr0ng-pw-xyz
connect_timeout = 3s
EOF
)
run_shim "$CONF" $PY $PROXY_CLIENT $FAR4 8081 --fds
assert_eq "$RC" 3 "client exit status"
assert_eq "$(kv "$OUT" errno)" EACCES "errno"
assert_eq "$(kv "$OUT" fd_delta)" 0 "descriptors left open"
assert_saw_nothing "$LOG" "far server"
assert_match "$ERR" "dialshim: .*EACCES.*40[17]" "the shim's log line names the proxy's 401/407"

case_begin "http CONNECT to a closed port: tinyproxy's error becomes a quick connect failure"
run_shim "$HTTP" $PY $PROXY_CLIENT $FAR4 8082
assert_eq "$RC" 3 "client exit status"
assert_match "$(kv "$OUT" errno)" "^(ECONNREFUSED|EHOSTUNREACH|ENETUNREACH)$" "errno"
assert_le "$(kv "$OUT" elapsed)" 2 "seconds in connect"
assert_match "$ERR" "dialshim: .*(50[0-9])" "the shim's log line names the proxy's status"

finish
