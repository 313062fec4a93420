#!/bin/bash
# inet4_bind_address / inet6_bind_address: the source address the server sees, and
# (the lab routes link B's addresses by link B) the link the packets arrive on.
# Verified to fail without the shim (SHIM=/nonexistent): the server sees link A's
# addresses and nothing arrives on the server's vb.
. "$(dirname "$0")/lib.sh"
lab_up
shim_present
srv_start far $FAR4:8080 "[$FAR6]:8080"
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

finish
