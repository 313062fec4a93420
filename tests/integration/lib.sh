# shellcheck shell=bash
# Sourced by tests/integration/t_*.sh (bash). The lab, the servers, the clients and
# the assertions. Read tests/integration/README.md for the picture.
#
# Safety: every address used is in 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24,
# 2001:db8::/32 or loopback, and only inside the two namespaces created here
# (names carry $$, so parallel runs never collide). Nothing touches the root
# namespace. lab_down (run by the EXIT trap, also after INT/TERM/HUP) kills the
# processes this file started and then any process left in the two namespaces,
# and deletes the namespaces.

set -u

IT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$IT_DIR/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
SHIM=${SHIM:-$BUILD/libdialshim.so}
DIALSHIM=${DIALSHIM:-$BUILD/dialshim}
TCPINFO=${TCPINFO:-$BUILD/tests/tcpinfo}
PY=/usr/bin/python3 # not a pyenv shim: the program must really be python3
PEER_SERVER=$IT_DIR/peer_server.py
PYCLIENT=$IT_DIR/pyclient.py
CTMO=${CTMO:-10} # seconds any single client may run

CLI=dsc-$$ # client namespace
SRV=dss-$$ # server namespace

# Lab addresses
A4_CLI=192.0.2.1 A4_SRV=192.0.2.2 A6_CLI=2001:db8:a::1 A6_SRV=2001:db8:a::2
B4_CLI=198.51.100.1 B4_SRV=198.51.100.2 B6_CLI=2001:db8:b::1 B6_SRV=2001:db8:b::2
FAR4=203.0.113.2 FAR6=2001:db8:f::2
SILENT4=203.0.113.99 SILENT6=2001:db8:f::99

T=$(mktemp -d "/tmp/dialshim-it.$$.XXXXXX")
LAB_UP=0
BG_PIDS=()
declare -A SERVER_PID=()

IT_PASS=0
IT_FAIL=0
CASE=""
CASE_WHY=""

# ---------------------------------------------------------------- results

note() { echo "    # $*" >&2; }

# case_begin NAME: starts a test case (ends the previous one).
case_begin() {
    [ -n "$CASE" ] && case_end
    CASE=$1
    CASE_WHY=""
    note "--- $CASE"
}

# fail MESSAGE: records a failure of the current case.
fail() {
    note "FAILED: $*"
    if [ -z "$CASE_WHY" ]; then CASE_WHY=$*; else CASE_WHY="$CASE_WHY; $*"; fi
}

case_end() {
    [ -z "$CASE" ] && return 0
    if [ -z "$CASE_WHY" ]; then
        echo "ok - $CASE"
        IT_PASS=$((IT_PASS + 1))
    else
        echo "FAIL - $CASE: $CASE_WHY" | tr '\n' ' ' | sed 's/ *$//'
        echo
        IT_FAIL=$((IT_FAIL + 1))
    fi
    CASE=""
    CASE_WHY=""
}

# finish: ends the last case; exit status 1 when a case failed.
finish() {
    case_end
    [ "$IT_FAIL" -eq 0 ]
}

assert_eq() { # GOT EXPECTED WHAT
    [ "$1" = "$2" ] || fail "$3: expected '$2', got '$1'"
}
assert_ne() { # GOT UNEXPECTED WHAT
    [ "$1" != "$2" ] || fail "$3: got '$1', which it must not be"
}
assert_match() { # TEXT ERE WHAT
    printf '%s\n' "$1" | grep -Eq -- "$2" || fail "$3: '$2' not found in: $(printf '%s' "$1" | head -c 400 | tr '\n' '|')"
}
assert_no_match() { # TEXT ERE WHAT
    if printf '%s\n' "$1" | grep -Eq -- "$2"; then
        fail "$3: '$2' unexpectedly found in: $(printf '%s' "$1" | head -c 400 | tr '\n' '|')"
    fi
}
assert_le() { # NUMBER MAX WHAT (decimals allowed)
    awk -v a="$1" -v b="$2" 'BEGIN { exit !(a != "" && a + 0 <= b + 0) }' || fail "$3: $1 > $2"
}
assert_ge() { # NUMBER MIN WHAT
    awk -v a="$1" -v b="$2" 'BEGIN { exit !(a != "" && a + 0 >= b + 0) }' || fail "$3: $1 < $2"
}

# kv TEXT KEY: the value of the first "KEY=value" line of TEXT.
kv() { printf '%s\n' "$1" | sed -n "s/^$2=//p" | head -n 1; }

# ---------------------------------------------------------------- the server's log

# peers LOG: the client addresses the server saw, one per line.
peers() { [ -f "$1" ] && awk '$1 == "PEER" { print $2 }' "$1"; }

# assert_saw LOG IP WHAT: the server logged exactly one connection since the log was
# last cleared, from IP. Clears the log afterwards.
assert_saw() {
    local got
    got=$(peers "$1" | tr '\n' ' ' | sed 's/ $//')
    [ "$got" = "$2" ] || fail "$3: server saw '${got:-nothing}', expected '$2'"
    : >"$1"
}
# assert_saw_nothing LOG WHAT: the server logged no connection (waits a moment for
# late arrivals). Clears the log afterwards.
assert_saw_nothing() {
    sleep 0.3
    local got
    got=$(peers "$1" | tr '\n' ' ')
    [ -z "$got" ] || fail "$2: server saw '$got', expected nothing"
    : >"$1"
}

# ---------------------------------------------------------------- the lab

in_cli() { ip netns exec "$CLI" "$@"; }
in_srv() { ip netns exec "$SRV" "$@"; }

lab_sysctls() { # NS
    local ns=$1
    ip netns exec "$ns" sysctl -qw \
        net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
        net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.default.disable_ipv6=0 \
        net.ipv6.conf.default.accept_ra=0 net.ipv6.conf.all.accept_ra=0 \
        net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 >/dev/null
}

lab_up() {
    [ "$(id -u)" = 0 ] || { echo "FAIL - lab: must run as root (network namespaces)"; exit 1; }
    trap lab_down EXIT
    trap 'exit 130' INT TERM HUP
    ip netns add "$CLI" || return 1
    LAB_UP=1
    ip netns add "$SRV" || return 1
    local ns
    for ns in "$CLI" "$SRV"; do
        lab_sysctls "$ns"
        ip -n "$ns" link set lo up
    done
    # two links, created inside the namespaces (never in the root namespace)
    ip -n "$CLI" link add va type veth peer name va netns "$SRV"
    ip -n "$CLI" link add vb type veth peer name vb netns "$SRV"
    ip -n "$CLI" addr add 192.0.2.1/24 dev va
    ip -n "$CLI" addr add 2001:db8:a::1/64 dev va nodad
    ip -n "$CLI" addr add 198.51.100.1/24 dev vb
    ip -n "$CLI" addr add 2001:db8:b::1/64 dev vb nodad
    ip -n "$SRV" addr add 192.0.2.2/24 dev va
    ip -n "$SRV" addr add 2001:db8:a::2/64 dev va nodad
    ip -n "$SRV" addr add 198.51.100.2/24 dev vb
    ip -n "$SRV" addr add 2001:db8:b::2/64 dev vb nodad
    for ns in "$CLI" "$SRV"; do
        ip -n "$ns" link set va up
        ip -n "$ns" link set vb up
    done
    # the far addresses live on the server's lo
    ip -n "$SRV" addr add 203.0.113.2/32 dev lo
    ip -n "$SRV" addr add 2001:db8:f::2/128 dev lo nodad
    # the silent addresses: routed to the server, which drops them without a word
    # (a blackhole route sends no ICMP, and forwarding is off in any case)
    ip -n "$SRV" route add blackhole 203.0.113.99/32
    ip -n "$SRV" -6 route add blackhole 2001:db8:f::99/128
    # client: main table via link A, a second route with a higher metric via link B
    ip -n "$CLI" route add 203.0.113.0/24 via 192.0.2.2 dev va metric 100
    ip -n "$CLI" route add 203.0.113.0/24 via 198.51.100.2 dev vb metric 200
    ip -n "$CLI" -6 route add 2001:db8:f::/48 via 2001:db8:a::2 dev va metric 100
    ip -n "$CLI" -6 route add 2001:db8:f::/48 via 2001:db8:b::2 dev vb metric 200
    # fwmark 0x64 → table 100 → link B
    ip -n "$CLI" rule add fwmark 0x64 table 100 priority 100
    ip -n "$CLI" -6 rule add fwmark 0x64 table 100 priority 100
    ip -n "$CLI" route add 203.0.113.0/24 via 198.51.100.2 dev vb table 100
    ip -n "$CLI" -6 route add 2001:db8:f::/48 via 2001:db8:b::2 dev vb table 100
    # a source bound to link B's address also leaves by link B (table 101)
    ip -n "$CLI" rule add from 198.51.100.1 table 101 priority 101
    ip -n "$CLI" -6 rule add from 2001:db8:b::1 table 101 priority 101
    ip -n "$CLI" route add 203.0.113.0/24 via 198.51.100.2 dev vb table 101
    ip -n "$CLI" -6 route add 2001:db8:f::/48 via 2001:db8:b::2 dev vb table 101
    # the server answers both links directly (connected routes); nothing else
    lab_wait_ready || { echo "FAIL - lab: links did not come up" >&2; return 1; }
}

# Bounded wait until both ends of both links are up and no IPv6 address is
# tentative (there is no ping here; a refused TCP probe proves the path).
lab_wait_ready() {
    local i ns dev ok
    for i in $(seq 1 100); do
        ok=1
        for ns in "$CLI" "$SRV"; do
            for dev in va vb; do
                ip -n "$ns" -o link show "$dev" | grep -q 'state UP' || ok=0
            done
            [ -z "$(ip -n "$ns" -6 addr show tentative)" ] || ok=0
        done
        if [ "$ok" = 1 ] &&
            in_cli timeout 2 "$PY" -c '
import socket, sys
for h in ("192.0.2.2", "198.51.100.2", "2001:db8:a::2", "2001:db8:b::2"):
    s = socket.socket(socket.AF_INET6 if ":" in h else socket.AF_INET)
    s.settimeout(0.5)
    if s.connect_ex((h, 9)) != 111:
        sys.exit(1)
' 2>/dev/null; then
            return 0
        fi
        sleep 0.05
    done
    return 1
}

lab_down() {
    local rc=$? p ns
    trap '' INT TERM HUP # nothing may interrupt the cleanup
    trap - EXIT
    for p in "${BG_PIDS[@]}"; do
        kill "$p" 2>/dev/null
    done
    if [ "$LAB_UP" = 1 ]; then
        # anything still running inside our own namespaces was started by this test
        for ns in "$CLI" "$SRV"; do
            for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
        done
        for p in "${BG_PIDS[@]}"; do wait "$p" 2>/dev/null; done
        ip netns del "$CLI" 2>/dev/null
        ip netns del "$SRV" 2>/dev/null
    fi
    rm -rf "$T"
    # a case still open here was cut short (time limit, signal, error)
    [ -n "$CASE" ] && fail "aborted (exit status $rc)"
    case_end
    [ "$rc" = 0 ] && [ "$IT_FAIL" != 0 ] && rc=1
    exit "$rc"
}

# ---------------------------------------------------------------- servers

# srv_start NAME [peer_server options] ADDR:PORT...: starts peer_server.py in the server
# namespace, logging to $T/NAME.log; waits (bounded) until it listens. srv_stop NAME
# stops it (lab_down stops everything anyway).
srv_start() {
    local name=$1
    shift
    ns_server_start "$SRV" "$name" "$@"
}

# ns_server_start NS NAME [options] ADDR...: same, in namespace NS.
ns_server_start() {
    local ns=$1 name=$2
    shift 2
    local ready=$T/$name.ready
    rm -f "$ready"
    : >"$T/$name.log"
    ip netns exec "$ns" timeout 200 "$PY" "$PEER_SERVER" --log "$T/$name.log" \
        --ready "$ready" --life 180 "$@" 2>"$T/$name.err" &
    BG_PIDS+=($!)
    SERVER_PID[$name]=$!
    local pid=$! i
    for i in $(seq 1 100); do
        [ -e "$ready" ] && return 0
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    echo "server $name did not start: $(cat "$T/$name.err")" >&2
    fail "server $name did not start"
    return 1
}

# srv_stop NAME: stops a server started by srv_start / ns_server_start (bounded wait).
srv_stop() {
    local pid=${SERVER_PID[$1]:-} i
    [ -n "$pid" ] || return 0
    kill "$pid" 2>/dev/null
    for i in $(seq 1 40); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    unset "SERVER_PID[$1]"
}

# wait_listen NS tcp|udp ADDR PORT: bounded wait until something listens there.
wait_listen() {
    local ns=$1 proto=$2 addr=$3 port=$4 i flag=-Hltn
    [ "$proto" = udp ] && flag=-Hlun
    for i in $(seq 1 100); do
        ip netns exec "$ns" ss $flag "sport = :$port" 2>/dev/null | grep -qF "$addr" && return 0
        sleep 0.05
    done
    fail "nothing listens on $addr:$port ($proto) in $ns"
    return 1
}

# ---------------------------------------------------------------- clients

# write_conf NAME: writes stdin to $T/NAME.ini and prints the path.
write_conf() {
    cat >"$T/$1.ini"
    chmod 600 "$T/$1.ini"
    echo "$T/$1.ini"
}

# bare CMD...: runs CMD in the client namespace without the shim.
bare() { in_cli timeout "$CTMO" "$@"; }

# shim CONF CMD...: runs CMD in the client namespace with the shim preloaded.
shim() {
    local conf=$1
    shift
    in_cli timeout "$CTMO" env LD_PRELOAD="$SHIM" DIALSHIM_CONFIG="$conf" "$@"
}

# tool CONF CMD...: runs CMD through `dialshim -c CONF -- CMD...`.
tool() {
    local conf=$1
    shift
    in_cli timeout "$CTMO" "$DIALSHIM" -c "$conf" -- "$@"
}

# kernel counter (TcpExt..., Tcp..., Ip...) from /proc/net/{netstat,snmp} in NS
kcounter() { # NS NAME
    ip netns exec "$1" cat /proc/net/netstat /proc/net/snmp | awk -v want="$2" '
        /^[A-Za-z0-9]+:/ {
            pfx = $1; sub(":", "", pfx)
            if (hdr[pfx] == "") { hdr[pfx] = $0; next }
            n = split(hdr[pfx], h, " ")
            for (i = 2; i <= n; i++) if (pfx h[i] == want) { print $i; found = 1; exit }
            hdr[pfx] = ""
        }
        END { if (!found) print "no-counter-" want }'
}

# rx_packets NS DEV
rx_packets() { ip netns exec "$1" cat "/sys/class/net/$2/statistics/rx_packets"; }

shim_present() {
    if [ ! -f "$SHIM" ]; then
        note "shim $SHIM not built: the shim runs below are bare runs"
    fi
}

# protect_start NAME PATH [protect_server options]: a protect_path server in the
# client namespace (log $T/NAME.log), waits until it listens.
protect_start() {
    local name=$1 path=$2
    shift 2
    local ready=$T/$name.ready i
    rm -f "$ready"
    : >"$T/$name.log"
    in_cli timeout 200 "$PY" "$IT_DIR/protect_server.py" --log "$T/$name.log" \
        --ready "$ready" --life 180 "$@" "$path" 2>"$T/$name.err" &
    BG_PIDS+=($!)
    for i in $(seq 1 100); do
        [ -e "$ready" ] && return 0
        sleep 0.05
    done
    fail "protect server $name did not start: $(cat "$T/$name.err")"
    return 1
}
