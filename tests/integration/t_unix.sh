#!/bin/bash
# AF_UNIX (and netlink) pass through untouched, even when the default dialer is
# block. The same configuration refuses TCP in the same run, so the shim is loaded
# and the config in force: without the shim (SHIM=/nonexistent) the TCP refusal
# assertion fails.
. "$(dirname "$0")/lib.sh"
lab_up
shim_present
srv_start far $FAR4:8080
ns_server_start "$CLI" unix "unix:$T/u.sock"
LOG=$T/far.log

CFG=$(write_conf block <<'EOF'
[app all]
match = *
dialer = block
EOF
)

case_begin "default dialer block: AF_UNIX stream connect works, TCP is refused"
out=$(shim "$CFG" sh -c "$PY $PYCLIENT unix $T/u.sock; $PY $PYCLIENT tcp $FAR4 8080")
assert_eq "$(kv "$out" reply)" "you are unix" "AF_UNIX reply"
assert_eq "$(peers "$T/unix.log")" "unix" "the unix server saw"
assert_eq "$(kv "$out" errno)" ECONNREFUSED "TCP errno"
assert_saw_nothing "$LOG" "TCP server"

case_begin "default dialer block: nc -U works, nc over TCP is refused"
out=$(printf 'x\n' | shim "$CFG" nc -N -U "$T/u.sock")
assert_eq "$?" 0 "nc exit status"
assert_match "$out" '^you are unix$' "reply"
out=$(printf 'x\n' | shim "$CFG" nc -v -N -w 3 $FAR4 8080 2>&1)
assert_ne "$?" 0 "nc over TCP: exit status"
assert_match "$out" 'refused' "nc over TCP: message"
assert_saw_nothing "$LOG" "TCP server"

case_begin "default dialer block: AF_UNIX datagram sendto works, UDP gets EPERM"
out=$(shim "$CFG" $PY -c "
import errno, socket
r = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
r.bind('$T/d.sock')
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.sendto(b'dgram', '$T/d.sock')
r.settimeout(2)
print('got=' + r.recv(100).decode())
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
try:
    u.sendto(b'x', ('$FAR4', 5353))
    print('udp=sent')
except OSError as e:
    print('udp=' + errno.errorcode[e.errno])
")
assert_eq "$(kv "$out" got)" dgram "AF_UNIX datagram"
assert_eq "$(kv "$out" udp)" EPERM "UDP sendto"

case_begin "default dialer block: netlink (ip addr) works, TCP in the same shell refused"
out=$(shim "$CFG" sh -c "ip -4 -o addr show dev va && $PY $PYCLIENT tcp $FAR4 8080")
assert_match "$out" "inet $A4_CLI/24" "ip's output"
assert_eq "$(kv "$out" errno)" ECONNREFUSED "TCP errno"
assert_saw_nothing "$LOG" "TCP server"

finish
