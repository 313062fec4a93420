#!/bin/bash
# The block dialer: TCP connect → ECONNREFUSED, UDP sendto → EPERM, and the server
# sees nothing. Verified to fail without the shim (SHIM=/nonexistent): the clients
# connect/send and the servers log them.
. "$(dirname "$0")/lib.sh"
lab_up
shim_present
srv_start far $FAR4:8080 "[$FAR6]:8080"
srv_start udp --udp $FAR4:5353 "[$FAR6]:5353"
LOG=$T/far.log ULOG=$T/udp.log

CFG=$(write_conf block <<'EOF'
[app all]
match = *
dialer = block
EOF
)
DEF=$(write_conf defblock <<'EOF'
[global]
default_app = jail

[dialer nothing]
type = block

[app jail]
dialer = nothing
EOF
)

case_begin "block: TCP connect gets ECONNREFUSED, the server sees nothing (IPv4, IPv6)"
bare $PY $PYCLIENT tcp $FAR4 8080 >/dev/null
assert_saw "$LOG" $A4_CLI "bare run"
out=$(shim "$CFG" $PY $PYCLIENT tcp $FAR4 8080)
assert_eq "$?" 3 "client exit status ($out)"
assert_eq "$(kv "$out" errno)" ECONNREFUSED "IPv4 errno"
out=$(shim "$CFG" $PY $PYCLIENT tcp $FAR6 8080)
assert_eq "$?" 3 "client exit status ($out)"
assert_eq "$(kv "$out" errno)" ECONNREFUSED "IPv6 errno"
assert_saw_nothing "$LOG" "TCP server"

case_begin "block: the C client gets ECONNREFUSED from connect"
out=$(shim "$CFG" "$TCPINFO" $FAR4 8080)
assert_eq "$?" 3 "tcpinfo exit status ($out)"
assert_eq "$(kv "$out" errno)" ECONNREFUSED "errno"
assert_saw_nothing "$LOG" "TCP server"

case_begin "block: UDP sendto gets EPERM, the server sees nothing (IPv4, IPv6)"
bare $PY $PYCLIENT udp $FAR4 5353 >/dev/null
assert_saw "$ULOG" $A4_CLI "bare run"
out=$(shim "$CFG" $PY $PYCLIENT udp $FAR4 5353)
assert_eq "$?" 3 "client exit status ($out)"
assert_eq "$(kv "$out" errno)" EPERM "IPv4 errno"
out=$(shim "$CFG" $PY $PYCLIENT udp $FAR6 5353)
assert_eq "$?" 3 "client exit status ($out)"
assert_eq "$(kv "$out" errno)" EPERM "IPv6 errno"
assert_saw_nothing "$ULOG" "UDP server"

case_begin "block: a type = block dialer through default_app refuses too"
out=$(shim "$DEF" $PY $PYCLIENT tcp $FAR4 8080)
assert_eq "$?" 3 "client exit status ($out)"
assert_eq "$(kv "$out" errno)" ECONNREFUSED "TCP errno"
out=$(shim "$DEF" $PY $PYCLIENT udp $FAR4 5353)
assert_eq "$(kv "$out" errno)" EPERM "UDP errno"
assert_saw_nothing "$LOG" "TCP server"
assert_saw_nothing "$ULOG" "UDP server"

finish
