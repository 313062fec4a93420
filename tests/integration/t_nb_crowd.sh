#!/bin/bash
# Background dials share the driver's threads by dialer: 260 dials stuck on a
# proxy that holds every request cannot take all of them (DRIVER_MAX 256, at
# most DRIVER_KEY_MAX 192 per dialer), so a dial through another proxy, started
# after them, completes while they are all still pending.
# Fails on the tree before: the 256 threads all waited on the stalled proxy and
# the other dial sat in the queue behind the 4 stalled ones left (not writable
# within 8 s).
. "$(dirname "$0")/lib.sh"
. "$IT_DIR/proxy_lib.sh"
. "$IT_DIR/nb_lib.sh"
CTMO=40
lab_up
shim_present
srv_start far $FAR4:8081
nbp_start held socks5 $A4_SRV:1096 --release "$T/never" --hold 30
start_microsocks ms $B4_SRV 1080 -b $B4_SRV
LOG=$T/far.log

CFG=$(write_conf crowd <<EOF
[dialer held]
type = socks5
server = $A4_SRV:1096
connect_timeout = 25s

[dialer ms]
type = socks5
server = $B4_SRV:1080
handshake = lockstep

[app all]
match = *
dialer = ms
route = port:8082 -> held
EOF
)

case_begin "260 dials held by one proxy, then one through another: it completes while they all stay pending"
run_shim "$CFG" $PY $NB_CLIENT crowd $FAR4 8082 260 $FAR4 8081 "$T/held.log" 192
assert_ge "$(kv "$OUT" reqs)" 192 "requests the holding proxy had before the other dial"
assert_eq "$(kv "$OUT" connect)" EINPROGRESS "the other dial: connect"
assert_eq "$(kv "$OUT" other)" 1 "the other dial: writable"
assert_eq "$(kv "$OUT" so_error)" 0 "the other dial: SO_ERROR"
assert_eq "$(kv "$OUT" reply)" "you are $B4_SRV" "the other dial: reply through its proxy"
assert_eq "$(kv "$OUT" stalled_ready)" 0 "held dials reported ready meanwhile"
assert_eq "$(plog_count held GIVEUP)" 0 "requests the holding proxy gave up on"
assert_eq "$(peers "$LOG")" "$B4_SRV" "connections the far server saw"

finish
