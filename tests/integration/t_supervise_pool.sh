#!/bin/bash
# The supervisor's workers: one thread receives the trapped calls; a proxy
# handshake is handed over to another worker when a call comes while it waits.
# Seen from outside with a barrier proxy (nb_lib.sh), no clock: 20 Go
# connections at once (a blocking handshake in the supervisor for each) must all
# be pending at the proxy at the same moment. A supervisor that serves one call
# after another never fills the barrier: its first handshake waits for an answer
# that only the proxy's fail-safe gives (GIVEUP), the others queue behind it.
# Verified to fail with the handover disabled (the receiver keeping every call).
. "$(dirname "$0")/lib.sh"
. "$IT_DIR/proxy_lib.sh"
. "$IT_DIR/nb_lib.sh"
. "$IT_DIR/sup_lib.sh"
lab_up
sup_build_go
nbp_start far far $FAR4:8081
nbp_start b20 socks5 $A4_SRV:1090 --barrier 20 --bind $A4_SRV
CTMO=20

BAR=$(write_conf bar <<EOF
[dialer b]
type = socks5
server = $A4_SRV:1090
handshake = lockstep
connect_timeout = 10s

[app all]
match = *
dialer = b
EOF
)

case_begin "20 Go connections at once through a barrier proxy: all pending at once, all answered"
run_tool "$BAR" "$SUPGO" many 20 $FAR4:8081
assert_eq "$(kv "$OUT" ok)" 20 "connections answered"
assert_eq "$(plog_count b20 BARRIER)" 1 "the barrier saw 20 requests pending at once"
assert_eq "$(plog_count b20 GIVEUP)" 0 "requests the barrier gave up on"
assert_eq "$(peers "$T/far.log" | grep -c "^$A4_SRV\$")" 20 "far server: connections from the barrier proxy"
assert_eq "$(peers "$T/far.log" | grep -vc "^$A4_SRV\$")" 0 "far server: connections from anyone else"
finish
