#!/bin/bash
# Non-blocking dials seen by hand-made clients, through a 2-hop chain dante (socks5,
# 198.51.100.2:1081, out from 203.0.113.2) -> release proxy (nb_lib.sh, 192.0.2.2:1093,
# out from 192.0.2.2, answers only once a file exists) -> far (203.0.113.2:8081):
#   - nbprobe (C): epoll edge-triggered registered BEFORE connect (nginx), poll (curl),
#     select: connect gives EINPROGRESS; while the last proxy holds every request
#     (the kernel socket to dante is long writable) nothing is reported ready, send
#     and recv give EAGAIN, a second connect EALREADY, getpeername ENOTCONN; once
#     released each becomes writable with SO_ERROR 0, reads the far server's line,
#     a second connect gives EISCONN and getpeername the destination;
#   - the same with epoll when a vfork child (a spawn with close_fds) closed every
#     descriptor between the registrations and the connects: it ran in the probe's
#     memory, and before the fix (verified) its close_range dropped the probe's
#     epoll records there (no dial record yet), so the 8 pending sockets were
#     reported ready at once (early_ready=8);
#   - a refused destination (dante REP 5; a scripted proxy's REP 5): EINPROGRESS,
#     then writable with SO_ERROR = ECONNREFUSED;
#   - getpeername/getsockname on proxied sockets, blocking (socks5, http, 2-hop
#     chain, a fake address) and non-blocking: the destination the program asked
#     for, and the real local address (the port dante logged).
# Fails on the code before non-blocking dials: connect() completes the dial inside
# the call (no EINPROGRESS; the release proxy holds it until its fail-safe answers
# REP 1), and getpeername gives the proxy's address. Without the shim
# (SHIM=/nonexistent) every client reaches the far server directly.
. "$(dirname "$0")/lib.sh"
. "$IT_DIR/proxy_lib.sh"
. "$IT_DIR/nb_lib.sh"
lab_up
shim_present
nbp_start far far $FAR4:8081
start_dante dante 1081 none $FAR4
nbp_start rel socks5 $A4_SRV:1093 --release "$T/go" --bind $A4_SRV
start_tinyproxy tp $B4_SRV 8888 $B4_SRV 8081
start_fake fk socks5 $A4_SRV:1094
[ -x "$NBPROBE" ] || fail "$NBPROBE not built"
CTMO=20

CHAIN=$(write_conf chain <<EOF
[dialer d]
type = socks5
server = $B4_SRV:1081

[dialer r]
type = socks5
server = $A4_SRV:1093
handshake = pipelined
detour = d
connect_timeout = 10s

[app all]
match = *
dialer = r
EOF
)

for mode in epoll poll select epoll-vfork; do
    case_begin "$mode: 8 dials via dante -> held proxy: pending is invisible, then all complete and read"
    rm -f "$T/go"
    : >"$T/rel.log"
    : >"$T/far.log"
    run_shim "$CHAIN" "$NBPROBE" $mode $FAR4 8081 8 "$T/rel.log" "$T/go"
    assert_eq "$RC" 0 "probe exit status"
    [ $mode = epoll-vfork ] && assert_eq "$(kv "$OUT" spawned)" yes "the vfork child ran"
    assert_eq "$(kv "$OUT" einprogress)" 8 "connects that gave EINPROGRESS"
    assert_eq "$(kv "$OUT" reqs)" 8 "requests the last proxy held"
    assert_eq "$(kv "$OUT" early_ready)" 0 "sockets reported ready while pending"
    assert_eq "$(kv "$OUT" pending_send)" EAGAIN "send while pending"
    assert_eq "$(kv "$OUT" pending_recv)" EAGAIN "recv while pending"
    assert_eq "$(kv "$OUT" pending_connect)" EALREADY "a second connect while pending"
    assert_eq "$(kv "$OUT" pending_peer)" ENOTCONN "getpeername while pending"
    assert_eq "$(kv "$OUT" writable)" 8 "sockets that became writable"
    assert_eq "$(kv "$OUT" so_error_zero)" 8 "SO_ERROR 0 after writability"
    assert_eq "$(kv "$OUT" ok)" 8 "sockets that read the far server's line"
    assert_eq "$(kv "$OUT" reply)" "you are $A4_SRV" "the line (the far server saw the last proxy)"
    assert_eq "$(kv "$OUT" after_connect)" EISCONN "a second connect after success"
    assert_eq "$(kv "$OUT" peer)" "$FAR4:8081" "getpeername after success"
    assert_eq "$(plog_count rel GIVEUP)" 0 "requests the proxy gave up on"
    assert_eq "$(count_lines "$T/rel.log" "^PEER $FAR4 ")" 8 "the last proxy's clients were dante"
    assert_eq "$(peers "$T/far.log" | grep -c "^$A4_SRV\$")" 8 "far server: connections from the last proxy"
done

case_begin "a refused destination: EINPROGRESS, then writable with SO_ERROR ECONNREFUSED (dante and REP 5)"
touch "$T/go"
S5=$(proxy_conf s5 socks5 $B4_SRV:1081 <<<'connect_timeout = 5s')
run_shim "$S5" $PY $NB_CLIENT refused $FAR4 8089
assert_eq "$RC" 0 "client exit status"
assert_eq "$(kv "$OUT" connect)" EINPROGRESS "dante: connect"
assert_eq "$(kv "$OUT" writable)" 1 "dante: writable"
assert_eq "$(kv "$OUT" so_error)" ECONNREFUSED "dante: SO_ERROR"
assert_match "$(cat "$T/dante.log")" "$FAR4\.8089" "dante tried the destination"
REP5=$(proxy_conf rep5 socks5 $A4_SRV:1093 <<<'connect_timeout = 5s')
run_shim "$REP5" $PY $NB_CLIENT refused $FAR4 8089
assert_eq "$(kv "$OUT" connect)" EINPROGRESS "release proxy: connect"
assert_eq "$(kv "$OUT" so_error)" ECONNREFUSED "release proxy: SO_ERROR"
assert_eq "$(plog_count rel REFUSED)" 1 "the release proxy answered REP 5"

case_begin "getpeername on blocking proxied sockets: the destination asked for; getsockname the real local address"
: >"$T/dante.log"
run_shim "$S5" $PY $NB_CLIENT peer $FAR4 8081
assert_eq "$(kv "$OUT" reply)" "you are $FAR4" "socks5: reply (dante's external address)"
assert_eq "$(kv "$OUT" peer)" "$FAR4:8081" "socks5: getpeername"
local_=$(kv "$OUT" local)
assert_match "$local_" "^$B4_CLI:[0-9]+\$" "socks5: getsockname"
assert_match "$(cat "$T/dante.log")" "tcp/connect \[: $B4_CLI\.${local_#*:} $B4_SRV\.1081 -> " "socks5: dante saw the port getsockname gave"
HTTP=$(proxy_conf http http $B4_SRV:8888 <<<'connect_timeout = 5s')
run_shim "$HTTP" $PY $NB_CLIENT peer $FAR4 8081
assert_eq "$(kv "$OUT" reply)" "you are $B4_SRV" "http: reply (tinyproxy's Bind address)"
assert_eq "$(kv "$OUT" peer)" "$FAR4:8081" "http: getpeername"
assert_match "$(kv "$OUT" local)" "^$B4_CLI:[0-9]+\$" "http: getsockname"
run_shim "$CHAIN" $PY $NB_CLIENT peer $FAR4 8081
assert_eq "$(kv "$OUT" reply)" "you are $A4_SRV" "chain: reply"
assert_eq "$(kv "$OUT" peer)" "$FAR4:8081" "chain: getpeername"
assert_match "$(kv "$OUT" local)" "^$B4_CLI:[0-9]+\$" "chain: getsockname"
FAKE=$(proxy_conf fake socks5 $A4_SRV:1094 <<<'remote_dns = true')
: >"$T/fk.log"
run_shim "$FAKE" $PY $NB_CLIENT fakepeer www.example 8081
asked=$(kv "$OUT" asked)
assert_match "$asked" '^198\.1[89]\.' "fake address handed out"
assert_eq "$(kv "$OUT" peer)" "$asked:8081" "fake address: getpeername gives the fake address"
assert_match "$(kv "$OUT" local)" "^$A4_CLI:[0-9]+\$" "fake address: getsockname"
assert_eq "$(kv "$OUT" reply)" "SSH-2.0-test" "fake address: the proxy's banner"
assert_match "$(cat "$T/fk.log")" "REQ www\.example 8081" "the proxy was asked for the name"

case_begin "getpeername on a non-blocking proxied socket: ENOTCONN while pending, the destination after"
rm -f "$T/go"
: >"$T/rel.log"
run_shim "$CHAIN" $PY $NB_CLIENT peernb $FAR4 8081 "$T/rel.log" "$T/go"
assert_eq "$(kv "$OUT" connect)" EINPROGRESS "connect"
assert_eq "$(kv "$OUT" pending_peer)" ENOTCONN "getpeername while pending"
assert_eq "$(kv "$OUT" so_error)" 0 "SO_ERROR after writability"
assert_eq "$(kv "$OUT" peer)" "$FAR4:8081" "getpeername after success"
assert_match "$(kv "$OUT" local)" "^$B4_CLI:[0-9]+\$" "getsockname"
assert_eq "$(kv "$OUT" reply)" "you are $A4_SRV" "reply"

finish
