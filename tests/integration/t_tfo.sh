#!/bin/bash
# tcp_fast_open: with net.ipv4.tcp_fastopen = 3 in both namespaces and a TFO server,
# the first connection fetches a cookie and the second carries its first write in
# the SYN: tcpinfo reports TCPI_OPT_SYN_DATA and the client namespace's
# TcpExtTCPFastOpenActive grows.
# Verified to fail without the shim (SHIM=/nonexistent): syn_data=0 and the counter
# stays; each run also asserts that a bare client, with the cookie cached, sends no
# data in its SYN.
. "$(dirname "$0")/lib.sh"
lab_up
shim_present
for ns in "$CLI" "$SRV"; do
    ip netns exec "$ns" sysctl -qw net.ipv4.tcp_fastopen=3 >/dev/null
done
srv_start tfo --tfo $FAR4:8080 "[$FAR6]:8080"
srv_start far $FAR4:8081
LOG=$T/tfo.log

CFG=$(write_conf tfo <<'EOF'
[dialer fast]
type = direct
tcp_fast_open = true

[app all]
match = *
dialer = fast
EOF
)
OFF=$(write_conf off <<'EOF'
[dialer slow]
type = direct
tcp_fast_open = false

[app all]
match = *
dialer = slow
EOF
)
VB=$(write_conf vb <<'EOF'
[dialer viab]
type = direct
bind_interface = vb

[app all]
match = *
dialer = viab
EOF
)

case_begin "tcp_fast_open = true: the second connection carries data in its SYN (IPv4)"
c0=$(kcounter "$CLI" TcpExtTCPFastOpenActive)
out1=$(shim "$CFG" "$TCPINFO" $FAR4 8080 first)
assert_eq "$?" 0 "first tcpinfo exit status ($out1)"
assert_eq "$(kv "$out1" reply)" "you are $A4_CLI" "first reply"
out2=$(shim "$CFG" "$TCPINFO" $FAR4 8080 second)
assert_eq "$?" 0 "second tcpinfo exit status ($out2)"
assert_eq "$(kv "$out2" reply)" "you are $A4_CLI" "second reply"
assert_eq "$(kv "$out2" syn_data)" 1 "second connection: syn_data"
c1=$(kcounter "$CLI" TcpExtTCPFastOpenActive)
assert_ge "$((c1 - c0))" 1 "TcpExtTCPFastOpenActive increase"
assert_eq "$(peers "$LOG" | wc -l)" 2 "connections the server saw"
: >"$LOG"

case_begin "tcp_fast_open = true: IPv6 too"
shim "$CFG" "$TCPINFO" $FAR6 8080 first >/dev/null
out=$(shim "$CFG" "$TCPINFO" $FAR6 8080 second)
assert_eq "$?" 0 "tcpinfo exit status ($out)"
assert_eq "$(kv "$out" syn_data)" 1 "second connection: syn_data"
: >"$LOG"

case_begin "without tcp_fast_open no data rides in the SYN (cookie cached)"
c0=$(kcounter "$CLI" TcpExtTCPFastOpenActive)
out=$(bare "$TCPINFO" $FAR4 8080 bare)
assert_eq "$?" 0 "bare tcpinfo exit status ($out)"
assert_eq "$(kv "$out" syn_data)" 0 "bare: syn_data"
out=$(shim "$OFF" "$TCPINFO" $FAR4 8080 off)
assert_eq "$?" 0 "tcp_fast_open = false: tcpinfo exit status ($out)"
assert_eq "$(kv "$out" syn_data)" 0 "tcp_fast_open = false: syn_data"
c1=$(kcounter "$CLI" TcpExtTCPFastOpenActive)
assert_eq "$c1" "$c0" "TcpExtTCPFastOpenActive"
: >"$LOG"

case_begin "sendto(MSG_FASTOPEN) is routed like connect (bind_interface = vb)"
out=$(bare $PY $PYCLIENT fastopen $FAR4 8081)
assert_eq "$(kv "$out" reply)" "you are $A4_CLI" "bare run"
out=$(shim "$VB" $PY $PYCLIENT fastopen $FAR4 8081)
assert_eq "$?" 0 "client exit status ($out)"
assert_eq "$(kv "$out" reply)" "you are $B4_CLI" "through the shim"
assert_eq "$(peers "$T/far.log" | tr '\n' ' ')" "$A4_CLI $B4_CLI " "server saw"

finish
