#!/bin/bash
# Datagrams of a supervised Go program through a SOCKS5 proxy (dante, UDP
# ASSOCIATE): the association is held by the supervisor, the program's socket is
# connected to the supervisor's loopback end of it. A connected socket
# (net.Dial "udp": write/read, not trapped) and an unconnected one (WriteTo,
# ReadFrom) get the far server's answer; the far server saw dante's external
# address, never the client's; the program's RemoteAddr is the far server. A
# proxy that is down: the send fails (ECONNREFUSED) and nothing reaches the far
# server, directly or otherwise.
# Verified to fail on the tree before (DIALSHIM=<previous build>): every datagram
# routed to the proxy was refused with EPERM.
. "$(dirname "$0")/lib.sh"
. "$IT_DIR/proxy_lib.sh"
. "$IT_DIR/sup_lib.sh"
lab_up
sup_build_go
srv_start far --udp $FAR4:5353 "[$FAR6]:5353"
start_dante dante 1081 none $FAR4 $FAR6
LOG=$T/far.log DL=$T/dante.log

P=$(proxy_conf p socks5 $B4_SRV:1081 <<<'connect_timeout = 3s')
DOWN=$(proxy_conf down socks5 $B4_SRV:1099 <<<'connect_timeout = 2s')

case_begin "lab: a bare Go UDP client reaches the far server directly"
run_bare "$SUPGO" udp $FAR4:5353
assert_eq "$(kv "$OUT" reply)" "you are $A4_CLI" "bare reply"
: >"$LOG"

case_begin "Go connected UDP socket through SOCKS5: the far server sees dante, the reply comes back"
run_tool "$P" "$SUPGO" udp $FAR4:5353
assert_eq "$RC" 0 "exit status"
assert_eq "$(kv "$OUT" reply)" "you are $FAR4" "reply (the far server saw dante's address)"
assert_eq "$(kv "$OUT" remote)" "$FAR4:5353" "RemoteAddr (getpeername): the far server"
assert_saw "$LOG" $FAR4 "far server"
assert_eq "$(peers "$LOG" | grep -vc "^$FAR4\$")" 0 "far server: datagrams from anyone else"
assert_match "$(cat "$DL")" "udp" "dante: a UDP association"
assert_match "$ERR" "supervised connect udp $FAR4:5353 app=all rule=default chain=p result=ok via UDP ASSOCIATE" "decision log"
: >"$LOG"

case_begin "Go unconnected UDP socket (WriteTo/ReadFrom) through SOCKS5, IPv6 destination"
run_tool "$P" "$SUPGO" udpto "[$FAR6]:5353"
assert_eq "$RC" 0 "exit status"
assert_eq "$(kv "$OUT" reply)" "you are $FAR6" "reply (the far server saw dante's address)"
assert_saw "$LOG" $FAR6 "far server"
assert_eq "$(peers "$LOG" | grep -vc "^$FAR6\$")" 0 "far server: datagrams from anyone else"
: >"$LOG"

case_begin "the proxy is down: the send fails, nothing reaches the far server"
run_tool "$DOWN" "$SUPGO" udp $FAR4:5353
assert_eq "$RC" 1 "exit status"
assert_match "$OUT" "err=.*connection refused" "Go's error"
assert_match "$ERR" "supervised connect udp $FAR4:5353 .*chain=p result=ECONNREFUSED" "decision log"
assert_saw_nothing "$LOG" "far server"

finish
