#!/bin/bash
# Bench part: UDP datagram round trips per second (issue 5). Prints markdown rows on
# stdout, details on stderr. One namespace bu-$$, everything on its lo:
#   the far echo server   udpbench server 203.0.113.7:7007 (logs who sent, by address)
#   danted                127.0.0.1:1081, relaying UDP out from 203.0.113.1
# (a) direct: udpbench plain (sendto/recvfrom, 32-byte datagrams) bare vs under the
#     shim with a direct dialer that sets routing_mark and inet4_bind_address: the
#     options cost nothing per datagram, only the hooks do. Target >= 0.97. Also
#     against the program setting the same options itself (own), for the hooks alone.
# (b) through danted's UDP ASSOCIATE: udpbench plain under the shim (udp = associate:
#     the shim opens the association, wraps and unwraps every datagram) vs udpbench
#     socks5, which speaks SOCKS5 UDP itself: the native baseline.
# Every run is checked from the far side: the echo server must have seen the bind
# address (127.0.0.1) from the shim's direct runs, its own address from the bare ones
# (the kernel's source for a local destination) and dante's external address from
# both relayed variants. Rounds alternate the variants, in turn first and second
# (ABBA); the ratio is the median of the rounds' own ratios (a pair of runs seconds
# apart shares the machine's load), the rates the medians of each variant. Client,
# servers and dante all run on one CPU (BENCH_UDP_CPU, default 1) when taskset
# exists: a ping-pong on one CPU measures what each side spends (system calls,
# the shim's hooks), not cross-CPU wake-ups, and varies far less on a shared VM.
set -u
. "$(dirname "$0")/lib.sh"

T0=$SECONDS
NS=bu-$$
DST=203.0.113.7 DPORT=7007 EXT=203.0.113.1 BIND=127.0.0.1
N=${BENCH_UDP_RTTS:-10000}
DN=${BENCH_UDP_DANTE_RTTS:-3000}
ROUNDS=${BENCH_UDP_ROUNDS:-15}
command -v danted >/dev/null || { echo "<!-- udp: danted missing (make deps) -->"; exit 1; }
cc -O2 -Wall -Wextra -Werror -o "$B/udpbench" "$BENCH_DIR/udpbench.c" || exit 1
PIN_CLI="" PIN_SRV=""
if command -v taskset >/dev/null && taskset -c "${BENCH_UDP_CPU:-1}" true 2>/dev/null; then
    PIN_CLI="taskset -c ${BENCH_UDP_CPU:-1}" PIN_SRV=$PIN_CLI
fi

ns_new $NS || exit 1
ip -n $NS addr add $DST/32 dev lo
ip -n $NS addr add $EXT/32 dev lo
# shellcheck disable=SC2086
bg $NS "$BT/server.log" $PIN_SRV "$B/udpbench" server $DST $DPORT "$LIFE"
cat >"$BT/dante.conf" <<EOF
logoutput: $BT/dante.log
internal: 127.0.0.1 port = 1081
external: $EXT
clientmethod: none
socksmethod: none
user.privileged: root
user.unprivileged: nobody
client pass { from: 0/0 to: 0/0 }
socks pass {
    from: 0/0 to: 0/0
    command: udpassociate udpreply
    log: disconnect
}
EOF
# shellcheck disable=SC2086
bg $NS "$BT/dante.out" $PIN_SRV danted -f "$BT/dante.conf" -N 1 -p "$BT/dante.pid"
wait_listen $NS $DPORT udp && wait_listen $NS 1081 || exit 1

cat >"$BT/direct.ini" <<EOF
[dialer marked]
type = direct
routing_mark = 0x64
inet4_bind_address = $BIND

[app all]
match = *
dialer = marked
EOF
cat >"$BT/assoc.ini" <<EOF
[dialer p]
type = socks5
server = 127.0.0.1:1081
udp = associate

[app all]
match = *
dialer = p
EOF

# run VARIANT COUNT -> "rtt/s cpu_us lost bad"; checks who the far server saw.
run() {
    local v=$1 n=$2 want out seen
    case $v in
    bare) want=$DST out=$(ip netns exec $NS timeout 120 $PIN_CLI "$B/udpbench" plain $DST $DPORT "$n") ;;
    own) want=$BIND out=$(ip netns exec $NS timeout 120 $PIN_CLI "$B/udpbench" plain $DST $DPORT "$n" \
        32 0x64 $BIND) ;;
    shim) want=$BIND out=$(ip netns exec $NS timeout 120 env LD_PRELOAD="$SHIM" \
        DIALSHIM_CONFIG="$BT/direct.ini" $PIN_CLI "$B/udpbench" plain $DST $DPORT "$n") ;;
    native) want=$EXT out=$(ip netns exec $NS timeout 120 $PIN_CLI "$B/udpbench" socks5 \
        127.0.0.1 1081 $DST $DPORT "$n") ;;
    assoc) want=$EXT out=$(ip netns exec $NS timeout 120 env LD_PRELOAD="$SHIM" \
        DIALSHIM_CONFIG="$BT/assoc.ini" $PIN_CLI "$B/udpbench" plain $DST $DPORT "$n") ;;
    esac 2>>"$BT/errors"
    seen=$(sed -n 's/^peer //p' "$BT/server.log" | tail -n 1)
    [ "$seen" = "$want" ] || echo "$v: the far server saw ${seen:-nothing}, expected $want" >>"$BT/wrong"
    awk -F= '/^rtt_per_sec=/ { r = $2 } /^cpu_us_per_rtt=/ { c = $2 } /^lost=/ { l = $2 }
             /^bad=/ { b = $2 } END { print r, c, l, b }' <<<"$out"
}

: >"$BT/rtts"
: >"$BT/wrong"
for v in bare shim own native assoc; do run $v 500 >/dev/null; done # warm up
# rounds COUNT BASE VARIANT...: ROUNDS rounds of every variant, the order reversed
# every other round; each round's VARIANT/BASE goes to $BT/ratio-VARIANT.
rounds() {
    local n=$1 base=$2 r v order
    shift 2
    for v in "$@"; do : >"$BT/ratio-$v"; done
    for r in $(seq 1 "$ROUNDS"); do
        order="$base $*"
        [ $((r % 2)) = 0 ] && order=$(echo "$order" | tr ' ' '\n' | tac | tr '\n' ' ')
        declare -A got=()
        for v in $order; do
            got[$v]=$(run "$v" "$n")
            echo "$v ${got[$v]}" >>"$BT/rtts"
        done
        for v in "$@"; do
            awk -v b="${got[$base]%% *}" -v o="${got[$v]%% *}" \
                'BEGIN { if (b > 0 && o > 0) printf "%.4f\n", o / b }' >>"$BT/ratio-$v"
        done
    done
}
rounds "$N" bare shim own
T1=$SECONDS
rounds "$DN" native assoc
T2=$SECONDS
[ -s "$BT/errors" ] && sed 's/^/bench udp: /' "$BT/errors" | sort | uniq -c | head -n 5 >&2
[ -s "$BT/wrong" ] && sed 's/^/bench udp: WRONG PATH: /' "$BT/wrong" | sort | uniq -c >&2
relayed=$(grep -c "udp/udpassociate ]" "$BT/dante.log")

declare -A M U
lost=0
for k in bare shim own native assoc; do
    M[$k]=$(awk -v k=$k '$1 == k && $2 != "" { print $2 }' "$BT/rtts" | median)
    U[$k]=$(awk -v k=$k '$1 == k && $3 != "" { print $3 }' "$BT/rtts" | median)
    echo "bench udp: $k: $(awk -v k=$k '$1 == k { printf "%s ", $2 }' "$BT/rtts")-> median ${M[$k]:-none}/s; client CPU per round trip ${U[$k]:-none} us; lost+bad $(awk -v k=$k '$1 == k { s += $4 + $5 } END { print s + 0 }' "$BT/rtts")" >&2
done
lost=$(awk '{ s += $4 + $5 } END { print s + 0 }' "$BT/rtts")
clean=$([ ! -s "$BT/wrong" ] && [ "$lost" = 0 ] && echo yes || echo no)
# the rounds' shim/own: (shim/bare) / (own/bare), round by round
paste -d' ' "$BT/ratio-shim" "$BT/ratio-own" | awk '$1 > 0 && $2 > 0 { printf "%.4f\n", $1 / $2 }' \
    >"$BT/ratio-shim-own"
urow() { # WHAT BASEKEY KEY TARGET MINRATIO(or "")
    local base=${M[$2]:-} ours=${M[$3]:-} ratio met=NO rf=$BT/ratio-$3
    [ "$2" = own ] && rf=$BT/ratio-shim-own
    ratio=$(median <"$rf")
    echo "bench udp: $3/$2 per round: $(tr '\n' ' ' <"$rf")-> median ${ratio:-none}" >&2
    if [ -n "$base" ] && [ -n "$ours" ] && [ -n "$ratio" ]; then
        ratio=$(calc "$ratio")
        if [ -n "$5" ]; then met=$(yesno "$ratio >= $5"); else met=yes; fi
    else
        ratio=n/a
    fi
    [ "$clean" = yes ] || met=NO
    row "$1" "${base:-failed}/s" "${ours:-failed}/s" "$ratio" "$4" "$met"
}
urow "UDP round trips/s (32 B, sendto/recvfrom, loopback echo), direct dialer with mark + bind address vs a bare program (ratio: median of $ROUNDS paired rounds)" \
    bare shim ">= 0.97" 0.97
urow "UDP round trips/s, direct: dialshim vs the program setting the same mark + bind address itself (ratio: median of $ROUNDS rounds)" \
    own shim "report" ""
urow "UDP round trips/s through local danted (UDP ASSOCIATE): dialshim (udp = associate) vs a program speaking SOCKS5 UDP itself (ratio: median of $ROUNDS paired rounds)" \
    native assoc "report" ""
ratio=n/a
[ -n "${U[bare]}" ] && [ -n "${U[shim]}" ] && ratio=$(calc "${U[shim]} / ${U[bare]}")
row "client CPU per UDP round trip (user+sys, getrusage), direct: dialshim vs bare (time ratio)" \
    "${U[bare]:-failed} us" "${U[shim]:-failed} us" "$ratio" "report" "yes"
ratio=n/a
[ -n "${U[native]}" ] && [ -n "${U[assoc]}" ] && ratio=$(calc "${U[assoc]} / ${U[native]}")
row "client CPU per UDP round trip (user+sys, getrusage), through danted: dialshim vs a program speaking SOCKS5 UDP itself (time ratio)" \
    "${U[native]:-failed} us" "${U[assoc]:-failed} us" "$ratio" "report" "yes"
echo "<!-- udp: direct $ROUNDS rounds x $N round trips per variant (bare, dialshim, own), $((T1 - T0)) s; danted $ROUNDS rounds x $DN, $((T2 - T1)) s; every run took the expected path and lost nothing: $clean (lost or corrupted: $lost; wrong path: $(wc -l <"$BT/wrong")); dante ended $relayed associations (one per relayed run: $((2 * ROUNDS + 2))) -->"
