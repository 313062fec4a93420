#!/bin/bash
# Datagrams of a supervised Go program through a SOCKS5 proxy (dante, UDP
# ASSOCIATE): the association is held by the supervisor, the program's socket is
# connected to the supervisor's loopback end of it. A connected socket
# (net.Dial "udp": write/read, not trapped) and an unconnected one (WriteTo,
# ReadFrom) get the far server's answer; the far server saw dante's external
# address, never the client's; the program's RemoteAddr is the far server. A
# name under remote_dns is a fake address for the program and goes to dante as
# the name (dante resolves it from the server namespace's hosts file). A
# proxy that is down: the send fails (ECONNREFUSED) and nothing reaches the far
# server, directly or otherwise (a trapped send gets ECONNREFUSED; the datagram
# a connected socket wrote is dropped and logged: the association opens with the
# first datagram, so that Go's resolver's UDP connects that never send cost no
# proxy handshake).
# Verified to fail on the tree before (DIALSHIM=<previous build>): every datagram
# routed to the proxy was refused with EPERM.
. "$(dirname "$0")/lib.sh"
. "$IT_DIR/proxy_lib.sh"
. "$IT_DIR/sup_lib.sh"
lab_up
# dante resolves the names it is sent from the server namespace's own hosts file
# (ip netns exec bind-mounts /etc/netns/NAME/hosts): nothing leaves the lab.
SRV_ETC=/etc/netns/$SRV
udp_down() {
    local rc=$?
    rm -rf "$SRV_ETC"
    rmdir /etc/netns 2>/dev/null
    (exit "$rc")
    lab_down
}
trap udp_down EXIT
for _i in 1 2 3 4 5; do
    mkdir -p "$SRV_ETC" 2>/dev/null &&
        printf '127.0.0.1 localhost\n203.0.113.2 far.example\n' >"$SRV_ETC/hosts" 2>/dev/null &&
        break
    sleep 0.1
done
sup_build_go
srv_start far --udp $FAR4:5353 "[$FAR6]:5353"
start_dante dante 1081 none $FAR4 $FAR6
LOG=$T/far.log DL=$T/dante.log

P=$(proxy_conf p socks5 $B4_SRV:1081 <<<'connect_timeout = 3s')
RDNS=$(proxy_conf rdns socks5 $B4_SRV:1081 <<<'remote_dns = true')
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

case_begin "Go UDP to a name through SOCKS5 remote_dns: a fake address here, dante resolves the name"
run_tool "$RDNS" "$SUPGO" udp far.example:5353
assert_eq "$RC" 0 "exit status"
assert_eq "$(kv "$OUT" reply)" "you are $FAR4" "reply (the far server saw dante's address)"
assert_saw "$LOG" $FAR4 "far server"
assert_match "$ERR" "supervised connect udp [^ ]+:5353 name=far\.example app=all rule=default chain=p result=ok via UDP ASSOCIATE" "decision log"
# Go's resolver connects a UDP socket to each answer (source address selection)
# and sends nothing: those open no association with the proxy.
assert_eq "$(printf '%s\n' "$ERR" | grep -c 'udp association via p created')" 1 "associations opened"
: >"$LOG"

case_begin "the proxy is down: a send gets ECONNREFUSED, a connected socket's datagram is dropped; nothing arrives"
run_tool "$DOWN" "$SUPGO" udpto $FAR4:5353
assert_eq "$RC" 1 "exit status (WriteTo)"
assert_match "$OUT" "err=.*connection refused" "Go's error (WriteTo)"
assert_match "$ERR" "supervised sendto udp [^ ]*$FAR4\]?:5353 .*chain=p result=ECONNREFUSED" "decision log (WriteTo)"
run_tool "$DOWN" "$SUPGO" udp $FAR4:5353
assert_eq "$RC" 1 "exit status (connected: no reply)"
assert_match "$ERR" "udp $FAR4:5353 through p: ECONNREFUSED .*the datagram is dropped" "log line (connected)"
assert_saw_nothing "$LOG" "far server"

finish
