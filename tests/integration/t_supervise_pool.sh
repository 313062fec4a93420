#!/bin/bash
# The supervisor's workers: one thread receives the trapped calls; a proxy
# handshake is handed over to another worker when a call comes while it waits.
# Seen from outside with a barrier proxy (nb_lib.sh), no clock: 20 Go
# connections at once (a blocking handshake in the supervisor for each) must all
# be pending at the proxy at the same moment. A supervisor that serves one call
# after another never fills the barrier: its first handshake waits for an answer
# that only the proxy's fail-safe gives (GIVEUP), the others queue behind it.
# Verified to fail with the handover disabled (the receiver keeping every call).
# A dial whose proxy is of the other family gets a new socket (dial_swap's dup3,
# seen by the supervisor): it takes the program's descriptor, the reply and
# getpeername come through it. Verified to fail when that dup3 goes unseen.
. "$(dirname "$0")/lib.sh"
. "$IT_DIR/proxy_lib.sh"
. "$IT_DIR/nb_lib.sh"
. "$IT_DIR/sup_lib.sh"
lab_up
sup_build_go
nbp_start far far $FAR4:8081
nbp_start b20 socks5 $A4_SRV:1090 --barrier 20 --bind $A4_SRV
srv_start far2 $FAR4:8082
start_microsocks ms6 $A6_SRV 1080
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
SOCKS6=$(write_conf socks6 <<EOF
[dialer p]
type = socks5
server = [$A6_SRV]:1080
handshake = lockstep

[app all]
match = *
dialer = p
EOF
)

case_begin "20 Go connections at once through a barrier proxy: all pending at once, all answered"
run_tool "$BAR" "$SUPGO" many 20 $FAR4:8081
assert_eq "$(kv "$OUT" ok)" 20 "connections answered"
assert_eq "$(plog_count b20 BARRIER)" 1 "the barrier saw 20 requests pending at once"
assert_eq "$(plog_count b20 GIVEUP)" 0 "requests the barrier gave up on"
assert_eq "$(peers "$T/far.log" | grep -c "^$A4_SRV\$")" 20 "far server: connections from the barrier proxy"
assert_eq "$(peers "$T/far.log" | grep -vc "^$A4_SRV\$")" 0 "far server: connections from anyone else"
case_begin "an IPv4 Go dial through an IPv6 proxy: the new socket takes the program's descriptor"
run_tool "$SOCKS6" "$SUPGO" dial $FAR4:8082
assert_eq "$(kv "$OUT" reply)" "you are $FAR4" "reply (through the proxy)"
assert_eq "$(kv "$OUT" remote)" "$FAR4:8082" "RemoteAddr, not the proxy's"
assert_saw "$T/far2.log" $FAR4 "far server (the proxy)"
assert_match "$(cat "$T/ms6.log")" "$A6_CLI: connected to $FAR4:8082" "microsocks log (the client came over IPv6)"

finish
