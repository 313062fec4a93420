#!/bin/bash
# Proxy groups (dialshim.ini(5) `type = group`) against real proxies: a failover
# group whose first members are dead (refused), stalled (accepts, never answers,
# bounded by its connect_timeout) and garbage (answers random bytes), then a live
# microsocks: curl gets both pages, the live proxy carried both connections, and on
# the second connect of the same process the broken members saw nothing (counted
# at the fakes' logs and, for the refused one, by the client namespace's kernel
# counter of failed connection attempts). What a process marked down is kept in
# state_dir: a second process skips those members too, and explain shows them. A
# destination the live member refuses (SOCKS5 REP 5) goes to the program as
# ECONNREFUSED and the next member sees nothing. round_robin over two microsocks:
# each carried half, also when each connection is a process of its own (the turn
# is shared through state_dir). UDP through a group whose first member is dead: the datagrams
# went through dante. `check` reports cycles and unknown members at FILE:LINE.
# Verified to fail before groups existed: `type = group` was refused by check, so
# every run below failed closed (EACCES) and the live proxies saw nothing.
. "$(dirname "$0")/lib.sh"
. "$IT_DIR/proxy_lib.sh"
lab_up
shim_present
srv_start far --http $FAR4:8080
srv_start farudp --udp --echo $FAR4:5353
start_fake stall stall $B4_SRV:1202
start_fake junk random $B4_SRV:1203
start_microsocks live $B4_SRV 1204 -b $B4_SRV
start_microsocks rr1 $B4_SRV 1205 -b $B4_SRV
start_microsocks rr2 $B4_SRV 1206 -b $B4_SRV
start_fake rep5 socks5 $B4_SRV:1207 --rep 5
start_dante dante 1081 none $FAR4
UDPC=$IT_DIR/udp_client.py

# group_conf NAME PICK MEMBERS [extra lines on stdin]: every program through `pool`.
group_conf() {
    local name=$1 pick=$2 members=$3 extra
    extra=$(cat)
    write_conf "$name" <<EOF
[global]
state_dir = $T/state-$name

[dialer dead]
type = socks5
server = $B4_SRV:1201
[dialer stalled]
type = socks5
server = $B4_SRV:1202
connect_timeout = 1s
[dialer garbage]
type = socks5
server = $B4_SRV:1203
[dialer live]
type = socks5
server = $B4_SRV:1204
handshake = lockstep
[dialer rr1]
type = socks5
server = $B4_SRV:1205
handshake = lockstep
[dialer rr2]
type = socks5
server = $B4_SRV:1206
handshake = lockstep
[dialer refuser]
type = socks5
server = $B4_SRV:1207
[dialer dante]
type = socks5
server = $B4_SRV:1081

[dialer pool]
type = group
members = $members
pick = $pick
connect_timeout = 8s
$extra

[app all]
match = *
dialer = pool
EOF
}
attempt_fails() { kcounter "$CLI" TcpAttemptFails; }
ms_conns() { count_lines "$T/$1.log" "connected to"; }
fake_conns() { peers "$T/$1.log" | wc -l; }
# pages N: curl fetches N pages, one connection each (the server speaks HTTP/1.0).
pages() {
    local i args=()
    for i in $(seq 1 "$1"); do args+=(-o /dev/null "http://$FAR4:8080/$i"); done
    printf '%s\n' "${args[@]}"
}
CURL="curl -sS --max-time 9 -w %{http_code}\n"

FAIL=$(group_conf failover failover "dead, stalled, garbage, live" </dev/null)

case_begin "failover: dead, stalled and garbage members are passed over inside one connect; the next connect skips them"
before=$(attempt_fails)
run_shim "$FAIL" $CURL $(pages 2)
assert_eq "$RC" 0 "curl exit status"
assert_eq "$(printf '%s' "$OUT" | tr '\n' ' ')" "200 200" "both pages"
assert_eq "$(ms_conns live)" 2 "connections the live proxy carried"
assert_eq "$(peers "$T/far.log" | tr '\n' ' ')" "$B4_SRV $B4_SRV " "the far server saw the proxy, twice"
assert_eq "$(fake_conns stall)" 1 "connections the stalled member saw (none on the second connect)"
assert_eq "$(fake_conns junk)" 1 "connections the garbage member saw (none on the second connect)"
assert_eq "$(($(attempt_fails) - before))" 1 "refused connection attempts (the dead member, first connect only)"
assert_match "$ERR" "group pool: member dead down for 30000ms" "log: dead marked down"
assert_match "$ERR" "group pool: member stalled down" "log: stalled marked down"
assert_match "$ERR" "group pool: member garbage down" "log: garbage marked down"
: >"$T/far.log"
: >"$T/stall.log"
: >"$T/junk.log"
: >"$T/live.log"

case_begin "state_dir: a second process skips the members the first marked down; explain shows them down"
before=$(attempt_fails)
run_shim "$FAIL" $CURL $(pages 1)
assert_eq "$RC" 0 "client exit status"
assert_eq "$(ms_conns live)" 1 "the live proxy carried it"
assert_eq "$(fake_conns stall)" 0 "the stalled member saw nothing"
assert_eq "$(fake_conns junk)" 0 "the garbage member saw nothing"
assert_eq "$(($(attempt_fails) - before))" 0 "refused connection attempts"
assert_match "$(cat "$T/state-failover/groups" 2>&1)" "dead $B4_SRV:1201" "the state file names the dead member"
EXPL=$(in_cli timeout "$CTMO" "$DIALSHIM" explain -c "$FAIL" -p all $FAR4 8080 2>&1)
note "$(printf '%s' "$EXPL" | tr '\n' '|')"
assert_match "$EXPL" "group pool: pick failover, down_for 30000ms; members: dead \(down, [0-9]+s left\), stalled \(down" "explain: members down"
assert_match "$EXPL" "chain: live \(socks5\) -> destination" "explain: the chain picks the live member"
: >"$T/far.log"
: >"$T/live.log"

case_begin "a group as another dialer's detour: the chain's first hop fails over from the dead member to the live one"
# outer (dante) is reached through pool; the app's dialer is outer
P0=$(group_conf outer failover "dead, live" <<EOF
[dialer outer]
type = socks5
server = $B4_SRV:1081
detour = pool
EOF
)
OUTER=$(sed 's/^dialer = pool$/dialer = outer/' "$P0" | write_conf outer2)
: >"$T/far.log"
: >"$T/live.log"
: >"$T/dante.log"
run_shim "$OUTER" $CURL $(pages 1)
assert_eq "$RC" 0 "curl exit status"
assert_eq "$OUT" "200" "the page"
assert_match "$(cat "$T/live.log")" "connected to $B4_SRV:1081" "the live member carried the connection to dante"
assert_eq "$(peers "$T/far.log" | tr '\n' ' ')" "$FAR4 " "the far server saw dante's address"
assert_match "$ERR" "group pool: member dead down" "log: dead marked down"
: >"$T/far.log"
: >"$T/live.log"

case_begin "a group as a member of another group: the inner group fails over from the dead member to the live one"
P1=$(group_conf nested failover "dead, live" <<EOF
[dialer top]
type = group
members = refuser2, pool
pick = failover
[dialer refuser2]
type = socks5
server = $B4_SRV:1201
EOF
)
NESTED=$(sed 's/^dialer = pool$/dialer = top/' "$P1" | write_conf nested2)
: >"$T/far.log"
: >"$T/live.log"
run_shim "$NESTED" $CURL $(pages 1)
assert_eq "$RC" 0 "curl exit status"
assert_eq "$OUT" "200" "the page"
assert_eq "$(ms_conns live)" 1 "connections the live member carried"
assert_eq "$(peers "$T/far.log" | tr '\n' ' ')" "$B4_SRV " "the far server saw the live proxy"
assert_match "$ERR" "group top: member refuser2 down" "log: the outer group's dead member marked down"
assert_match "$ERR" "group pool: member dead down" "log: the inner group's dead member marked down"
: >"$T/far.log"
: >"$T/live.log"

case_begin "a destination the member refuses (SOCKS5 REP 5) is not the member's failure: no failover, ECONNREFUSED"
REF=$(group_conf refused failover "refuser, live" </dev/null)
run_shim "$REF" $PY $PROXY_CLIENT $FAR4 8080
assert_eq "$RC" 3 "client exit status"
assert_eq "$(kv "$OUT" errno)" ECONNREFUSED "errno"
assert_match "$(cat "$T/rep5.log")" "REQ $FAR4 8080" "the refusing member got the request"
assert_eq "$(ms_conns live)" 0 "the second member saw nothing"
assert_saw_nothing "$T/far.log" "far server"
assert_no_match "$ERR" "down for" "no member marked down"

case_begin "round_robin over two microsocks: each carries half"
RR=$(group_conf rr round_robin "rr1, rr2" </dev/null)
run_shim "$RR" $CURL $(pages 10)
assert_eq "$RC" 0 "client exit status"
assert_eq "$(ms_conns rr1)" 5 "connections through rr1"
assert_eq "$(ms_conns rr2)" 5 "connections through rr2"
: >"$T/far.log"
: >"$T/rr1.log"
: >"$T/rr2.log"

case_begin "round_robin across processes: the turn is kept in state_dir, so two one-connection processes take both members"
RRP=$(group_conf rrp round_robin "rr1, rr2" </dev/null)
for i in 1 2; do
    run_shim "$RRP" $CURL $(pages 1)
    assert_eq "$RC" 0 "curl exit status ($i)"
done
assert_eq "$(ms_conns rr1) $(ms_conns rr2)" "1 1" "connections through rr1 and rr2"
: >"$T/far.log"
: >"$T/rr1.log"
: >"$T/rr2.log"

case_begin "random: every connection goes through a live member, none through the dead one"
RND=$(group_conf rnd random "dead, rr1, rr2" <<<"down_for = 1m")
before=$(attempt_fails)
run_shim "$RND" $CURL $(pages 6)
assert_eq "$RC" 0 "client exit status"
assert_eq "$(($(ms_conns rr1) + $(ms_conns rr2)))" 6 "connections through rr1 and rr2"
assert_le "$(($(attempt_fails) - before))" 1 "refused connection attempts (the dead member at most once)"
: >"$T/far.log"

case_begin "UDP ASSOCIATE through a group whose first member is dead: the datagrams go through dante"
UDP=$(group_conf udp failover "dead, dante" </dev/null)
run_shim "$UDP" $PY $UDPC echo $FAR4 5353 --count=5
assert_eq "$RC" 0 "client exit status"
assert_match "$OUT" "bad=0 lost=0" "every payload back"
assert_eq "$(kv "$OUT" seen)" $FAR4 "the far server saw dante's external address"
assert_match "$ERR" "group pool: member dead down" "log: dead marked down"

case_begin "UDP through a group whose member dials directly: refused (EPERM), nothing sent"
UDPD=$(group_conf udpd failover "direct" </dev/null)
: >"$T/farudp.log"
run_shim "$UDPD" $PY $UDPC echo $FAR4 5353 --count=1
assert_eq "$RC" 3 "client exit status"
assert_eq "$(kv "$OUT" errno)" EPERM "errno"
assert_match "$ERR" "the member it picks dials directly" "the log says why"
assert_saw_nothing "$T/farudp.log" "far UDP server"

case_begin "check: a cycle through a group and an unknown member are errors at FILE:LINE"
BAD=$(write_conf bad <<EOF
[dialer a]
type = socks5
server = $B4_SRV:1204
[dialer pool]
type = group
members = a, nowhere
EOF
)
OUT=$(timeout "$CTMO" "$DIALSHIM" check -c "$BAD" 2>&1)
assert_match "$OUT" "$BAD:6: undefined dialer 'nowhere'" "unknown member"
BAD2=$(write_conf bad2 <<EOF
[dialer a]
type = socks5
server = $B4_SRV:1204
detour = pool
[dialer pool]
type = group
members = a
EOF
)
OUT=$(timeout "$CTMO" "$DIALSHIM" check -c "$BAD2" 2>&1)
assert_match "$OUT" "$BAD2:(4|7): group cycle: " "cycle"
finish
