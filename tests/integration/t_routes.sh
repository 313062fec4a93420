#!/bin/bash
# Route rules: ordered, first match wins. The app's own dialer is `direct` (link A by
# the routing table); viaa/viab bind to va/vb.
# Verified to fail without the shim (SHIM=/nonexistent): 8080 arrives from link A and
# the UDP block lets the datagram through. Removing `port:8081 -> viaa` makes the
# 8081 case fail (the cidr rule then sends it by link B); the reversed file proves
# order, not specificity, decides.
. "$(dirname "$0")/lib.sh"
lab_up
shim_present
srv_start far $FAR4:8080 $FAR4:8081 "[$FAR6]:8080" $B4_SRV:8080
srv_start udp --udp $FAR4:5353 $B4_SRV:5353
LOG=$T/far.log ULOG=$T/udp.log

DIALERS='[dialer viaa]
type = direct
bind_interface = va

[dialer viab]
type = direct
bind_interface = vb
'
CFG=$(write_conf routes <<EOF
$DIALERS
[app all]
match = *
dialer = direct
route = port:8081 -> viaa
route = cidr:203.0.113.0/24 -> viab
route = network:udp -> block
EOF
)
REV=$(write_conf reversed <<EOF
$DIALERS
[app all]
match = *
dialer = direct
route = cidr:203.0.113.0/24 -> viab
route = port:8081 -> viaa
EOF
)

case_begin "route cidr:203.0.113.0/24 -> viab: TCP to 203.0.113.2:8080 by link B"
bare $PY $PYCLIENT tcp $FAR4 8080 >/dev/null
assert_saw "$LOG" $A4_CLI "bare run"
out=$(shim "$CFG" $PY $PYCLIENT tcp $FAR4 8080)
assert_eq "$?" 0 "client exit status ($out)"
assert_saw "$LOG" $B4_CLI "through the shim"

case_begin "route port:8081 -> viaa comes first: 203.0.113.2:8081 by link A"
out=$(shim "$CFG" $PY $PYCLIENT tcp $FAR4 8081)
assert_eq "$?" 0 "client exit status ($out)"
assert_saw "$LOG" $A4_CLI "port rule before the cidr rule"
out=$(shim "$REV" $PY $PYCLIENT tcp $FAR4 8081)
assert_eq "$?" 0 "reversed file: client exit status ($out)"
assert_saw "$LOG" $B4_CLI "reversed file: the cidr rule is first"

case_begin "no rule matches: the app's dialer (direct, link A)"
out=$(shim "$CFG" $PY $PYCLIENT tcp $FAR6 8080)
assert_eq "$?" 0 "client exit status ($out)"
assert_saw "$LOG" $A6_CLI "IPv6 far address (outside the cidr)"
out=$(shim "$CFG" $PY $PYCLIENT tcp $B4_SRV 8080)
assert_eq "$?" 0 "client exit status ($out)"
assert_saw "$LOG" $B4_CLI "198.51.100.2 (connected network of vb; outside the cidr)"

case_begin "an IPv4-mapped destination on an AF_INET6 socket matches the IPv4 cidr rule"
out=$(shim "$CFG" $PY -c "
import socket
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.connect(('::ffff:$FAR4', 8080))
s.sendall(b'x\\n')
print('reply=' + s.recv(100).decode().strip())
")
assert_eq "$?" 0 "client exit status ($out)"
assert_eq "$(kv "$out" reply)" "you are $B4_CLI" "reply"
assert_saw "$LOG" $B4_CLI "server"

case_begin "route port:LOW-HIGH matches a port range"
RANGE=$(write_conf range <<EOF2
$DIALERS
[app all]
match = *
dialer = direct
route = port:8000-8080 -> viab
EOF2
)
out=$(shim "$RANGE" $PY $PYCLIENT tcp $FAR4 8080)
assert_eq "$?" 0 "8080: client exit status ($out)"
assert_saw "$LOG" $B4_CLI "8080 (in 8000-8080)"
out=$(shim "$RANGE" $PY $PYCLIENT tcp $FAR4 8081)
assert_eq "$?" 0 "8081: client exit status ($out)"
assert_saw "$LOG" $A4_CLI "8081 (outside the range)"

case_begin "route network:udp -> block: sendto fails with EPERM, nothing arrives"
bare $PY $PYCLIENT udp $B4_SRV 5353 >/dev/null
assert_saw "$ULOG" $B4_CLI "bare run"
out=$(shim "$CFG" $PY $PYCLIENT udp $B4_SRV 5353)
assert_eq "$?" 3 "client exit status ($out)"
assert_eq "$(kv "$out" errno)" EPERM "errno"
assert_saw_nothing "$ULOG" "UDP server"

case_begin "a UDP block rule applies to every datagram, not only a socket's first"
PERDG=$(write_conf perdg <<EOF2
[app all]
match = *
dialer = direct
route = cidr:198.51.100.2/32 -> block
EOF2
)
UDPTWO="
import errno, socket, sys
def send(s, host):
    try:
        s.sendto(b'x', (host, 5353))
        return 'sent'
    except OSError as e:
        return errno.errorcode[e.errno]
a = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
print('a1=' + send(a, '$FAR4'))
print('a2=' + send(a, '$B4_SRV'))
b = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
print('b1=' + send(b, '$B4_SRV'))
print('b2=' + send(b, '$FAR4'))
"
out=$(bare $PY -c "$UDPTWO")
sleep 0.3
assert_eq "$(peers "$ULOG" | wc -l)" 4 "bare run: datagrams the servers got"
: >"$ULOG"
out=$(shim "$PERDG" $PY -c "$UDPTWO")
assert_eq "$(kv "$out" a1)" sent "socket a, allowed destination first"
assert_eq "$(kv "$out" a2)" EPERM "socket a, then the blocked destination"
assert_eq "$(kv "$out" b1)" EPERM "socket b, blocked destination first"
assert_eq "$(kv "$out" b2)" sent "socket b, then the allowed destination"
sleep 0.3
assert_eq "$(peers "$ULOG" | wc -l)" 2 "datagrams the servers got (only the two allowed)"
: >"$ULOG"

case_begin "UDP to 203.0.113.2 matches the cidr rule first: sent by link B, not blocked"
out=$(shim "$CFG" $PY $PYCLIENT udp $FAR4 5353)
assert_eq "$?" 0 "client exit status ($out)"
assert_saw "$ULOG" $B4_CLI "UDP server"

finish
