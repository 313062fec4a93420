# shellcheck shell=bash
# Sourced by the bench parts (rtt.sh, socks5.sh, resolve.sh): namespaces, background
# processes, cleanup, statistics and the rows of the report.
#
# Safety: namespaces are named with the caller's $$ and created here; addresses
# are 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32 and loopback only,
# inside those namespaces. Every process started here runs under `timeout`; the EXIT
# trap kills them, then anything left inside our namespaces, then deletes the
# namespaces (and the /etc/netns/NAME resolv.conf directories made for them).

set -u
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/../.." && pwd)
B=${BUILD:-$ROOT/build}
case $B in /*) ;; *) B=$ROOT/$B ;; esac
SHIM=$B/libdialshim.so
LIFE=${BENCH_LIFE:-300} # seconds any background process may live

BT=$(mktemp -d "/tmp/dialshim-bench.$$.XXXXXX")
BNS=()
BPIDS=()

bench_cleanup() {
    local rc=$? p ns i alive
    trap '' INT TERM HUP
    trap - EXIT
    for p in "${BPIDS[@]}"; do kill "$p" 2>/dev/null; done
    for i in $(seq 1 20); do # up to 1 s for them to end on SIGTERM
        alive=0
        for p in "${BPIDS[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
        [ $alive = 0 ] && break
        sleep 0.05
    done
    for ns in "${BNS[@]}"; do
        for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
    done
    for p in "${BPIDS[@]}"; do wait "$p" 2>/dev/null; done
    for ns in "${BNS[@]}"; do
        ip netns del "$ns" 2>/dev/null
        [ -d "/etc/netns/$ns" ] && rm -rf "/etc/netns/$ns"
    done
    rmdir /etc/netns 2>/dev/null # only when empty: other runs may have theirs there
    rm -rf "$BT"
    exit "$rc"
}
trap bench_cleanup EXIT
trap 'exit 130' INT TERM HUP

# ns_new NAME: a namespace with lo up, no rp_filter, no IPv6 DAD.
ns_new() {
    ip netns add "$1" || return 1
    BNS+=("$1")
    ip -n "$1" link set lo up
    ip netns exec "$1" sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
        net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
        net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0 >/dev/null
}

# ns_resolv NAME NAMESERVER: the resolv.conf that `ip netns exec NAME` shows its
# processes (glibc's resolver in that namespace asks NAMESERVER). Retried: a parallel
# run may rmdir an empty /etc/netns between our mkdir and the write.
ns_resolv() {
    local i
    for i in 1 2 3 4 5; do
        mkdir -p "/etc/netns/$1" 2>/dev/null &&
            printf 'nameserver %s\noptions timeout:2 attempts:1\n' "$2" \
                >"/etc/netns/$1/resolv.conf" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# bg NS LOGFILE CMD...: runs CMD in NS under timeout $LIFE, output to LOGFILE.
bg() {
    local ns=$1 log=$2
    shift 2
    ip netns exec "$ns" timeout "$LIFE" "$@" >"$log" 2>&1 &
    BPIDS+=($!)
}

# wait_listen NS PORT [tcp|udp]: bounded wait until something listens on PORT.
wait_listen() {
    local i flag=-Hltn
    [ "${3:-tcp}" = udp ] && flag=-Hlun
    for i in $(seq 1 100); do
        ip netns exec "$1" ss $flag "sport = :$2" 2>/dev/null | grep -q . && return 0
        sleep 0.05
    done
    echo "bench: nothing listens on port $2 in $1" >&2
    return 1
}

# kcounter NS NAME: a kernel counter (TcpExt..., Tcp...) in NS.
kcounter() {
    ip netns exec "$1" cat /proc/net/netstat /proc/net/snmp | awk -v want="$2" '
        /^[A-Za-z0-9]+:/ {
            pfx = $1; sub(":", "", pfx)
            if (hdr[pfx] == "") { hdr[pfx] = $0; next }
            n = split(hdr[pfx], h, " ")
            for (i = 2; i <= n; i++) if (pfx h[i] == want) { print $i; found = 1; exit }
            hdr[pfx] = ""
        }
        END { if (!found) print 0 }'
}

# median: the median of the numbers on stdin (empty when none).
median() {
    sort -g | awk '{ a[NR] = $1 } END { if (NR) print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2) }'
}

# calc EXPR: awk arithmetic, printed with %.3f unless a format is given: calc FMT EXPR.
calc() {
    if [ $# = 2 ]; then awk "BEGIN { printf \"$1\", $2 }"; else awk "BEGIN { printf \"%.3f\", $1 }"; fi
}

# row WHAT BASELINE DIALSHIM RATIO TARGET MET: one markdown row of the report.
row() {
    printf '| %s | %s | %s | %s | %s | %s |\n' "$1" "$2" "$3" "$4" "$5" "$6"
}

# yesno AWK-CONDITION: "yes" or "NO".
yesno() {
    if awk "BEGIN { exit !($1) }"; then echo yes; else echo NO; fi
}

# ------------------------------------------------------------------ the delay lab
#   client  bc-$$  vc 192.0.2.1/24 2001:db8:a::1/64
#              │
#   router  br-$$  vc 192.0.2.254 2001:db8:a::fe │ vp 198.51.100.254 2001:db8:b::fe
#                  td0: TUN read by tundelay, which holds each packet DELAY ms;
#                  rules "iif vc/vp → table 100: dev td0", so every forwarded packet
#                  passes the delay line once: RTT = 2 x DELAY
#                  2001:db8:d::/64 blackholed (a dead IPv6 network: dropped, no ICMP)
#              │
#   proxy   bp-$$  vp 198.51.100.1/24 2001:db8:b::1/64 ("near": servers across the delay)
#                  vz 203.0.113.1/24
#              │ (no delay)
#   far     bf-$$  vz 203.0.113.2/24
#
# The client has no route to 203.0.113.0/24: only a proxy in bp reaches bf.
C=bc-$$ R=br-$$ P=bp-$$ F=bf-$$
PROXY=198.51.100.1 FAR=203.0.113.2 PROXY_EXT=203.0.113.1 DEAD6=2001:db8:d::99

# delay_lab_up DELAY_MS: the four namespaces and the delay loop (tundelay in bench's
# build directory, compiled here).
delay_lab_up() {
    local ns dev i
    cc -O2 -Wall -Wextra -Werror -o "$B/tundelay" "$BENCH_DIR/tundelay.c" || return 1
    for ns in $C $R $P $F; do ns_new $ns || return 1; done
    ip -n $C link add vc type veth peer name vc netns $R
    ip -n $P link add vp type veth peer name vp netns $R
    ip -n $P link add vz type veth peer name vz netns $F
    ip -n $C addr add 192.0.2.1/24 dev vc
    ip -n $C addr add 2001:db8:a::1/64 dev vc nodad
    ip -n $R addr add 192.0.2.254/24 dev vc
    ip -n $R addr add 2001:db8:a::fe/64 dev vc nodad
    ip -n $R addr add 198.51.100.254/24 dev vp
    ip -n $R addr add 2001:db8:b::fe/64 dev vp nodad
    ip -n $P addr add $PROXY/24 dev vp
    ip -n $P addr add 2001:db8:b::1/64 dev vp nodad
    ip -n $P addr add $PROXY_EXT/24 dev vz
    ip -n $F addr add $FAR/24 dev vz
    for ns in $C $R; do ip -n $ns link set vc up; done
    for ns in $P $R; do ip -n $ns link set vp up; done
    for ns in $P $F; do ip -n $ns link set vz up; done
    ip -n $C route add 198.51.100.0/24 via 192.0.2.254
    ip -n $C -6 route add 2001:db8::/32 via 2001:db8:a::fe
    ip -n $P route add 192.0.2.0/24 via 198.51.100.254
    ip -n $P -6 route add 2001:db8::/32 via 2001:db8:b::fe
    ip netns exec $R sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 \
        net.ipv4.conf.all.send_redirects=0 >/dev/null
    ip -n $R -6 route add blackhole 2001:db8:d::/64

    bg $R "$BT/tundelay.out" "$B/tundelay" td0 "$1" "$LIFE"
    for i in $(seq 1 100); do
        grep -q ready "$BT/tundelay.out" 2>/dev/null && break
        sleep 0.05
    done
    ip netns exec $R sysctl -qw net.ipv4.conf.td0.rp_filter=0 net.ipv6.conf.td0.accept_ra=0 \
        >/dev/null || return 1
    ip -n $R link set td0 up
    ip -n $R route add default dev td0 table 100
    ip -n $R -6 route add default dev td0 table 100
    for dev in vc vp; do
        ip -n $R rule add iif $dev lookup 100 priority 100
        ip -n $R -6 rule add iif $dev lookup 100 priority 100
    done
}

# lab_rtt: 40 pings 50 ms apart from the client to 198.51.100.1; RTT = their median
# (output in $BT/ping), RTT_HOW = "ping". Without ping (iputils-ping): 40 refused TCP
# connects to 198.51.100.1:9 (ttfb rtt; also with BENCH_RTT_TCP=1), RTT_HOW = "TCP
# SYN/RST". Fails when no RTT.
lab_rtt() {
    if [ -z "${BENCH_RTT_TCP:-}" ] && command -v ping >/dev/null; then
        RTT_HOW=ping
        ip netns exec $C timeout 20 ping -n -c 40 -i 0.05 $PROXY >"$BT/ping" 2>&1
        RTT=$(sed -n 's/.* time=\([0-9.]*\) ms/\1/p' "$BT/ping" | median)
    else
        RTT_HOW="TCP SYN/RST"
        cc -O2 -Wall -Wextra -Werror -o "$B/ttfb" "$BENCH_DIR/ttfb.c" || return 1
        ip netns exec $C timeout 20 "$B/ttfb" rtt $PROXY 9 40 >"$BT/ping" 2>&1
        RTT=$(sed -n 's/^rtt_ms=//p' "$BT/ping" | median)
    fi
    [ -n "$RTT" ]
}
