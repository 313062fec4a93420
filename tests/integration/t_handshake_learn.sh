#!/bin/bash
# What `handshake = auto` learns, kept (dialshim.ini(5) handshake, state_dir).
# microsocks answers a pipelined SOCKS5 greeting and drops the request that came
# with it, so a pipelined probe costs it a second connection (and about a second).
# Counted from the outside: the kernel's count of accepted connections in the
# namespace of the proxy (TcpPassiveOpens), less those the far server accepted.
# - microsocks on a loopback address: the first connect of a fresh process makes
#   one proxy connection (lockstep at once, no probe).
# - microsocks on a lab address: the first process probes (two proxy connections)
#   and keeps what it learned in state_dir; a second process makes one; with
#   `state_dir =` (empty) nothing is kept and the second process probes again.
# - a non-blocking dial the program closes in the middle of a pipelined handshake
#   (a proxy holding its CONNECT reply) teaches nothing: no lockstep learned, no
#   lockstep retry after the close (the proxy saw one connection per dial), and
#   the proxy, first member of a group, is not marked down (a second process
#   still goes through it). Failed before: the pulled socket read as the proxy
#   closing, so auto learned lockstep, retried on a new connection, and marked
#   the member down (the second process went through the other member).
# Verified to fail before the change: the loopback case made two proxy connections,
# and the second process against the lab address made two as well.
. "$(dirname "$0")/lib.sh"
. "$IT_DIR/proxy_lib.sh"
. "$IT_DIR/nb_lib.sh"
lab_up
shim_present
srv_start far $FAR4:8081
start_microsocks ms $B4_SRV 1080 -b $B4_SRV
: >"$T/lo.log"
in_cli timeout "$PLIFE" microsocks -i 127.0.0.1 -p 1080 >>"$T/lo.log" 2>&1 &
BG_PIDS+=($!)
wait_listen "$CLI" tcp 127.0.0.1 1080
FAR=$T/far.log

# proxy_conns NS BEFORE: connections accepted in NS since BEFORE, less the far
# server's (clears the far server's log).
proxy_conns() {
    local now far
    now=$(kcounter "$1" TcpPassiveOpens)
    far=0
    [ "$1" = "$SRV" ] && far=$(peers "$FAR" | wc -l)
    : >"$FAR"
    echo $((now - $2 - far))
}

case_begin "a proxy on a loopback address: the first connect of a fresh process makes one proxy connection"
LO=$(proxy_conf lo socks5 127.0.0.1:1080 <<EOF
connect_timeout = 5s
EOF
)
sed -i "1i [global]\nstate_dir =\n" "$LO"
before=$(kcounter "$CLI" TcpPassiveOpens)
run_shim "$LO" $PY $PROXY_CLIENT $FAR4 8081
assert_eq "$RC" 0 "client exit status"
assert_match "$(cat "$T/lo.log")" "client\[[0-9]+\] 127\.0\.0\.1: connected to $FAR4:8081" "microsocks carried it"
assert_eq "$(proxy_conns "$CLI" "$before")" 1 "connections microsocks accepted"
assert_no_match "$ERR" "pipelined handshake failed" "no failed probe in the log"

STATE=$T/state
KEEP=$(proxy_conf keep socks5 $B4_SRV:1080 <<<"connect_timeout = 5s")
sed -i "1i [global]\nstate_dir = $STATE\n" "$KEEP"
NONE=$(proxy_conf none socks5 $B4_SRV:1080 <<<"connect_timeout = 5s")
sed -i "1i [global]\nstate_dir =\n" "$NONE"

case_begin "a lab proxy: the first process probes and keeps what it learned in state_dir"
before=$(kcounter "$SRV" TcpPassiveOpens)
run_shim "$KEEP" $PY $PROXY_CLIENT $FAR4 8081
assert_eq "$RC" 0 "client exit status"
assert_eq "$(proxy_conns "$SRV" "$before")" 2 "proxy connections (the probe and the lockstep retry)"
assert_match "$ERR" "pipelined handshake failed" "the log says the probe failed"
assert_match "$(cat "$STATE/learned" 2>&1)" "^[0-9]+ socks5 $B4_SRV:1080 1$" "the state file"
assert_eq "$(stat -c %a "$STATE/learned")" 600 "the state file's mode"

case_begin "a second process pays no probe: one proxy connection"
before=$(kcounter "$SRV" TcpPassiveOpens)
run_shim "$KEEP" $PY $PROXY_CLIENT $FAR4 8081
assert_eq "$RC" 0 "client exit status"
assert_eq "$(proxy_conns "$SRV" "$before")" 1 "proxy connections"
assert_no_match "$ERR" "pipelined handshake failed" "no failed probe in the log"

case_begin "state_dir empty: nothing kept, every process probes"
for i in 1 2; do
    before=$(kcounter "$SRV" TcpPassiveOpens)
    run_shim "$NONE" $PY $PROXY_CLIENT $FAR4 8081
    assert_eq "$RC" 0 "client exit status ($i)"
    assert_eq "$(proxy_conns "$SRV" "$before")" 2 "proxy connections ($i)"
done
case_begin "a pipelined dial closed by the program while pending teaches nothing"
nbp_start rel socks5 $A4_SRV:1093 --release "$T/go" --bind $A4_SRV
nbp_start far2 far $FAR4:8082
ABST=$T/abstate
AB=$(write_conf abandon <<EOF
[global]
state_dir = $ABST

[dialer rel]
type = socks5
server = $A4_SRV:1093
handshake = auto
connect_timeout = 15s

[dialer ms]
type = socks5
server = $B4_SRV:1080
handshake = lockstep

[dialer pool]
type = group
members = rel, ms
connect_timeout = 15s

[app all]
match = *
dialer = pool
route = port:8082 -> ms
EOF
)
rm -f "$T/go"
run_shim "$AB" $PY $NB_CLIENT closepending $FAR4 8082 $FAR4 8081 1 "$T/rel.log"
assert_eq "$RC" 0 "client exit status"
assert_eq "$(kv "$OUT" warm)" "you are $B4_SRV" "the first dial (through microsocks)"
assert_eq "$(kv "$OUT" reqs)" 1 "requests the proxy held"
wait_plog rel CLOSED 2
assert_eq "$(plog_count rel CLOSED)" 2 "connections the proxy saw closed while it held them"
assert_eq "$(plog_count rel PEER)" 2 "connections the proxy saw (one per dial: no retry after the close)"
assert_no_match "$ERR" "lockstep from now on" "nothing learned from a pulled socket"
assert_no_match "$ERR" "member rel down" "the proxy not marked down"
assert_no_match "$(cat "$ABST/learned" 2>/dev/null)" "socks5 $A4_SRV:1093 1" "the state file"
touch "$T/go"
: >"$FAR"
run_shim "$AB" $PY $PROXY_CLIENT $FAR4 8081
assert_eq "$RC" 0 "second process: client exit status"
assert_eq "$(peers "$FAR" | sort -u)" "$A4_SRV" "second process: the far server saw the first member (not marked down)"
finish
