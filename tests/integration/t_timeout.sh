#!/bin/bash
# connect_timeout: a connect to the silent address (its SYNs vanish: no reply, no
# RST, no ICMP) fails with ETIMEDOUT after about the configured time.
# Verified to fail without the shim (SHIM=/nonexistent): the same client is still
# waiting after 3 s (the kernel retries SYNs for about 2 minutes); each case asserts
# that bare behaviour too.
. "$(dirname "$0")/lib.sh"
CTMO=6
lab_up
shim_present
srv_start far $FAR4:8080
LOG=$T/far.log

tmo_conf() { # NAME DURATION
    write_conf "$1" <<EOF
[dialer slow]
type = direct
connect_timeout = $2

[app all]
match = *
dialer = slow
EOF
}
ONE=$(tmo_conf one 1s)
SHORT=$(tmo_conf short 300ms)

case_begin "connect_timeout = 1s: ETIMEDOUT in about 1 s (IPv4, python3)"
out=$(in_cli timeout 3 $PY $PYCLIENT tcp $SILENT4 8080)
assert_eq "$?" 124 "bare: still waiting after 3 s"
out=$(shim "$ONE" $PY $PYCLIENT tcp $SILENT4 8080)
assert_eq "$?" 3 "client exit status ($out)"
assert_eq "$(kv "$out" errno)" ETIMEDOUT "errno"
assert_le "$(kv "$out" elapsed)" 3 "seconds in connect"
assert_ge "$(kv "$out" elapsed)" 0.7 "seconds in connect"

case_begin "connect_timeout = 1s: ETIMEDOUT in about 1 s (IPv6, C client)"
t0=$(date +%s.%N)
out=$(shim "$ONE" "$TCPINFO" $SILENT6 8080)
rc=$?
el=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
assert_eq "$rc" 3 "tcpinfo exit status ($out)"
assert_eq "$(kv "$out" errno)" ETIMEDOUT "errno"
assert_le "$el" 3 "seconds for the whole run"

case_begin "connect_timeout = 300ms is honoured (not a fixed timeout)"
out=$(shim "$SHORT" $PY $PYCLIENT tcp $SILENT4 8080)
assert_eq "$?" 3 "client exit status ($out)"
assert_eq "$(kv "$out" errno)" ETIMEDOUT "errno"
assert_le "$(kv "$out" elapsed)" 0.9 "seconds in connect"
assert_ge "$(kv "$out" elapsed)" 0.2 "seconds in connect"

case_begin "connect_timeout = 1s: a refused connect fails at once with ECONNREFUSED"
out=$(shim "$ONE" $PY $PYCLIENT tcp $FAR4 8099)
assert_eq "$?" 3 "client exit status ($out)"
assert_eq "$(kv "$out" errno)" ECONNREFUSED "errno"
assert_le "$(kv "$out" elapsed)" 0.5 "seconds in connect"

case_begin "connect_timeout = 1s does not disturb a reachable server"
out=$(shim "$ONE" $PY $PYCLIENT tcp $FAR4 8080)
assert_eq "$?" 0 "client exit status ($out)"
assert_eq "$(kv "$out" reply)" "you are $A4_CLI" "reply"
assert_saw "$LOG" $A4_CLI "server"

finish
