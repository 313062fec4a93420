#!/bin/bash
# Non-blocking dials, their life and end: closed while pending, fork while pending,
# and 1,000 pending at once.
#   - close while pending: 20 non-blocking connects through a proxy that holds its
#     answer (nb_lib.sh release proxy, 192.0.2.2:1093); once it holds all 20
#     requests the program closes them: the proxy sees each connection closed, and
#     the program's descriptor count returns to what it was before (counted after
#     a completed dial through microsocks and one dial closed while pending, so
#     what the shim keeps for the whole process is in the count: only drift shows);
#   - fork while 5 dials are pending: the child's copies fail (SO_ERROR
#     ECONNABORTED) and it exits by itself; the parent's then complete with data;
#   - 1,000 dials at once (descriptor limit raised to 8192 for this client) through
#     microsocks: all EINPROGRESS, all complete and read the far server's line,
#     descriptor count back afterwards.
# Fails on the code before non-blocking dials: connect() completes the dial inside
# the call, so the first held dial stops the program until the proxy's fail-safe
# (REP 1), and no connect gives EINPROGRESS. Without the shim the clients connect
# directly.
. "$(dirname "$0")/lib.sh"
. "$IT_DIR/proxy_lib.sh"
. "$IT_DIR/nb_lib.sh"
lab_up
shim_present
nbp_start far far $FAR4:8081
nbp_start far2 far $FAR4:8082
nbp_start rel socks5 $A4_SRV:1093 --release "$T/go" --bind $A4_SRV
in_srv timeout "$PLIFE" sh -c 'ulimit -n 8192; exec microsocks -i "$0" -p 1082 -b "$1"' $B4_SRV $B4_SRV \
    >"$T/ms.log" 2>&1 &
BG_PIDS+=($!)
wait_listen "$SRV" tcp $B4_SRV 1082
CTMO=20

HELD=$(write_conf held <<EOF
[dialer r]
type = socks5
server = $A4_SRV:1093
handshake = pipelined
connect_timeout = 15s

[dialer ms]
type = socks5
server = $B4_SRV:1082
handshake = lockstep

[app all]
match = *
dialer = r
route = port:8082 -> ms
EOF
)

case_begin "close while pending: the proxy sees every connection closed, no descriptor left behind"
rm -f "$T/go"
run_shim "$HELD" $PY $NB_CLIENT closepending $FAR4 8082 $FAR4 8081 20 "$T/rel.log"
assert_eq "$RC" 0 "client exit status"
assert_eq "$(kv "$OUT" warm)" "you are $B4_SRV" "the first dial (through microsocks)"
assert_eq "$(kv "$OUT" einprogress)" 20 "connects that gave EINPROGRESS"
assert_eq "$(kv "$OUT" reqs)" 20 "requests the proxy held"
wait_plog rel CLOSED 21
assert_eq "$(plog_count rel CLOSED)" 21 "connections the proxy saw closed while it held them (1 + 20)"
assert_eq "$(plog_count rel GIVEUP)" 0 "requests the proxy gave up on (nobody closed them)"
assert_le "$(kv "$OUT" fd_after)" "$(kv "$OUT" fd_base)" "descriptors after closing (before the 20 dials: $(kv "$OUT" fd_base); 5 s later: $(kv "$OUT" fd_after_5s); extra: $(kv "$OUT" fd_extra))"
assert_eq "$(peers "$T/far.log" | wc -l)" 0 "far server: connections (none was released)"

case_begin "fork while dials are pending: the child's fail with ECONNABORTED, the parent's complete"
rm -f "$T/go"
: >"$T/rel.log"
run_shim "$HELD" $PY $NB_CLIENT fork $FAR4 8081 5 "$T/rel.log" "$T/go"
assert_eq "$RC" 0 "client exit status"
assert_eq "$(kv "$OUT" einprogress)" 5 "connects that gave EINPROGRESS"
assert_eq "$(kv "$OUT" reqs)" 5 "requests the proxy held at the fork"
assert_eq "$(kv "$OUT" child_errors)" "ECONNABORTED,ECONNABORTED,ECONNABORTED,ECONNABORTED,ECONNABORTED" "the child's dials"
assert_eq "$(kv "$OUT" child)" exited "the child ended by itself"
assert_eq "$(kv "$OUT" parent_errors)" "0,0,0,0,0" "the parent's dials (SO_ERROR)"
assert_eq "$(kv "$OUT" parent_ok)" 5 "the parent's connections that read the far server's line"
assert_eq "$(kv "$OUT" parent_replies)" "you are $A4_SRV" "what the far server answered"
assert_eq "$(peers "$T/far.log" | grep -c "^$A4_SRV\$")" 5 "far server: connections from the proxy"

case_begin "1,000 dials pending at once via microsocks: all complete, descriptors back"
MANY=$(write_conf many <<EOF
[dialer ms]
type = socks5
server = $B4_SRV:1082
handshake = lockstep
connect_timeout = 18s

[app all]
match = *
dialer = ms
EOF
)
: >"$T/far.log"
: >"$T/ms.log"
in_cli timeout 30 bash -c 'ulimit -n 8192; exec env LD_PRELOAD="$0" DIALSHIM_CONFIG="$1" "$2" "$3" many \
    "$4" 8082 "$4" 8081 1000' "$SHIM" "$MANY" "$PY" "$NB_CLIENT" $FAR4 >"$T/many.out" 2>"$T/many.err"
RC=$?
OUT=$(cat "$T/many.out")
note "many: rc=$RC $(tr '\n' '|' <"$T/many.out") err: $(head -c 300 "$T/many.err")"
assert_eq "$RC" 0 "client exit status"
assert_eq "$(kv "$OUT" warm)" "you are $B4_SRV" "the first dial"
assert_eq "$(kv "$OUT" einprogress)" 1000 "connects that gave EINPROGRESS"
assert_eq "$(kv "$OUT" connected)" 1000 "dials that completed (SO_ERROR 0)"
assert_eq "$(kv "$OUT" ok)" 1000 "connections that read the far server's line"
assert_eq "$(kv "$OUT" replies)" "you are $B4_SRV" "what the far server answered (it saw microsocks)"
assert_le "$(kv "$OUT" fd_after)" "$(kv "$OUT" fd_base)" "descriptors after closing all (before: $(kv "$OUT" fd_base); extra: $(kv "$OUT" fd_extra))"
assert_eq "$(count_lines "$T/ms.log" "$B4_CLI: connected to $FAR4:8081")" 1000 "microsocks: the connects"
assert_eq "$(peers "$T/far.log" | grep -c "^$B4_SRV\$")" 1000 "far server: connections from microsocks"

finish
