#!/bin/bash
# Bench part: proxy groups (dialshim.ini(5) GROUPS). Prints markdown rows on stdout,
# details on stderr. Called by run.sh (BENCH_PARTS=group); `bash tests/bench/group.sh`
# runs it alone (root).
#
# 1. Fail-over cost, in lib.sh's delay lab (client ── tundelay DELAY ms each way ──
#    proxy 198.51.100.1, danted :1080 ── far 203.0.113.2): time to the first byte
#    (ttfb.c) through the live proxy named directly, against a failover group whose
#    first member (198.51.100.1:1090, nothing listens) refuses. down_for = 1ms and
#    state_dir empty, so every connect meets the refusal. The extra time over the
#    direct dial, in RTTs measured as refused TCP connects (target: at most the
#    refused SYN's own round trip, 1 RTT, within 5 %).
# 2. round_robin cost: connections/s through two local microsocks in one namespace
#    (socks5bench plain, as socks5.sh) with a round_robin group of the two against
#    one socks5 dialer to the first; each microsocks' log is counted to prove the
#    spread. Rounds alternate the variants; ratios are the median of the ratios
#    within a round.
set -u
. "$(dirname "$0")/lib.sh"

DELAY=${BENCH_DELAY_MS:-25}
RUNS=${BENCH_GROUP_RUNS:-5} # rounds of the fail-over row; 3 connections a round each
N=${BENCH_GROUP_CONNS:-3000}
ROUNDS=${BENCH_GROUP_ROUNDS:-21}
for p in danted microsocks; do
    command -v $p >/dev/null || { echo "<!-- group: $p missing (make deps) -->"; exit 1; }
done
cc -O2 -Wall -Wextra -Werror -o "$B/ttfb" "$BENCH_DIR/ttfb.c" || exit 1
cc -O2 -Wall -Wextra -Werror -o "$B/socks5bench" "$BENCH_DIR/socks5bench.c" || exit 1

# ------------------------------------------------------------------ 1. fail-over
delay_lab_up "$DELAY" || { echo "<!-- group: the delay lab did not come up -->"; exit 1; }
bg $F "$BT/far.log" "$B/ttfb" server $FAR 8080 "$LIFE"
cat >"$BT/dante.conf" <<EOF
logoutput: $BT/dante.log
internal: $PROXY port = 1080
external: $PROXY_EXT
clientmethod: none
socksmethod: none
user.privileged: root
user.unprivileged: nobody
client pass { from: 0/0 to: 0/0 }
socks pass { from: 0/0 to: 0/0 }
EOF
bg $P "$BT/dante.out" danted -f "$BT/dante.conf" -N 1 -p "$BT/dante.pid"
wait_listen $P 1080 || exit 1
wait_listen $F 8080 || exit 1
# The RTT as a refused TCP connect measures it (ttfb rtt): exactly what the dead
# member costs when nothing else does.
BENCH_RTT_TCP=1 lab_rtt || { echo "<!-- group: no RTT measured -->"; exit 1; }
echo "bench group: RTT ($RTT_HOW, median of 40): $RTT ms" >&2

members() { # the two members, lockstep (one handshake shape for both variants)
    printf '[global]\nstate_dir =\n\n[dialer dead]\ntype = socks5\nserver = %s:1090\nhandshake = lockstep\n' $PROXY
    printf '[dialer live]\ntype = socks5\nserver = %s:1080\nhandshake = lockstep\n' $PROXY
}
{
    members
    printf '[app all]\nmatch = *\ndialer = live\n'
} >"$BT/direct.ini"
{
    members
    printf '[dialer pool]\ntype = group\nmembers = dead, live\ndown_for = 1ms\n'
    printf '[app all]\nmatch = *\ndialer = pool\n'
} >"$BT/failover.ini"

: >"$BT/ttfb"
for r in $(seq 1 "$RUNS"); do
    order="direct failover"
    [ $((r % 2)) = 0 ] && order="failover direct"
    for v in $order; do
        ip netns exec $C timeout 30 env LD_PRELOAD="$SHIM" DIALSHIM_CONFIG="$BT/$v.ini" \
            "$B/ttfb" client $FAR 8080 3 10 2>>"$BT/errors" |
            sed -n "s/^ttfb_ms=/$v $r /p" >>"$BT/ttfb"
    done
done
declare -A T
for v in direct failover; do
    T[$v]=$(awk -v v=$v '$1 == v { print $3 }' "$BT/ttfb" | median)
    echo "bench group: $v ttfb ms: $(awk -v v=$v '$1 == v { printf "%s ", $3 }' "$BT/ttfb")-> median ${T[$v]:-none}" >&2
done
far_peers=$(grep -c "^PEER $PROXY_EXT " "$BT/far.log" 2>/dev/null || true)
echo "bench group: the far server saw the proxy $far_peers times (expected $((RUNS * 6)))" >&2
extra=n/a met=NO best=n/a
if [ -n "${T[direct]:-}" ] && [ -n "${T[failover]:-}" ]; then
    extra=$(calc "(${T[failover]} - ${T[direct]}) / $RTT")
    met=$(yesno "$extra <= 1.05")
    # The fastest sample of each: the load of a shared machine only ever adds.
    best=$(calc "($(awk '$1 == "failover" { print $3 }' "$BT/ttfb" | sort -g | head -n 1) - \
        $(awk '$1 == "direct" { print $3 }' "$BT/ttfb" | sort -g | head -n 1)) / $RTT")
fi
row "fail-over to the second member when the first refuses (RTT $RTT ms): time to first byte, extra over a direct dial to the second, in RTTs (medians; fastest samples: $best)" \
    "${T[direct]:-failed} ms" "${T[failover]:-failed} ms" "$extra" "<= 1 RTT (1.05)" "$met"

# ------------------------------------------------------------------ 2. round_robin
NS=bg-$$
DST=203.0.113.7 DPORT=7001
ns_new $NS || exit 1
ip -n $NS addr add $DST/32 dev lo
ip netns exec $NS sysctl -qw net.ipv4.ip_local_port_range="10000 65000" net.ipv4.tcp_tw_reuse=1 >/dev/null
bg $NS "$BT/server.log" "$B/socks5bench" server $DST $DPORT
bg $NS "$BT/ms1.log" microsocks -i 127.0.0.1 -p 1080
bg $NS "$BT/ms2.log" microsocks -i 127.0.0.1 -p 1081
for port in $DPORT 1080 1081; do wait_listen $NS $port || exit 1; done
rr_members() {
    printf '[global]\nstate_dir =\n\n'
    printf '[dialer m1]\ntype = socks5\nserver = 127.0.0.1:1080\nhandshake = lockstep\n'
    printf '[dialer m2]\ntype = socks5\nserver = 127.0.0.1:1081\nhandshake = lockstep\n'
}
{
    rr_members
    printf '[app all]\nmatch = *\ndialer = m1\n'
} >"$BT/single.ini"
{
    rr_members
    printf '[dialer pool]\ntype = group\nmembers = m1, m2\npick = round_robin\n'
    printf '[app all]\nmatch = *\ndialer = pool\n'
} >"$BT/rr.ini"
run() { # VARIANT COUNT -> "conns/s cpu_us_per_conn"
    ip netns exec $NS timeout 120 env LD_PRELOAD="$SHIM" DIALSHIM_CONFIG="$BT/$1.ini" \
        "$B/socks5bench" plain $DST $DPORT "$2" 2>>"$BT/errors" |
        awk -F= '/^conns_per_sec=/ { c = $2 } /^cpu_us_per_conn=/ { u = $2 } END { print c, u }'
}
for v in single rr; do run $v 200 >/dev/null; done # warm up
: >"$BT/ms1.log"
: >"$BT/ms2.log"
: >"$BT/conns"
for r in $(seq 1 "$ROUNDS"); do
    order="single rr"
    [ $((r % 2)) = 0 ] && order="rr single"
    for v in $order; do
        read -r rate cpu <<<"$(run $v "$N")"
        echo "$v ${rate:-} $r ${cpu:-}" >>"$BT/conns"
    done
done
[ -s "$BT/errors" ] && sed 's/^/bench group: /' "$BT/errors" | sort | uniq -c | head -n 5 >&2
declare -A M U
for v in single rr; do
    M[$v]=$(awk -v v=$v '$1 == v && $2 != "" { print $2 }' "$BT/conns" | median)
    U[$v]=$(awk -v v=$v '$1 == v && $4 != "" { print $4 }' "$BT/conns" | median)
    echo "bench group: $v: $(awk -v v=$v '$1 == v { printf "%s ", $2 }' "$BT/conns")-> median ${M[$v]:-none}/s" >&2
done
c1=$(grep -c "connected to $DST:$DPORT" "$BT/ms1.log")
c2=$(grep -c "connected to $DST:$DPORT" "$BT/ms2.log")
echo "bench group: microsocks 1 carried $c1, microsocks 2 carried $c2 (single: $((ROUNDS * N)) to 1; rr: $((ROUNDS * N / 2)) each)" >&2
ratio=$(awk '{ r[$1, $3] = $2; n[$3] = 1 } END { for (i in n) if (r["single", i] && r["rr", i]) printf "%.6f\n", r["rr", i] / r["single", i] }' "$BT/conns" | median)
met=NO
[ -n "$ratio" ] && ratio=$(calc "%.3f" "$ratio") && met=$(yesno "$ratio >= 0.97")
row "connects/s through a round_robin group of two local microsocks vs one socks5 dialer (microsocks 1/2 carried $c1/$c2)" \
    "${M[single]:-failed}/s" "${M[rr]:-failed}/s" "${ratio:-n/a}" ">= 0.97" "$met"
# What the group costs the client itself (the rate also moves with the proxies'
# side: every other connection goes to the other microsocks process).
cratio=n/a
[ -n "${U[single]:-}" ] && [ -n "${U[rr]:-}" ] && cratio=$(calc "${U[rr]} / ${U[single]}")
row "client CPU per connection (user+sys, getrusage), the same runs: one socks5 dialer vs the round_robin group (time ratio)" \
    "${U[single]:-failed} us" "${U[rr]:-failed} us" "$cratio" "report" "yes"
