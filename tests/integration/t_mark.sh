#!/bin/bash
# routing_mark (SO_MARK): the client namespace has `ip rule fwmark 0x64 table 100`,
# and table 100 routes the far networks by link B. The main table uses link A.
# Verified to fail without the shim (SHIM=/nonexistent): the server sees link A.
. "$(dirname "$0")/lib.sh"
lab_up
shim_present
srv_start far $FAR4:8080 "[$FAR6]:8080"
LOG=$T/far.log

mark_conf() { # NAME VALUE
    write_conf "$1" <<EOF
[dialer marked]
type = direct
routing_mark = $2

[app all]
match = *
dialer = marked
EOF
}
HEX=$(mark_conf hex 0x64)
DEC=$(mark_conf dec 100)
OTHER=$(mark_conf other 0x65)
NOMARK=$(write_conf nomark <<'EOF'
[dialer plain]
type = direct

[app all]
match = *
dialer = plain
EOF
)

case_begin "routing_mark = 0x64: IPv4 follows the fwmark rule to link B"
bare $PY $PYCLIENT tcp $FAR4 8080 >/dev/null
assert_saw "$LOG" $A4_CLI "bare run"
rx0=$(rx_packets "$SRV" vb)
out=$(shim "$HEX" $PY $PYCLIENT tcp $FAR4 8080)
assert_eq "$?" 0 "client exit status ($out)"
rx1=$(rx_packets "$SRV" vb)
assert_eq "$(kv "$out" reply)" "you are $B4_CLI" "reply"
assert_saw "$LOG" $B4_CLI "through the shim"
assert_ge $((rx1 - rx0)) 3 "packets received on the server's vb"

case_begin "routing_mark = 0x64: IPv6 follows the fwmark rule to link B"
out=$(shim "$HEX" $PY $PYCLIENT tcp $FAR6 8080)
assert_eq "$?" 0 "client exit status ($out)"
assert_saw "$LOG" $B6_CLI "through the shim"

case_begin "routing_mark = 100 (decimal) is the same mark"
out=$(shim "$DEC" "$TCPINFO" $FAR4 8080)
assert_eq "$?" 0 "tcpinfo exit status ($out)"
assert_saw "$LOG" $B4_CLI "through the shim"

case_begin "without the mark (and with a mark no rule matches) link A"
out=$(shim "$NOMARK" $PY $PYCLIENT tcp $FAR4 8080)
assert_eq "$?" 0 "no mark: client exit status ($out)"
assert_saw "$LOG" $A4_CLI "no routing_mark"
out=$(shim "$OTHER" $PY $PYCLIENT tcp $FAR4 8080)
assert_eq "$?" 0 "mark 0x65: client exit status ($out)"
assert_saw "$LOG" $A4_CLI "routing_mark = 0x65"

finish
