#!/bin/bash
# Bench part: the seccomp supervisor (dialshim run --supervise, and the Go and static
# programs it starts). Prints markdown rows (and <!-- comments -->) on stdout, details
# on stderr. Called by run.sh; `bash tests/bench/supervise.sh` runs it alone.
#
# 1. Direct connects on loopback (connbench, a namespace of its own): bare, under the
#    supervisor, and under `strace -f -e trace=connect` (the ptrace yardstick), in
#    turning order each round; per-connection time = 1 / rate. Targets: supervised
#    <= 0.4 x strace, and within 50 us of bare per connection.
# 2. Proxied connects on loopback (microsocks, lockstep): connbench with the shim
#    preloaded vs under the supervisor with the same file. Target: >= 0.95 x.
#    Beside it, the floor (notifbench): what one trapped call costs here, bare
#    (an empty receiver) and with the steps the supervisor takes for every
#    connect, vs a plain system call; hence the ratio row 2 shows when nothing
#    else runs (the cost adds to each connection).
#    And the same proxied connects through a proxy 20 ms away (the delay lab of
#    part 3, the destination beside the proxy), where a real round trip is paid.
# 3. 50 Go connections at once (supervise_go many) through microsocks across the
#    delay lab (20 ms RTT): elapsed / RTT, next to the same program bare and direct
#    to a server beside the proxy (the floor on this machine). Target: <= 8 RTT.
set -u
. "$(dirname "$0")/lib.sh"

DIALSHIM=$B/dialshim
CB=$B/connbench
SUPGO=$B/tests/supervise_go
N=${BENCH_SUP_CONNS:-1500}
ROUNDS=${BENCH_SUP_ROUNDS:-5}
DELAY=${BENCH_SUP_DELAY_MS:-10}
for p in strace microsocks go; do
    command -v $p >/dev/null || { echo "<!-- supervise: $p missing (make deps) -->"; exit 1; }
done
[ "$CB" -nt "$BENCH_DIR/connbench.c" ] || cc -O2 -Wall -Wextra -Werror -o "$CB" "$BENCH_DIR/connbench.c" || exit 1
cc -O2 -Wall -Wextra -Werror -o "$B/notifbench" "$BENCH_DIR/notifbench.c" || exit 1
if [ ! -x "$SUPGO" ] || [ "$ROOT/tests/integration/supervise_go.go" -nt "$SUPGO" ]; then
    mkdir -p "$B/tests" "$B/gocache"
    (cd "$ROOT/tests/integration" && timeout 300 env GOCACHE="$B/gocache" GOPATH="$BT/gopath" \
        GO111MODULE=off CGO_ENABLED=0 go build -o "$SUPGO" supervise_go.go) >&2 ||
        { echo "<!-- supervise: go build failed -->"; exit 1; }
fi

# ---- 1 and 2: loopback
L=bsl-$$
ns_new $L || exit 1
bg $L "$BT/cb.log" "$CB" server 7001
bg $L "$BT/ms.log" microsocks -i 127.0.0.1 -p 1080
wait_listen $L 7001 && wait_listen $L 1080 || exit 1
printf '[app all]\nmatch = *\ndialer = direct\n' >"$BT/direct.ini"
printf '[dialer p]\ntype = socks5\nserver = 127.0.0.1:1080\nhandshake = lockstep\n[app all]\nmatch = *\ndialer = p\n' >"$BT/socks.ini"

rate() { # VARIANT -> conns/s
    local run=(ip netns exec $L timeout 120)
    case $1 in
    bare) "${run[@]}" "$CB" client 127.0.0.1 7001 "$N" ;;
    supervised) "${run[@]}" "$DIALSHIM" -c "$BT/direct.ini" -l error --supervise -- \
        "$CB" client 127.0.0.1 7001 "$N" ;;
    strace) "${run[@]}" strace -f -o /dev/null -e trace=connect "$CB" client 127.0.0.1 7001 "$N" ;;
    shimproxy) "${run[@]}" env LD_PRELOAD="$SHIM" DIALSHIM_CONFIG="$BT/socks.ini" DIALSHIM_LOG=error \
        "$CB" client 127.0.0.1 7001 "$N" ;;
    supproxy) "${run[@]}" "$DIALSHIM" -c "$BT/socks.ini" -l error --supervise -- \
        "$CB" client 127.0.0.1 7001 "$N" ;;
    esac 2>>"$BT/err" | sed -n 's/^conns_per_sec=//p'
}
V=(bare supervised strace shimproxy supproxy)
for v in "${V[@]}"; do rate $v >/dev/null; done # warm up
: >"$BT/rates"
for r in $(seq 1 "$ROUNDS"); do
    for i in $(seq 0 4); do
        v=${V[$(((i + r) % 5))]}
        x=$(rate $v)
        echo "bench supervise: round $r $v ${x:-failed} conns/s" >&2
        [ -n "$x" ] && echo "$r $v $x" >>"$BT/rates"
    done
done
# per round: microseconds per connection and the ratios, then their medians
us() { awk -v r="$1" -v v="$2" '$1 == r && $2 == v { printf "%.2f", 1e6 / $3 }' "$BT/rates"; }
: >"$BT/d"
: >"$BT/q"
: >"$BT/p"
for r in $(seq 1 "$ROUNDS"); do
    b=$(us $r bare) s=$(us $r supervised) t=$(us $r strace) sp=$(us $r shimproxy) pp=$(us $r supproxy)
    [ -n "$b" ] && [ -n "$s" ] && calc "$s - $b" >>"$BT/d" && echo >>"$BT/d"
    [ -n "$s" ] && [ -n "$t" ] && calc "$s / $t" >>"$BT/q" && echo >>"$BT/q"
    [ -n "$sp" ] && [ -n "$pp" ] && calc "$sp / $pp" >>"$BT/p" && echo >>"$BT/p"
done
med() { awk -v v="$1" '$2 == v { printf "%.2f\n", 1e6 / $3 }' "$BT/rates" | median; }
DD=$(grep . "$BT/d" | median) QQ=$(grep . "$BT/q" | median) PR=$(grep . "$BT/p" | median)
row "direct connect on loopback, per connection: bare vs under the supervisor (median of the per-round differences)" \
    "$(med bare) us" "$(med supervised) us" "+${DD:-?} us" "<= +50 us" "$(yesno "${DD:-999} <= 50")"
row "direct connect on loopback, per connection: strace -f -e trace=connect (the ptrace yardstick) vs the supervisor" \
    "$(med strace) us" "$(med supervised) us" "${QQ:-?}" "<= 0.4" "$(yesno "${QQ:-9} <= 0.4")"
row "connects/s through a SOCKS5 proxy on loopback (microsocks, lockstep): the preloaded shim vs the supervisor (rate ratio)" \
    "$(med shimproxy) us" "$(med supproxy) us" "${PR:-?}" ">= 0.95" "$(yesno "${PR:-0} >= 0.95")"
# The floor: one trapped call, bare and with the supervisor's steps per connect.
: >"$BT/notif"
for r in $(seq 1 "$ROUNDS"); do
    x=$(timeout 60 "$B/notifbench" 20000 10 2>>"$BT/err")
    echo "bench supervise: notifbench round $r: ${x:-failed}" >&2
    case $x in *steps_us=*) echo "$x" >>"$BT/notif" ;; esac
done
nmed() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p" "$BT/notif" | median; }
NP=$(nmed plain_us) NN=$(nmed notif_us) NS=$(nmed steps_us) SP=$(med shimproxy)
row "the floor of one supervised connect here (notifbench: a trapped call answered at once by an empty receiver, then with the supervisor's steps before a dial: pidfd_getfd, SO_DOMAIN, TCP_INFO, process_vm_readv, ID_VALID, fstat, close) vs a plain system call; ratio: shim / (shim + steps - plain), the proxied row above when that cost just adds to each connection (a quiet machine; under load the supervisor's thread gets its own share of the CPUs and the measured ratio can be higher)" \
    "${NP:-?} us" "${NN:-?} us, ${NS:-?} us" "$(calc "${SP:-0} / (${SP:-0} + ${NS:-0} - ${NP:-0} + 1e-9)")" "report" "yes"
[ -s "$BT/err" ] && head -c 600 "$BT/err" | sed 's/^/bench supervise: stderr: /' >&2

# ---- 3: proxied connects and 50 Go connections through a proxy 20 ms away
delay_lab_up "$DELAY" || { echo "<!-- supervise: the delay lab did not come up -->"; exit 1; }
bg $F "$BT/far.log" /usr/bin/python3 "$BENCH_DIR/nbclient.py" server $FAR 8080 "$LIFE"
bg $P "$BT/near.log" /usr/bin/python3 "$BENCH_DIR/nbclient.py" server $PROXY 8080 "$LIFE"
bg $P "$BT/ms2.log" microsocks -i $PROXY -p 1080 -b $PROXY_EXT
wait_listen $P 1080 && wait_listen $P 8080 && wait_listen $F 8080 || exit 1
lab_rtt || { echo "<!-- supervise: no RTT measured -->"; exit 1; }
printf '[dialer p]\ntype = socks5\nserver = %s:1080\nhandshake = lockstep\nconnect_timeout = 20s\n[app all]\nmatch = *\ndialer = p\n' \
    $PROXY >"$BT/far.ini"
# go VARIANT: one run; its elapsed ms appended to $BT/VARIANT.ms when all 50 answered
go_run() {
    local out
    case $1 in
    supervised) out=$(ip netns exec $C timeout 60 "$DIALSHIM" -c "$BT/far.ini" -l error -- \
        "$SUPGO" many 50 $FAR:8080 2>>"$BT/err") ;;
    direct) out=$(ip netns exec $C timeout 60 "$SUPGO" many 50 $PROXY:8080 2>>"$BT/err") ;;
    esac
    echo "bench supervise: go many 50, $1: $(echo "$out" | tr '\n' ' ')" >&2
    [ "$(echo "$out" | sed -n 's/^ok=//p')" = 50 ] && echo "$out" | sed -n 's/^ms=//p' >>"$BT/$1.ms"
}
go_run supervised >/dev/null # warm up
: >"$BT/supervised.ms"
: >"$BT/direct.ms"
for r in $(seq 1 "$ROUNDS"); do
    if [ $((r % 2)) = 0 ]; then go_run supervised; go_run direct; else go_run direct; go_run supervised; fi
done
GM=$(median <"$BT/supervised.ms") DM=$(median <"$BT/direct.ms")
X=$(calc "%.2f" "${GM:-99999} / $RTT") XD=$(calc "%.2f" "${DM:-99999} / $RTT")
OTHER=$(awk -v p=$PROXY_EXT '$1 == "PEER" && $2 != p' "$BT/far.log" | head -n 1)
row "50 Go connections at once via a SOCKS5 proxy (microsocks, lockstep) $(calc "%.0f" "2 * $DELAY") ms away: bare and direct to the proxy's host (the floor: 2 RTT unloaded) vs under the supervisor through the proxy (4 RTT unloaded)$([ -n "$OTHER" ] && echo ' (CHECK: the far server saw another peer)')" \
    "$XD RTT (${DM:-failed} ms)" "$X RTT (${GM:-failed} ms)" "$(calc "%.2f" "${GM:-0} / ${DM:-1}")" "<= 8 RTT" "$(yesno "$X < 8.5")"

# connbench through a second microsocks in the proxy's namespace, which reaches
# connbench's destination (127.0.0.1:7001) on its own loopback: each connect is
# the TCP handshake, the greeting and the request across the delay (3 RTT).
FN=${BENCH_SUP_FAR_CONNS:-20}
bg $P "$BT/cb2.log" "$CB" server 7001
bg $P "$BT/ms3.log" microsocks -i $PROXY -p 1081
wait_listen $P 7001 && wait_listen $P 1081 || { echo "<!-- supervise: the far connbench lab did not come up -->"; exit 1; }
printf '[dialer p]\ntype = socks5\nserver = %s:1081\nhandshake = lockstep\nconnect_timeout = 20s\n[app all]\nmatch = *\ndialer = p\n' \
    $PROXY >"$BT/far2.ini"
far_rate() { # VARIANT -> microseconds per connection
    local run=(ip netns exec $C timeout 120)
    case $1 in
    shim) "${run[@]}" env LD_PRELOAD="$SHIM" DIALSHIM_CONFIG="$BT/far2.ini" DIALSHIM_LOG=error \
        "$CB" client 127.0.0.1 7001 "$FN" ;;
    sup) "${run[@]}" "$DIALSHIM" -c "$BT/far2.ini" -l error --supervise -- \
        "$CB" client 127.0.0.1 7001 "$FN" ;;
    esac 2>>"$BT/err" | sed -n 's/^us_per_conn=//p'
}
: >"$BT/far.rates"
for r in $(seq 1 "$ROUNDS"); do
    for v in $([ $((r % 2)) = 0 ] && echo shim sup || echo sup shim); do
        x=$(far_rate $v)
        echo "bench supervise: far round $r $v ${x:-failed} us per connection" >&2
        [ -n "$x" ] && echo "$r $v $x" >>"$BT/far.rates"
    done
done
FR=$(for r in $(seq 1 "$ROUNDS"); do
    awk -v r=$r '$1 == r { x[$2] = $3 } END { if (x["shim"] && x["sup"]) printf "%.4f\n", x["shim"] / x["sup"] }' "$BT/far.rates"
done | median)
fmed() { awk -v v="$1" '$2 == v { printf "%.3f\n", $3 / 1e3 }' "$BT/far.rates" | median; }
row "connects/s through a SOCKS5 proxy $(calc "%.0f" "2 * $DELAY") ms away (microsocks, lockstep, the destination beside the proxy; $FN sequential connects per run): the preloaded shim vs the supervisor (rate ratio), per connection" \
    "$(fmed shim) ms" "$(fmed sup) ms" "${FR:-?}" "report" "yes"
