#!/bin/bash
# Non-blocking dials, event loops: python asyncio (50 connections at once), node
# net.connect (30), curl --parallel (20), each through a proxy chain whose last (or
# first) hop is a barrier (nb_lib.sh): it answers nobody until every connection of the
# program is pending at the same moment, so the loop must have had all its dials in
# flight at once, seen by the proxy, not by a clock. Then a stalled proxy on one
# connection while 10 direct connections of the same loop finish first.
# Chains: dante (username/password, out from 203.0.113.2) -> barrier (192.0.2.2:109x,
# out from 192.0.2.2) -> far (203.0.113.2:8081); for curl barrier -> tinyproxy
# (198.51.100.2:8888, out from 198.51.100.2) -> web (203.0.113.2:8080).
# Fails on the code before non-blocking dials: each connect() completes its dial
# inside the call, so the barrier never fills (GIVEUP, the client times out) and the
# stalled connect stops the loop until connect_timeout, before any direct one ends.
# Without the shim (SHIM=/nonexistent) the clients reach the far servers directly.
. "$(dirname "$0")/lib.sh"
. "$IT_DIR/proxy_lib.sh"
. "$IT_DIR/nb_lib.sh"
lab_up
shim_present
nbp_start far far $FAR4:8081
srv_start web --http $FAR4:8080
start_dante dauth 1083 username $FAR4
nbp_start b50 socks5 $A4_SRV:1090 --barrier 50 --bind $A4_SRV
nbp_start b30 socks5 $A4_SRV:1091 --barrier 30 --bind $A4_SRV
nbp_start b20 socks5 $A4_SRV:1092 --barrier 20 --bind $A4_SRV
start_tinyproxy tp $B4_SRV 8888 $B4_SRV 8080
start_fake stall stall $A4_SRV:1095
CTMO=20

chain() { # NAME BARRIER_PORT: dante with a password, then the barrier
    write_conf "$1" <<EOF
[dialer d]
type = socks5
server = $B4_SRV:1083
username = $DANTE_USER
password = $DANTE_PASS

[dialer b]
type = socks5
server = $A4_SRV:$2
handshake = pipelined
detour = d
connect_timeout = 10s

[app all]
match = *
dialer = b
EOF
}

case_begin "asyncio: 50 open_connection at once via dante (user/pass) -> barrier: all 50 pending at once, all exchange bytes"
run_shim "$(chain c50 1090)" $PY $NB_CLIENT gather $FAR4 8081 50
assert_eq "$RC" 0 "client exit status"
assert_eq "$(kv "$OUT" ok)" 50 "connections that got the far server's line"
assert_eq "$(kv "$OUT" replies)" "you are $A4_SRV" "what the far server answered (it saw the barrier proxy)"
assert_eq "$(kv "$OUT" peers)" "$FAR4:8081" "getpeername (asyncio's peername) is the destination asked for"
assert_eq "$(plog_count b50 BARRIER)" 1 "the barrier saw 50 requests pending at once"
assert_eq "$(plog_count b50 GIVEUP)" 0 "requests the barrier gave up on"
assert_eq "$(count_lines "$T/dauth.log" "tcp/connect \[: username%$DANTE_USER@$B4_CLI\.[0-9]+ $B4_SRV\.1083 -> $FAR4\.[0-9]+ $A4_SRV\.1090")" 50 "dante: 50 authenticated connects to the barrier"
assert_eq "$(peers "$T/far.log" | grep -c "^$A4_SRV\$")" 50 "far server: connections from the barrier proxy"

if [ -x /usr/bin/node ]; then
    case_begin "node: 30 net.connect at once via dante (user/pass) -> barrier: all pending at once, all exchange bytes"
    : >"$T/far.log"
    JS="const net = require('net'); let ok = 0, done = 0; const rep = new Set(), peer = new Set();
    for (let i = 0; i < 30; i++) {
        const s = net.connect(8081, '$FAR4'); let b = '';
        s.setTimeout(9000, () => s.destroy());
        s.on('data', d => { if (b.includes('\n')) return; b += d; if (b.includes('\n')) { rep.add(b.trim());
            ok += b.startsWith('you are '); peer.add(s.remoteAddress + ':' + s.remotePort); s.end('x'); } });
        s.on('error', e => rep.add('error:' + e.code));
        s.on('close', () => { if (++done == 30) console.log('ok=' + ok + '\nreplies=' + [...rep].join(';')
            + '\npeers=' + [...peer].join(';')); });
    }"
    run_shim "$(chain c30 1091)" /usr/bin/node -e "$JS"
    assert_eq "$RC" 0 "node exit status"
    assert_eq "$(kv "$OUT" ok)" 30 "connections that got the far server's line"
    assert_eq "$(kv "$OUT" replies)" "you are $A4_SRV" "what the far server answered"
    assert_eq "$(kv "$OUT" peers)" "$FAR4:8081" "remoteAddress (getpeername) is the destination asked for"
    assert_eq "$(plog_count b30 BARRIER)" 1 "the barrier saw 30 requests pending at once"
    assert_eq "$(peers "$T/far.log" | grep -c "^$A4_SRV\$")" 30 "far server: connections from the barrier proxy"
fi

case_begin "curl --parallel: 20 transfers via barrier -> tinyproxy (HTTP CONNECT): all pending at once, all 200"
CURLCONF=$(write_conf curl <<EOF
[dialer b]
type = socks5
server = $A4_SRV:1092
handshake = pipelined

[dialer tp]
type = http
server = $B4_SRV:8888
detour = b
connect_timeout = 10s

[app all]
match = *
dialer = tp
EOF
)
args=()
for i in $(seq 1 20); do args+=(-o /dev/null "http://$FAR4:8080/$i"); done
run_shim "$CURLCONF" curl -sS --max-time 15 --parallel --parallel-immediate --parallel-max 20 \
    -w '%{http_code}\n' "${args[@]}"
assert_eq "$RC" 0 "curl exit status"
assert_eq "$(grep -c '^200$' <<<"$OUT")" 20 "transfers answered 200"
assert_eq "$(plog_count b20 BARRIER)" 1 "the barrier saw 20 requests pending at once"
assert_eq "$(count_lines "$T/tp.log" "CONNECT $FAR4:8080 HTTP")" 20 "tinyproxy: the CONNECTs"
assert_eq "$(count_lines "$T/tp.log" "Connect \(file descriptor [0-9]+\): $A4_SRV\$")" 20 "tinyproxy: its clients were the barrier"
assert_eq "$(peers "$T/web.log" | grep -c "^$B4_SRV\$")" 20 "web server: connections from tinyproxy"

case_begin "a stalled proxy on one connection: 10 direct connections of the same loop finish first"
STALL=$(write_conf stall <<EOF
[dialer st]
type = socks5
server = $A4_SRV:1095
connect_timeout = 3s

[app all]
match = *
dialer = direct
route = port:9999 -> st
EOF
)
: >"$T/far.log"
run_shim "$STALL" $PY $NB_CLIENT stalled $FAR4 9999 $FAR4 8081 10
assert_eq "$RC" 0 "client exit status"
assert_eq "$(kv "$OUT" order)" "d,d,d,d,d,d,d,d,d,d,s" "the order the connections ended (d: direct, s: stalled)"
assert_eq "$(peers "$T/stall.log" | tr '\n' ' ')" "$A4_CLI " "the stalled proxy had the connection"
assert_eq "$(peers "$T/far.log" | grep -c "^$A4_CLI\$")" 10 "far server: the direct connections"

finish
