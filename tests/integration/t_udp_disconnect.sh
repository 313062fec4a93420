#!/bin/bash
# connect(AF_UNSPEC) on a UDP socket the shim manages (dialshim.ini(5) UDP): the socket forgets
# its peer, as the kernel's does, and the dialer's choices still hold for what it
# sends next.
#   relayed (SOCKS5 UDP ASSOCIATE through dante): after the disconnect a sendto to
#   another port of the far server goes through dante (the far server sees dante's
#   address), its reply reaches the program from that port (not dropped as a
#   stranger to the old peer), getpeername says ENOTCONN and send() without a
#   destination fails with EDESTADDRREQ, as on a plain socket.
#   direct with bind_interface = vb: the kernel's disconnect unbinds the device; the
#   next datagram must still leave by link B (the far server sees 198.51.100.1).
# Verified to fail without the fix (the engine forgetting the peer and restoring
# the device and port): the reply from the new port was dropped, getpeername gave
# the old peer, send() went to the old peer, and the direct datagram left by link A;
# and without the shim (SHIM=/nonexistent): the far server sees the client itself.
. "$(dirname "$0")/lib.sh"
. "$IT_DIR/proxy_lib.sh"
lab_up
shim_present
srv_start far --udp --echo $FAR4:5353 $FAR4:5354 "[$FAR6]:5353" "[$FAR6]:5354"
start_dante dante 1081 none $FAR4 $FAR6
LOG=$T/far.log DL=$T/dante.log
UDPC=$IT_DIR/udp_client.py

P=$(proxy_conf p socks5 $B4_SRV:1081 <<<'connect_timeout = 3s')
DEV=$(write_conf dev <<EOF
[dialer viab]
type = direct
bind_interface = vb

[app all]
match = *
dialer = viab
EOF
)

# seen_all WHAT IP: every datagram the far server logged came from IP (clears the log).
seen_all() {
    local got
    got=$(peers "$LOG" | sort -u | tr '\n' ' ' | sed 's/ $//')
    [ "$got" = "$2" ] || fail "$1: far server saw '${got:-nothing}', expected '$2'"
    : >"$LOG"
}

# unspec_case WHAT CONF DEST SEEN FROM2: the whole exchange, and what it must give.
unspec_case() {
    local what=$1 conf=$2 dest=$3 seen=$4 from2=$5
    run_shim "$conf" $PY $UDPC unspec $dest 5353 5354
    assert_eq "$RC" 0 "$what: client exit status"
    assert_eq "$(kv "$OUT" ok1)" 1 "$what: the echo before the disconnect"
    assert_eq "$(kv "$OUT" seen1)" "$seen" "$what: who the server saw before"
    assert_eq "$(kv "$OUT" unspec)" 0 "$what: connect(AF_UNSPEC)"
    assert_eq "$(kv "$OUT" peer_after)" ENOTCONN "$what: getpeername after the disconnect"
    assert_eq "$(kv "$OUT" ok2)" 1 "$what: the echo from the other port, byte-exact"
    assert_eq "$(kv "$OUT" from2)" "$from2" "$what: the peer the program was told"
    assert_eq "$(kv "$OUT" seen2)" "$seen" "$what: who the server saw after"
    assert_eq "$(kv "$OUT" send_after)" EDESTADDRREQ "$what: send() with no destination"
    seen_all "$what" "$seen"
}

case_begin "relayed: after connect(AF_UNSPEC) a sendto elsewhere goes through dante and its reply comes back"
run_bare $PY $UDPC unspec $FAR4 5353 5354
assert_eq "$(kv "$OUT" seen2)" $A4_CLI "bare run (lab sanity)"
: >"$LOG"
unspec_case "ipv4" "$P" $FAR4 $FAR4 "$FAR4 5354"
unspec_case "ipv6" "$P" $FAR6 $FAR6 "$FAR6 5354"
assert_match "$(cat "$DL")" "udpassociate" "dante relayed them"

case_begin "direct with bind_interface: after connect(AF_UNSPEC) datagrams still leave by that interface"
unspec_case "ipv4" "$DEV" $FAR4 $B4_CLI "$FAR4 5354"
unspec_case "ipv6" "$DEV" $FAR6 $B6_CLI "$FAR6 5354"

finish
