#!/bin/bash
# inet4_bind_address / inet6_bind_address: the source address the server sees, and
# (the lab routes link B's addresses by link B) the link the packets arrive on.
# Verified to fail without the shim (SHIM=/nonexistent): the server sees link A's
# addresses and nothing arrives on the server's vb.
. "$(dirname "$0")/lib.sh"
lab_up
shim_present
srv_start far $FAR4:8080 "[$FAR6]:8080" $FAR4:8082 $FAR4:8083 $FAR4:8084 $FAR4:8085
LOG=$T/far.log

CFG=$(write_conf both <<'EOF'
[dialer linkb]
type = direct
inet4_bind_address = 198.51.100.1
inet6_bind_address = 2001:db8:b::1

[app all]
match = *
dialer = linkb
EOF
)

case_begin "inet4_bind_address = 198.51.100.1: server sees it, packets on link B"
bare $PY $PYCLIENT tcp $FAR4 8080 >/dev/null
assert_saw "$LOG" $A4_CLI "bare run"
rx0=$(rx_packets "$SRV" vb)
out=$(shim "$CFG" $PY $PYCLIENT tcp $FAR4 8080)
assert_eq "$?" 0 "client exit status ($out)"
rx1=$(rx_packets "$SRV" vb)
assert_eq "$(kv "$out" reply)" "you are $B4_CLI" "reply"
assert_eq "$(kv "$out" local | cut -d' ' -f1)" "$B4_CLI" "getsockname in the client"
assert_saw "$LOG" $B4_CLI "through the shim"
assert_ge $((rx1 - rx0)) 3 "packets received on the server's vb"

case_begin "inet6_bind_address = 2001:db8:b::1: server sees it, packets on link B"
bare $PY $PYCLIENT tcp $FAR6 8080 >/dev/null
assert_saw "$LOG" $A6_CLI "bare run"
rx0=$(rx_packets "$SRV" vb)
out=$(shim "$CFG" $PY $PYCLIENT tcp $FAR6 8080)
assert_eq "$?" 0 "client exit status ($out)"
rx1=$(rx_packets "$SRV" vb)
assert_saw "$LOG" $B6_CLI "through the shim"
assert_ge $((rx1 - rx0)) 3 "packets received on the server's vb"

case_begin "bind addresses: C client, two connections in a row from one config"
out=$(shim "$CFG" sh -c "'$TCPINFO' $FAR4 8080 && '$TCPINFO' $FAR6 8080")
assert_eq "$?" 0 "tcpinfo exit status ($out)"
assert_eq "$(peers "$LOG" | tr '\n' ' ')" "$B4_CLI $B6_CLI " "server saw"
: >"$LOG"

case_begin "inet4_bind_address only: IPv4 bound, IPv6 left alone"
V4ONLY=$(write_conf v4only <<'EOF'
[dialer linkb4]
type = direct
inet4_bind_address = 198.51.100.1

[app all]
match = *
dialer = linkb4
EOF
)
out=$(shim "$V4ONLY" $PY $PYCLIENT tcp $FAR4 8080)
assert_eq "$?" 0 "IPv4 client exit status ($out)"
assert_saw "$LOG" $B4_CLI "IPv4"
out=$(shim "$V4ONLY" $PY $PYCLIENT tcp $FAR6 8080)
assert_eq "$?" 0 "IPv6 client exit status ($out)"
assert_saw "$LOG" $A6_CLI "IPv6 (no inet6_bind_address: the route's source)"

case_begin "bind_address_no_port = true: two connections share the only ephemeral port"
# One ephemeral port in the client namespace. With IP_BIND_ADDRESS_NO_PORT the port is
# chosen at connect, per destination, so two connections to two ports can both use
# it; a plain bind(198.51.100.1:0) reserves it and the second bind fails.
NOPORT=$(write_conf noport <<'EOF'
[dialer linkb]
type = direct
inet4_bind_address = 198.51.100.1
bind_address_no_port = true

[app all]
match = *
dialer = linkb
EOF
)
WITHPORT=$(write_conf withport <<'EOF'
[dialer linkb]
type = direct
inet4_bind_address = 198.51.100.1
bind_address_no_port = false

[app all]
match = *
dialer = linkb
EOF
)
in_cli sysctl -qw net.ipv4.ip_local_port_range="40000 40000"
out=$(shim "$NOPORT" $PY $PYCLIENT pair $FAR4 8082 8083)
assert_eq "$(kv "$out" r1)" "you are $B4_CLI" "first connection"
assert_eq "$(kv "$out" r2)" "you are $B4_CLI" "second connection"
assert_eq "$(kv "$out" local2)" "$B4_CLI 40000" "second connection's local address"
assert_eq "$(peers "$LOG" | tr '\n' ' ')" "$B4_CLI $B4_CLI " "server saw"
: >"$LOG"
# control (a fresh port, as 40000 now lingers in TIME_WAIT): without the option the
# second connection cannot get a port, which shows the case above depends on it
in_cli sysctl -qw net.ipv4.ip_local_port_range="40002 40002"
out=$(shim "$WITHPORT" $PY $PYCLIENT pair $FAR4 8084 8085 2>/dev/null)
assert_eq "$(kv "$out" r1)" "you are $B4_CLI" "control, bind_address_no_port = false: first connection"
assert_match "$(kv "$out" r2)" '^errno=E' "control, bind_address_no_port = false: second connection"
: >"$LOG"

finish
