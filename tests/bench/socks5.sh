#!/bin/bash
# Bench part: connections per second through a local SOCKS5 proxy. Three clients on
# the same loop (socks5bench.c: connect, handshake, close with RST):
#   native      socks5bench socks5 ...: the program speaks SOCKS5 itself (lockstep)
#   proxychains socks5bench plain ... under proxychains4 -f CONF (proxychains-ng)
#   dialshim    socks5bench plain ... under the shim, one socks5 dialer
# through microsocks (which cannot pipeline: dialshim runs handshake = lockstep), and
# through danted (dialshim handshake = pipelined, its own fast path; danted forks
# and is much slower, so fewer connections).
# One namespace bs-$$: the proxies listen on 127.0.0.1, the target (socks5bench
# server, accept and close) on 203.0.113.7 on the namespace's lo, so no "local
# network" exception of any client skips the proxy; microsocks' log is counted to
# prove every connection went through it. Rounds turn the order of the variants;
# rates are medians, ratios the median of the ratios within a round.
# Prints markdown rows on stdout, details on stderr.
set -u
. "$(dirname "$0")/lib.sh"

T0=$SECONDS
NS=bs-$$
DST=203.0.113.7 DPORT=7001
N=${BENCH_SOCKS_CONNS:-3000}
DN=${BENCH_DANTE_CONNS:-1000}
ROUNDS=${BENCH_SOCKS_ROUNDS:-21}
for p in microsocks danted proxychains4; do
    command -v $p >/dev/null || { echo "<!-- socks5: $p missing (make deps) -->"; exit 1; }
done
cc -O2 -Wall -Wextra -Werror -o "$B/socks5bench" "$BENCH_DIR/socks5bench.c" || exit 1

ns_new $NS || exit 1
ip -n $NS addr add $DST/32 dev lo
# plenty of ports: the proxies' upstream sockets end in TIME_WAIT
ip netns exec $NS sysctl -qw net.ipv4.ip_local_port_range="10000 65000" net.ipv4.tcp_tw_reuse=1 >/dev/null
bg $NS "$BT/server.log" "$B/socks5bench" server $DST $DPORT
bg $NS "$BT/microsocks.log" microsocks -i 127.0.0.1 -p 1080
cat >"$BT/dante.conf" <<EOF
logoutput: $BT/dante.log
internal: 127.0.0.1 port = 1081
external: 127.0.0.1
clientmethod: none
socksmethod: none
user.privileged: root
user.unprivileged: nobody
client pass { from: 0/0 to: 0/0 }
socks pass { from: 0/0 to: 0/0 }
EOF
bg $NS "$BT/dante.out" danted -f "$BT/dante.conf" -N 1 -p "$BT/dante.pid"
for port in $DPORT 1080 1081; do wait_listen $NS $port || exit 1; done

for port in 1080 1081; do
    printf 'strict_chain\nquiet_mode\ntcp_read_time_out 15000\ntcp_connect_time_out 8000\n[ProxyList]\nsocks5 127.0.0.1 %s\n' \
        $port >"$BT/pc$port.conf"
done
printf '[dialer p]\ntype = socks5\nserver = 127.0.0.1:1080\nhandshake = lockstep\n\n[app all]\nmatch = *\ndialer = p\n' >"$BT/ds1080.ini"
printf '[dialer p]\ntype = socks5\nserver = 127.0.0.1:1081\nhandshake = pipelined\n\n[app all]\nmatch = *\ndialer = p\n' >"$BT/ds1081.ini"

run() { # VARIANT PORT COUNT -> "conns/s cpu_us_per_conn"
    local v=$1 port=$2 n=$3
    case $v in
    native) ip netns exec $NS timeout 120 "$B/socks5bench" socks5 127.0.0.1 "$port" $DST $DPORT "$n" ;;
    pc) ip netns exec $NS timeout 120 proxychains4 -q -f "$BT/pc$port.conf" \
        "$B/socks5bench" plain $DST $DPORT "$n" ;;
    shim) ip netns exec $NS timeout 120 env LD_PRELOAD="$SHIM" DIALSHIM_CONFIG="$BT/ds$port.ini" \
        "$B/socks5bench" plain $DST $DPORT "$n" ;;
    esac 2>>"$BT/errors" | awk -F= '/^conns_per_sec=/ { c = $2 } /^cpu_us_per_conn=/ { u = $2 }
                                    END { print c, u }'
}

VARIANTS="native pc shim"
: >"$BT/conns"
for v in $VARIANTS; do run $v 1080 200 >/dev/null; done # warm up
# order: the variants turn every round (a run's rate swings by +-10% here, mostly
# between rounds); the ratios are taken within a round, their median reported
turn() { # ROUND -> the variants, rotated ROUND times
    case $(($1 % 3)) in
    0) echo native pc shim ;;
    1) echo shim native pc ;;
    2) echo pc shim native ;;
    esac
}
for r in $(seq 1 "$ROUNDS"); do
    for v in $(turn $r); do echo "ms-$v $(run $v 1080 "$N") $r" >>"$BT/conns"; done
done
via_ms=$(grep -c "connected to $DST:$DPORT" "$BT/microsocks.log")
T1=$SECONDS
for v in $VARIANTS; do run $v 1081 100 >/dev/null; done
for r in $(seq 1 "$ROUNDS"); do
    for v in $(turn $r); do echo "d-$v $(run $v 1081 "$DN") $r" >>"$BT/conns"; done
done
T2=$SECONDS
expect_ms=$(((3 * ROUNDS * N) + 3 * 200))
[ -s "$BT/errors" ] && sed 's/^/bench socks5: /' "$BT/errors" | sort | uniq -c | head -n 5 >&2

declare -A M U
for k in ms-native ms-pc ms-shim d-native d-pc d-shim; do
    M[$k]=$(awk -v k=$k '$1 == k && $2 != "" { print $2 }' "$BT/conns" | median)
    U[$k]=$(awk -v k=$k '$1 == k && $3 != "" { print $3 }' "$BT/conns" | median)
    echo "bench socks5: $k: $(awk -v k=$k '$1 == k { printf "%s ", $2 }' "$BT/conns")-> median ${M[$k]:-none}/s; client CPU per connection ${U[$k]:-none} us" >&2
done
paired() { # BASEKEY KEY -> the median over the rounds of KEY's rate / BASEKEY's
    awk -v a=$1 -v b=$2 'NF >= 4 && $2 != "" { r[$1, $4] = $2; n[$4] = 1 }
        END { for (i in n) if (r[a, i] && r[b, i]) printf "%.6f\n", r[b, i] / r[a, i] }' "$BT/conns" |
        median
}
srow() { # WHAT BASEKEY KEY TARGET(>= x)
    local base=${M[$2]:-} ours=${M[$3]:-} ratio=n/a met=NO
    if [ -n "$base" ] && [ -n "$ours" ]; then
        ratio=$(calc "%.3f" "$(paired $2 $3)")
        met=$(yesno "$ratio >= $4")
    fi
    row "$1" "${base:-failed}/s" "${ours:-failed}/s" "$ratio" ">= $4" "$met"
}
srow "connects/s through local microsocks (lockstep): dialshim vs proxychains-ng" ms-pc ms-shim 1
srow "connects/s through local microsocks (lockstep): dialshim vs a program speaking SOCKS5 itself" ms-native ms-shim 0.95
srow "connects/s through local danted: dialshim pipelined vs proxychains-ng" d-pc d-shim 1
srow "connects/s through local danted: dialshim pipelined vs a program speaking SOCKS5 itself (lockstep)" d-native d-shim 0.95
ratio=n/a
[ -n "${U[ms-native]}" ] && [ -n "${U[ms-shim]}" ] && ratio=$(calc "${U[ms-shim]} / ${U[ms-native]}")
row "client CPU per connection through microsocks (user+sys, getrusage): dialshim lockstep vs a program speaking SOCKS5 itself (time ratio; proxychains-ng: ${U[ms-pc]:-?} us)" \
    "${U[ms-native]:-failed} us" "${U[ms-shim]:-failed} us" "$ratio" "report" "yes"
echo "<!-- socks5: microsocks $ROUNDS rounds x $N connections per variant, $((T1 - T0)) s; microsocks logged $via_ms of $expect_ms connections to the target (every one proxied: $([ "$via_ms" = "$expect_ms" ] && echo yes || echo NO)); danted $ROUNDS rounds x $DN, $((T2 - T1)) s -->"
