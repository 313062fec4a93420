#!/bin/bash
# The lab's own self-test, without the shim: every path the other tests rely on
# works when the socket options are set by hand, and the unmodified client takes
# link A. If one of these fails, the failures of the other files say nothing
# about the shim.
. "$(dirname "$0")/lib.sh"
lab_up
srv_start far $FAR4:8080 "[$FAR6]:8080"
srv_start udp --udp $FAR4:5353

LOG=$T/far.log

case_begin "lab: a bare client reaches the far address by link A (IPv4, IPv6)"
out=$(bare $PY $PYCLIENT tcp $FAR4 8080)
assert_eq "$(kv "$out" reply)" "you are $A4_CLI" "reply"
assert_saw "$LOG" $A4_CLI "IPv4"
out=$(bare $PY $PYCLIENT tcp $FAR6 8080)
assert_eq "$(kv "$out" reply)" "you are $A6_CLI" "reply"
assert_saw "$LOG" $A6_CLI "IPv6"

case_begin "lab: SO_BINDTODEVICE vb by hand takes link B"
rx0=$(rx_packets "$SRV" vb)
out=$(bare $PY $PYCLIENT tcp $FAR4 8080 --dev=vb)
assert_saw "$LOG" $B4_CLI "IPv4"
rx1=$(rx_packets "$SRV" vb)
assert_ge $((rx1 - rx0)) 3 "packets received on the server's vb"
out=$(bare $PY $PYCLIENT tcp $FAR6 8080 --dev=vb)
assert_saw "$LOG" $B6_CLI "IPv6"

case_begin "lab: SO_MARK 0x64 by hand takes link B, mark 0x65 link A"
out=$(bare $PY $PYCLIENT tcp $FAR4 8080 --mark=0x64)
assert_saw "$LOG" $B4_CLI "IPv4 mark 0x64"
out=$(bare $PY $PYCLIENT tcp $FAR6 8080 --mark=0x64)
assert_saw "$LOG" $B6_CLI "IPv6 mark 0x64"
out=$(bare $PY $PYCLIENT tcp $FAR4 8080 --mark=0x65)
assert_saw "$LOG" $A4_CLI "IPv4 mark 0x65"

case_begin "lab: binding link B's address by hand leaves by link B"
rx0=$(rx_packets "$SRV" vb)
out=$(bare $PY $PYCLIENT tcp $FAR4 8080 --src=$B4_CLI)
assert_saw "$LOG" $B4_CLI "IPv4"
rx1=$(rx_packets "$SRV" vb)
assert_ge $((rx1 - rx0)) 3 "packets received on the server's vb"
out=$(bare $PY $PYCLIENT tcp $FAR6 8080 --src=$B6_CLI)
assert_saw "$LOG" $B6_CLI "IPv6"

case_begin "lab: UDP reaches the far address (link A bare, link B by hand)"
out=$(bare $PY $PYCLIENT udp $FAR4 5353)
assert_eq "$(kv "$out" reply)" "you are $A4_CLI" "reply"
assert_saw "$T/udp.log" $A4_CLI "bare"
out=$(bare $PY $PYCLIENT udp $FAR4 5353 --dev=vb)
assert_saw "$T/udp.log" $B4_CLI "SO_BINDTODEVICE vb"

case_begin "lab: the silent address swallows a SYN (no reply, no RST, no ICMP)"
icmp0=$(kcounter "$CLI" IcmpInMsgs)
rst0=$(kcounter "$CLI" TcpInErrs)
t0=$(date +%s.%N)
out=$(in_cli timeout 3 $PY $PYCLIENT tcp $SILENT4 8080)
rc=$?
t1=$(date +%s.%N)
assert_eq "$rc" 124 "a bare connect to $SILENT4 is still waiting after 3 s (exit status of timeout)"
assert_eq "$(kcounter "$CLI" IcmpInMsgs)" "$icmp0" "ICMP messages received by the client"
assert_eq "$(kcounter "$CLI" TcpInErrs)" "$rst0" "TCP errors counted by the client"
out=$(in_cli timeout 2 $PY $PYCLIENT tcp $SILENT6 8080)
assert_eq "$?" 124 "a bare connect to $SILENT6 is still waiting after 2 s"

case_begin "lab: the test clients work (tcpinfo)"
out=$(bare "$TCPINFO" $FAR4 8080 hi)
assert_eq "$?" 0 "tcpinfo exit status"
assert_eq "$(kv "$out" reply)" "you are $A4_CLI" "tcpinfo reply"
assert_eq "$(kv "$out" syn_data)" 0 "syn_data"
assert_saw "$LOG" $A4_CLI "server"
out=$(bare "$TCPINFO" $FAR4 8099)
assert_eq "$?" 3 "tcpinfo exit status on a refused connect"
assert_eq "$(kv "$out" errno)" ECONNREFUSED "tcpinfo errno"

finish
