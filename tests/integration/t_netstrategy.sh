#!/bin/bash
# network_strategy (the seed's ParallelInterfaceDialer): which interface a dial
# leaves by when several are listed, and what happens when the preferred one is
# dead. "Dead" here is silent: the server namespace blackholes its replies to link
# A's client address, so a SYN by link A is never answered (no RST, no ICMP).
# Verified to fail without the shim (SHIM=/nonexistent): a bare client leaves by
# link A and hangs until its timeout once link A is dead.
. "$(dirname "$0")/lib.sh"
lab_up
shim_present
srv_start far $FAR4:8080
LOG=$T/far.log

FALLBACK=$(write_conf fallback <<'EOF2'
[dialer multi]
type = direct
network_strategy = fallback
network_type = va
fallback_network_type = vb
fallback_delay = 300ms
connect_timeout = 5s

[app all]
match = *
dialer = multi
EOF2
)
HYBRID=$(write_conf hybrid <<'EOF2'
[dialer multi]
type = direct
network_strategy = hybrid
network_type = va
fallback_network_type = vb
fallback_delay = 2s
connect_timeout = 5s

[app all]
match = *
dialer = multi
EOF2
)
kill_link_a() { in_srv ip route add blackhole $A4_CLI/32; }
heal_link_a() { in_srv ip route del blackhole $A4_CLI/32; }

case_begin "fallback: preferred interface alive -> it is used (link A)"
out=$(shim "$FALLBACK" $PY $PYCLIENT tcp $FAR4 8080)
assert_eq "$?" 0 "client exit status ($out)"
assert_saw "$LOG" $A4_CLI "preferred interface"

case_begin "fallback: preferred interface dead -> fallback interface after fallback_delay"
kill_link_a
out=$(CTMO=4 bare $PY $PYCLIENT tcp $FAR4 8080 2>&1)
assert_ne "$(kv "$out" reply)" "you are $A4_CLI" "bare run must not get through link A"
: >"$LOG"
out=$(shim "$FALLBACK" $PY $PYCLIENT tcp $FAR4 8080)
assert_eq "$?" 0 "client exit status ($out)"
assert_eq "$(kv "$out" reply)" "you are $B4_CLI" "reply"
assert_saw "$LOG" $B4_CLI "fallback interface"
el=$(kv "$out" elapsed)
assert_ge "$el" 0.28 "waited fallback_delay for the preferred interface"
assert_le "$el" 1.5 "then fell back promptly"

case_begin "hybrid: both interfaces race at once; a dead one costs nothing"
out=$(shim "$HYBRID" $PY $PYCLIENT tcp $FAR4 8080)
assert_eq "$?" 0 "client exit status ($out)"
assert_saw "$LOG" $B4_CLI "the live interface won"
assert_le "$(kv "$out" elapsed)" 1.0 "no fallback_delay (2 s) was waited"
heal_link_a

case_begin "fallback: a missing preferred interface is skipped at once"
CFG=$(write_conf missing <<'EOF2'
[dialer multi]
type = direct
network_strategy = fallback
network_type = nosuch0
fallback_network_type = vb
fallback_delay = 2s

[app all]
match = *
dialer = multi
EOF2
)
out=$(shim "$CFG" $PY $PYCLIENT tcp $FAR4 8080)
assert_eq "$?" 0 "client exit status ($out)"
assert_saw "$LOG" $B4_CLI "fallback interface"
assert_le "$(kv "$out" elapsed)" 1.0 "no fallback_delay was waited"

finish
