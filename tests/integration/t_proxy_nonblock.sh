#!/bin/bash
# Non-blocking clients through a detour: python asyncio, node's http.get (libuv),
# curl --parallel with 20 transfers at once, and a hand-made client that sets
# options, O_NONBLOCK and an epoll registration BEFORE connect and checks they all
# survive the proxied connect (pyclient.py opts). Proxies: dante (socks5, takes
# pipelining) and tinyproxy (http); dante is also reached over IPv6 from an IPv4
# socket, which makes the shim replace the program's socket inside connect.
# Verified to fail without the shim (SHIM=/nonexistent): every client reaches the far
# server directly, which then sees 192.0.2.1.
. "$(dirname "$0")/lib.sh"
. "$IT_DIR/proxy_lib.sh"
lab_up
shim_present
srv_start far $FAR4:8081
srv_start web --http $FAR4:8080
start_dante dante 1081 none $FAR4
start_tinyproxy tp $B4_SRV 8888 $FAR4 8080 8081
LOG=$T/far.log WLOG=$T/web.log DL=$T/dante.log

S5=$(proxy_conf s5 socks5 $B4_SRV:1081 <<<'connect_timeout = 3s')
S5V6=$(proxy_conf s5v6 socks5 "[$B6_SRV]:1081" <<<'connect_timeout = 3s')
HTTP=$(proxy_conf http http $B4_SRV:8888 <<<'connect_timeout = 3s')

case_begin "asyncio.open_connection through socks5 (dante)"
run_bare $PY $PYCLIENT asyncio $FAR4 8081
assert_saw "$LOG" $A4_CLI "bare run (lab sanity)"
run_shim "$S5" $PY $PYCLIENT asyncio $FAR4 8081
assert_eq "$RC" 0 "client exit status"
assert_eq "$(kv "$OUT" reply)" "you are $FAR4" "reply"
assert_saw "$LOG" $FAR4 "far server"

case_begin "asyncio.open_connection through http CONNECT (tinyproxy)"
run_shim "$HTTP" $PY $PYCLIENT asyncio $FAR4 8081
assert_eq "$RC" 0 "client exit status"
assert_eq "$(kv "$OUT" reply)" "you are $FAR4" "reply"
assert_saw "$LOG" $FAR4 "far server"
assert_match "$(cat "$T/tp.log")" "Connect \(file descriptor [0-9]+\): $B4_CLI" "tinyproxy log"

if [ -x /usr/bin/node ]; then
    case_begin "node http.get through socks5 (dante)"
    JS="require('http').get('http://$FAR4:8080/', r => { let b = ''; r.on('data', d => b += d);
        r.on('end', () => { process.stdout.write('status=' + r.statusCode + '\nbody=' + b); }); })
        .on('error', e => { console.log('error=' + e.code); process.exitCode = 3; });"
    run_shim "$S5" /usr/bin/node -e "$JS"
    assert_eq "$RC" 0 "node exit status"
    assert_eq "$(kv "$OUT" status)" 200 "HTTP status"
    assert_eq "$(kv "$OUT" body)" "you are $FAR4" "body"
    assert_saw "$WLOG" $FAR4 "web server"
fi

case_begin "curl --parallel --parallel-max 20: 20 transfers through socks5 all succeed"
args=()
for i in $(seq 1 20); do args+=(-o /dev/null "http://$FAR4:8080/$i"); done
run_shim "$S5" curl -sS --max-time 8 --parallel --parallel-max 20 -w '%{http_code}\n' "${args[@]}"
assert_eq "$RC" 0 "curl exit status"
assert_eq "$(grep -c '^200$' <<<"$OUT")" 20 "transfers answered 200"
assert_eq "$(peers "$WLOG" | grep -c "^$FAR4\$")" 20 "connections the web server saw from the proxy"
assert_eq "$(peers "$WLOG" | grep -vc "^$FAR4\$")" 0 "connections the web server saw from elsewhere"
: >"$WLOG"

case_begin "socks5: options, O_NONBLOCK and an epoll registration made before connect survive"
run_shim "$S5" $PY $PYCLIENT opts $FAR4 8081 --nonblock
assert_eq "$RC" 0 "client exit status (5: something was lost)"
assert_eq "$(kv "$OUT" lost)" "" "lost"
assert_match "$(kv "$OUT" connect)" "^(0|EINPROGRESS)$" "connect's result"
assert_eq "$(kv "$OUT" reply)" "you are $FAR4" "reply"
assert_saw "$LOG" $FAR4 "far server"

case_begin "socks5: options and FD_CLOEXEC survive on a blocking socket (both settings)"
for inh in "" --inheritable; do
    run_shim "$S5" $PY $PYCLIENT opts $FAR4 8081 $inh
    assert_eq "$RC" 0 "client exit status ${inh:-cloexec} (5: something was lost)"
    assert_eq "$(kv "$OUT" lost)" "" "lost ${inh:-cloexec}"
    assert_eq "$(kv "$OUT" reply)" "you are $FAR4" "reply ${inh:-cloexec}"
done
: >"$LOG"

case_begin "socks5 proxy over IPv6 from an IPv4 socket (the shim swaps the socket): options and flags survive"
# An AF_INET socket cannot reach an IPv6 proxy: the shim dup3()s an AF_INET6 socket
# over it inside connect. The program's options and descriptor flags must be copied.
# (An epoll registration made before connect cannot survive that swap; not asserted.)
for inh in "" --inheritable; do
    run_shim "$S5V6" $PY $PYCLIENT opts $FAR4 8081 $inh
    assert_eq "$RC" 0 "client exit status ${inh:-cloexec} (5: something was lost)"
    assert_eq "$(kv "$OUT" lost)" "" "lost ${inh:-cloexec}"
    assert_eq "$(kv "$OUT" reply)" "you are $FAR4" "reply ${inh:-cloexec}"
done
assert_saw "$LOG" "$FAR4 $FAR4" "far server"

finish
