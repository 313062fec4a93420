#!/bin/bash
# Bench part: memory overhead (issue 6). Prints markdown rows on stdout, details on
# stderr.
#
# A real long-lived process, bare and under the shim with a typical configuration
# (a direct dialer with a routing mark, a SOCKS5 detour for some names, fake_ip on),
# after it has made a few connections and lookups: its VmRSS (/proc/PID/status) and
# Pss (/proc/PID/smaps_rollup), measured from outside while it waits. Two programs:
# python3 (socket.getaddrinfo, socket.create_connection) and memprobe.c (a small C
# program doing the same). Rounds alternate bare and shim; the rows give the medians
# and the difference in KiB; the target is at most 1 MiB more under the shim.
#
# The workload, in namespace bm-$$ (loopback only): two connects to 127.0.0.1:PORT
# (the marked direct dialer), getaddrinfo + connect to www.bench.test (fake IP under
# the shim; the connect resolves it with c-ares against dnsmasq on 127.0.0.1) and to
# x.socks.bench.test (routed to a SOCKS5 detour, microsocks on 127.0.0.1:1080, which
# gets the name; handshake = lockstep, as microsocks drops a pipelined request and
# auto would spend a second learning that in every process), and four more names
# (the C program also connects to them). Bare, glibc resolves the same
# names against the same dnsmasq (/etc/netns/bm-$$/resolv.conf).
set -u
. "$(dirname "$0")/lib.sh"

ROUNDS=${BENCH_MEM_ROUNDS:-5}
LIMIT_KIB=1024
PORT=7101
DNSMASQ=/usr/sbin/dnsmasq
PY=/usr/bin/python3 # the real python3, not a pyenv shim
[ -x $DNSMASQ ] && command -v microsocks >/dev/null ||
    { echo "<!-- mem: dnsmasq or microsocks missing (make deps) -->"; exit 1; }
cc -O2 -Wall -Wextra -Werror -o "$BT/memprobe" "$BENCH_DIR/memprobe.c" &&
    cc -O2 -Wall -Wextra -Werror -o "$BT/connbench" "$BENCH_DIR/connbench.c" || exit 1

M=bm-$$
ns_new $M || exit 1
ns_resolv $M 127.0.0.1 || { echo "<!-- mem: cannot write /etc/netns/$M/resolv.conf -->"; exit 1; }
bg $M "$BT/dnsmasq.log" $DNSMASQ --no-daemon --conf-file=/dev/null --no-resolv --no-hosts \
    --pid-file= --user=root --group=root --bind-interfaces --listen-address=127.0.0.1 \
    --local=/test/ --address=/bench.test/127.0.0.1
bg $M "$BT/server.log" "$BT/connbench" server $PORT
bg $M "$BT/microsocks.log" microsocks -i 127.0.0.1 -p 1080
wait_listen $M 53 udp && wait_listen $M $PORT && wait_listen $M 1080 || exit 1

cat >"$BT/mem.ini" <<EOF
[global]
fake_ip_range = 203.0.113.0/24
fake_ip6_range = 2001:db8:f::/48

[resolver r]
servers = 127.0.0.1
mode = fake_ip
cache = true

[dialer marked]
type = direct
routing_mark = 0x64
domain_resolver = r

[dialer sox]
type = socks5
server = 127.0.0.1:1080
remote_dns = true
handshake = lockstep

[app all]
match = *
dialer = marked
route = domain:*.socks.bench.test -> sox
EOF

cat >"$BT/memprobe.py" <<'EOF'
import os, socket, sys, time
port = int(sys.argv[1])
ok = fail = 0
def dial(host):
    global ok, fail
    try:
        socket.create_connection((host, port), timeout=5).close()
        ok += 1
    except OSError:
        fail += 1
for host in ("127.0.0.1", "127.0.0.1") + tuple(sys.argv[2:]):
    dial(host)
for name in ("a.bench.test", "b.bench.test", "c.bench.test", "d.bench.test"):
    try:
        socket.getaddrinfo(name, port, 0, socket.SOCK_STREAM)
    except OSError:
        fail += 1
print("pid=%d ok=%d fail=%d" % (os.getpid(), ok, fail))
print("ready", flush=True)
time.sleep(60)
EOF

NAMES=(www.bench.test x.socks.bench.test)
# probe HOW PROG: runs PROG (c|py) bare or under the shim (HOW bare|shim|shiminfo), waits
# for "ready", prints "rss=KiB pss=KiB ok=N fail=N" and the raw numbers on stderr,
# then kills it.
probe() {
    local how=$1 prog=$2 out=$BT/probe.out pid=""
    local -a cmd env=()
    case $prog in
    c) cmd=("$BT/memprobe" "$PORT" "${NAMES[@]}" a.bench.test b.bench.test c.bench.test d.bench.test) ;;
    py) cmd=("$PY" "$BT/memprobe.py" "$PORT" "${NAMES[@]}") ;;
    esac
    case $how in
    shim) env=(LD_PRELOAD="$SHIM" DIALSHIM_CONFIG="$BT/mem.ini") ;;
    shiminfo) env=(LD_PRELOAD="$SHIM" DIALSHIM_CONFIG="$BT/mem.ini" DIALSHIM_LOG=info) ;;
    esac
    : >"$out"
    ip netns exec $M timeout 70 env "${env[@]}" "${cmd[@]}" >"$out" 2>"$BT/probe.err" &
    local runner=$!
    for _ in $(seq 1 200); do
        grep -q '^ready' "$out" && break
        sleep 0.05
    done
    pid=$(sed -n 's/^pid=\([0-9]*\).*/\1/p' "$out")
    if [ -n "$pid" ] && [ -r "/proc/$pid/status" ]; then
        local rss pss
        rss=$(awk '$1 == "VmRSS:" { print $2 }' "/proc/$pid/status")
        pss=$(awk '$1 == "Pss:" { print $2 }' "/proc/$pid/smaps_rollup")
        echo "bench mem: $prog $how: $(head -n 1 "$out") VmRSS ${rss} kB; smaps_rollup:" \
            "$(grep -E '^(Rss|Pss|Pss_Anon|Pss_File|Private_Dirty|Anonymous):' \
                "/proc/$pid/smaps_rollup" | awk '{ printf "%s %s ", $1, $2 }')" >&2
        echo "rss=$rss pss=$pss $(head -n 1 "$out" | sed 's/^pid=[0-9]* //')"
        kill "$pid" 2>/dev/null
    else
        echo "bench mem: $prog $how: no ready process: $(head -c 300 "$out") $(head -c 300 "$BT/probe.err")" >&2
    fi
    wait "$runner" 2>/dev/null
    [ "$how" = shiminfo ] && sed 's/^/bench mem:   log: /' "$BT/probe.err" | head -n 40 >&2
    return 0
}

# the shim really takes each path in this workload: its decision log says so
# (python's sockets have a timeout, so its direct connects are non-blocking)
declare -A PATHS_OK=([c]=1 [py]=1)
for prog in c py; do
    log=$(probe shiminfo $prog 2>&1 >/dev/null)
    printf '%s\n' "$log" >&2
    for want in "tcp 127.0.0.1:$PORT .*chain=marked result=(ok|EINPROGRESS)" \
        "name=www.bench.test .*chain=marked result=ok" "name=x.socks.bench.test .*chain=sox result=ok" \
        "getaddrinfo d.bench.test .*mode=fake_ip"; do
        if ! printf '%s\n' "$log" | grep -Eq -- "$want"; then
            echo "<!-- mem: $prog under the shim: no '$want' in its log (see details) -->"
            PATHS_OK[$prog]=0
        fi
    done
done

: >"$BT/samples"
for _ in $(seq 1 "$ROUNDS"); do
    for prog in c py; do
        for how in bare shim; do
            echo "$prog $how $(probe $how $prog)" >>"$BT/samples"
        done
    done
done

# val PROG HOW KEY: the median of KEY over the rounds; okall PROG HOW: every round
# made all its connections and lookups.
val() { awk -v p="$1" -v h="$2" -v k="$3=" '$1 == p && $2 == h {
        for (i = 3; i <= NF; i++) if (index($i, k) == 1) print substr($i, length(k) + 1) }' \
        "$BT/samples" | median; }
okall() { ! awk -v p="$1" -v h="$2" '$1 == p && $2 == h' "$BT/samples" | grep -qv ' fail=0$'; }

for prog in py c; do
    case $prog in
    py) what="python3 (4 connects: 2 by address, 1 to a fake-IP name, 1 through SOCKS5; 6 lookups)" ;;
    c) what="small C program, memprobe.c (8 connects: 2 by address, 5 to fake-IP names, 1 through SOCKS5; 6 lookups)" ;;
    esac
    for key in rss pss; do
        b=$(val $prog bare $key) s=$(val $prog shim $key)
        label=$([ $key = rss ] && echo "VmRSS" || echo "Pss (smaps_rollup)")
        if [ -z "$b" ] || [ -z "$s" ]; then
            row "memory, $label of a long-lived $what: bare vs under the shim" \
                "${b:-failed}" "${s:-failed}" n/a "<= +$LIMIT_KIB KiB" NO
            continue
        fi
        d=$((s - b))
        met=$(yesno "$d <= $LIMIT_KIB")
        okall $prog bare && okall $prog shim || met="NO (a connect or lookup failed)"
        [ "${PATHS_OK[$prog]}" = 1 ] || met="NO (the shim did not take every path)"
        row "memory, $label of a long-lived $what: bare vs under the shim (direct + mark, SOCKS5 detour, fake_ip), median of $ROUNDS" \
            "$b KiB" "$s KiB ($(printf '%+d' $d) KiB)" "$(calc "$s / $b")" "<= +$LIMIT_KIB KiB" "$met"
    done
done
