#!/bin/bash
# bind_interface (SO_BINDTODEVICE): the far address is routed by link A; a dialer
# with bind_interface = vb must make the server see link B's address.
# Verified to fail without the shim (SHIM=/nonexistent): the server sees 192.0.2.1 /
# 2001:db8:a::1, and the bogus interface connects instead of failing. Each case also
# runs the same client bare first and asserts link A, so a lab that always took
# link B could not make it pass.
. "$(dirname "$0")/lib.sh"
lab_up
shim_present
srv_start far $FAR4:8080 "[$FAR6]:8080"
srv_start udp --udp $FAR4:5353 "[$FAR6]:5353"
LOG=$T/far.log ULOG=$T/udp.log

CFG=$(write_conf vb <<'EOF'
[dialer viab]
type = direct
bind_interface = vb

[app all]
match = *
dialer = viab
EOF
)

case_begin "bind_interface = vb: IPv4 TCP leaves by link B (python3)"
bare $PY $PYCLIENT tcp $FAR4 8080 >/dev/null
assert_saw "$LOG" $A4_CLI "bare run"
rx0=$(rx_packets "$SRV" vb)
out=$(shim "$CFG" $PY $PYCLIENT tcp $FAR4 8080)
rc=$?
rx1=$(rx_packets "$SRV" vb)
assert_eq "$rc" 0 "client exit status ($out)"
assert_eq "$(kv "$out" reply)" "you are $B4_CLI" "reply"
assert_saw "$LOG" $B4_CLI "through the shim"
assert_ge $((rx1 - rx0)) 3 "packets received on the server's vb"

case_begin "bind_interface = vb: IPv6 TCP leaves by link B (python3)"
bare $PY $PYCLIENT tcp $FAR6 8080 >/dev/null
assert_saw "$LOG" $A6_CLI "bare run"
out=$(shim "$CFG" $PY $PYCLIENT tcp $FAR6 8080)
assert_eq "$?" 0 "client exit status ($out)"
assert_eq "$(kv "$out" reply)" "you are $B6_CLI" "reply"
assert_saw "$LOG" $B6_CLI "through the shim"

case_begin "bind_interface = vb: C client (getaddrinfo + connect), IPv4 and IPv6"
out=$(shim "$CFG" "$TCPINFO" $FAR4 8080)
assert_eq "$?" 0 "tcpinfo exit status ($out)"
assert_saw "$LOG" $B4_CLI "IPv4"
out=$(shim "$CFG" "$TCPINFO" $FAR6 8080)
assert_eq "$?" 0 "tcpinfo exit status ($out)"
assert_saw "$LOG" $B6_CLI "IPv6"

case_begin "bind_interface = vb: UDP sendto leaves by link B (IPv4, IPv6)"
bare $PY $PYCLIENT udp $FAR4 5353 >/dev/null
assert_saw "$ULOG" $A4_CLI "bare run"
out=$(shim "$CFG" $PY $PYCLIENT udp $FAR4 5353)
assert_eq "$?" 0 "client exit status ($out)"
assert_eq "$(kv "$out" reply)" "you are $B4_CLI" "reply"
assert_saw "$ULOG" $B4_CLI "IPv4 through the shim"
out=$(shim "$CFG" $PY $PYCLIENT udp $FAR6 5353)
assert_eq "$?" 0 "client exit status ($out)"
assert_saw "$ULOG" $B6_CLI "IPv6 through the shim"

case_begin "bind_interface = an interface that does not exist: connect fails, nothing sent"
BAD=$(write_conf nodev <<'EOF'
[dialer nodev]
type = direct
bind_interface = nosuch0

[app all]
match = *
dialer = nodev
EOF
)
# bare, the same client connects (so this case fails without the shim)
out=$(shim "$BAD" $PY $PYCLIENT tcp $FAR4 8080 2>"$T/nodev.err")
rc=$?
assert_eq "$rc" 3 "client exit status: connect must fail ($out)"
assert_match "$out" '^errno=E[A-Z]+' "an errno"
assert_saw_nothing "$LOG" "server"

finish
