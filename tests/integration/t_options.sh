#!/bin/bash
# More DefaultDialer socket options, judged by what the kernel did:
#   tcp_multi_path = true → an MPTCP connection (MP_CAPABLE in the SYN, counted by
#     both namespaces' MPTcpExt counters) that still carries the data; against a
#     plain TCP server it falls back and still works.
#   udp_fragment = false → IP_PMTUDISC_DO: a 3000-byte datagram on a 1500-byte link
#     is refused with EMSGSIZE instead of being fragmented; = true → it arrives.
#   routing_mark and bind_interface on UDP sendto/sendmsg.
# Verified to fail without the shim (SHIM=/nonexistent): the MPTCP counters stay,
# the big datagram arrives, the UDP datagrams come by link A.
. "$(dirname "$0")/lib.sh"
lab_up
shim_present
srv_start mptcp --mptcp $FAR4:8080 "[$FAR6]:8080"
srv_start far $FAR4:8081
srv_start udp --udp $FAR4:5353 "[$FAR6]:5353"
MLOG=$T/mptcp.log LOG=$T/far.log ULOG=$T/udp.log

one_dialer() { # NAME OPTION-LINES
    write_conf "$1" <<EOF
[dialer d]
type = direct
$2

[app all]
match = *
dialer = d
EOF
}
MP=$(one_dialer mp 'tcp_multi_path = true')
DF=$(one_dialer df 'udp_fragment = false')
FRAG=$(one_dialer frag 'udp_fragment = true')
MARK=$(one_dialer mark 'routing_mark = 0x64')
VB=$(one_dialer vb 'bind_interface = vb')

case_begin "tcp_multi_path = true: the connection is MPTCP (kernel counters), data arrives"
s0=$(kcounter "$SRV" MPTcpExtMPCapableSYNRX)
c0=$(kcounter "$CLI" MPTcpExtMPCapableSYNACKRX)
out=$(bare $PY $PYCLIENT tcp $FAR4 8080)
assert_eq "$(kcounter "$SRV" MPTcpExtMPCapableSYNRX)" "$s0" "bare run: MP_CAPABLE SYNs the server got"
assert_saw "$MLOG" $A4_CLI "bare run"
out=$(shim "$MP" $PY $PYCLIENT tcp $FAR4 8080)
assert_eq "$?" 0 "client exit status ($out)"
assert_eq "$(kv "$out" reply)" "you are $A4_CLI" "reply"
assert_ge "$(($(kcounter "$SRV" MPTcpExtMPCapableSYNRX) - s0))" 1 "MP_CAPABLE SYNs the server got"
assert_ge "$(($(kcounter "$CLI" MPTcpExtMPCapableSYNACKRX) - c0))" 1 "MP_CAPABLE SYN-ACKs the client got"
assert_saw "$MLOG" $A4_CLI "server"

case_begin "tcp_multi_path = true: IPv6 and the C client"
s0=$(kcounter "$SRV" MPTcpExtMPCapableSYNRX)
out=$(shim "$MP" "$TCPINFO" $FAR6 8080)
assert_eq "$?" 0 "tcpinfo exit status ($out)"
assert_eq "$(kv "$out" reply)" "you are $A6_CLI" "reply"
assert_ge "$(($(kcounter "$SRV" MPTcpExtMPCapableSYNRX) - s0))" 1 "MP_CAPABLE SYNs the server got"
assert_saw "$MLOG" $A6_CLI "server"

case_begin "tcp_multi_path = true against a plain TCP server: falls back, works"
out=$(shim "$MP" $PY $PYCLIENT tcp $FAR4 8081)
assert_eq "$?" 0 "client exit status ($out)"
assert_eq "$(kv "$out" reply)" "you are $A4_CLI" "reply"
assert_saw "$LOG" $A4_CLI "server"

case_begin "udp_fragment = false: a datagram above the MTU gets EMSGSIZE, nothing arrives"
out=$(bare $PY $PYCLIENT udp $FAR4 5353 --size=3000)
assert_eq "$(kv "$out" reply)" "you are $A4_CLI" "bare run: the fragmented datagram arrives"
assert_saw "$ULOG" $A4_CLI "bare run"
out=$(shim "$DF" $PY $PYCLIENT udp $FAR4 5353 --size=3000)
assert_eq "$?" 3 "client exit status ($out)"
assert_eq "$(kv "$out" errno)" EMSGSIZE "errno"
assert_saw_nothing "$ULOG" "UDP server"
out=$(shim "$DF" $PY $PYCLIENT udp $FAR6 5353 --size=3000)
assert_eq "$(kv "$out" errno)" EMSGSIZE "IPv6 errno"
assert_saw_nothing "$ULOG" "UDP server (IPv6)"

case_begin "udp_fragment = false: a small datagram still goes; udp_fragment = true: the big one arrives"
out=$(shim "$DF" $PY $PYCLIENT udp $FAR4 5353)
assert_eq "$(kv "$out" reply)" "you are $A4_CLI" "small datagram"
assert_saw "$ULOG" $A4_CLI "small datagram"
out=$(shim "$FRAG" $PY $PYCLIENT udp $FAR4 5353 --size=3000)
assert_eq "$(kv "$out" reply)" "you are $A4_CLI" "udp_fragment = true: big datagram"
assert_saw "$ULOG" $A4_CLI "udp_fragment = true"

case_begin "routing_mark = 0x64 on UDP sendto: link B (IPv4, IPv6)"
out=$(shim "$MARK" $PY $PYCLIENT udp $FAR4 5353)
assert_eq "$(kv "$out" reply)" "you are $B4_CLI" "IPv4 reply"
assert_saw "$ULOG" $B4_CLI "IPv4"
out=$(shim "$MARK" $PY $PYCLIENT udp $FAR6 5353)
assert_saw "$ULOG" $B6_CLI "IPv6"

case_begin "bind_interface = vb on UDP sendmsg: link B"
out=$(bare $PY $PYCLIENT udp $FAR4 5353 --sendmsg)
assert_saw "$ULOG" $A4_CLI "bare run"
out=$(shim "$VB" $PY $PYCLIENT udp $FAR4 5353 --sendmsg)
assert_eq "$(kv "$out" reply)" "you are $B4_CLI" "reply"
assert_saw "$ULOG" $B4_CLI "server"

finish
