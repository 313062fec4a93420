#!/bin/bash
# asyncio: getaddrinfo in the loop's executor thread, then a non-blocking connect
# driven by the event loop, through a bind_interface dialer.
# Verified to fail without the shim (SHIM=/nonexistent): the server sees link A.
. "$(dirname "$0")/lib.sh"
lab_up
shim_present
srv_start far $FAR4:8080 "[$FAR6]:8080"
LOG=$T/far.log

CFG=$(write_conf vb <<'EOF'
[dialer viab]
type = direct
bind_interface = vb

[app all]
match = *
dialer = viab
EOF
)

case_begin "asyncio.open_connection through bind_interface = vb (IPv4)"
out=$(bare $PY $PYCLIENT asyncio $FAR4 8080)
assert_eq "$(kv "$out" reply)" "you are $A4_CLI" "bare run"
assert_saw "$LOG" $A4_CLI "bare run"
out=$(shim "$CFG" $PY $PYCLIENT asyncio $FAR4 8080)
assert_eq "$?" 0 "client exit status ($out)"
assert_eq "$(kv "$out" reply)" "you are $B4_CLI" "reply"
assert_saw "$LOG" $B4_CLI "through the shim"

case_begin "asyncio.open_connection through bind_interface = vb (IPv6)"
out=$(shim "$CFG" $PY $PYCLIENT asyncio $FAR6 8080)
assert_eq "$?" 0 "client exit status ($out)"
assert_eq "$(kv "$out" reply)" "you are $B6_CLI" "reply"
assert_saw "$LOG" $B6_CLI "through the shim"

finish
