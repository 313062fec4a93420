#!/bin/sh
# make bench: ratios measured side by side in one run (machines here are noisy,
# so absolute numbers mean little; rounds alternate the variants).
# Runs inside a network namespace of its own; traffic stays on its loopback.
# Then the parts in bash, each in namespaces of its own, each printing its rows:
#   tests/bench/rtt.sh      emulated RTT (tundelay.c) and RTT counts via a remote SOCKS5
#   tests/bench/socks5.sh   connections/s through a local SOCKS5 proxy
#   tests/bench/resolve.sh  getaddrinfo latency, cache hits, Happy Eyeballs to a dead AAAA
#   tests/bench/udp.sh      datagram round trips/s, direct and through a SOCKS5 UDP relay
#   tests/bench/mem.sh      RSS of a long-lived process under the shim vs bare
#   tests/bench/browser.sh  a Chromium page load through SOCKS5 with remote_dns vs no proxy
#   tests/bench/nb.sh       python asyncio, 50 connections at once via a remote SOCKS5 proxy:
#                           direct, a native asyncio SOCKS5 client, dialshim, proxychains-ng
#   tests/bench/supervise.sh  the seccomp supervisor: direct connects vs bare and strace,
#                           proxied connects vs the preloaded shim, 50 Go connections via a
#                           proxy 20 ms away
#   tests/bench/system.sh   the start of a program no app matches, with a 50-app
#                           /etc/dialshim.ini (the system-wide mode)
#   tests/bench/group.sh    proxy groups: fail-over to the second member when the first
#                           refuses (extra RTTs), round_robin over two proxies (connects/s)
# Their details (every sample, every check) go to build/bench-details.log.
# BENCH_PARTS="rtt socks5 resolve udp mem nb browser supervise system group" chooses among them ("" for none).
set -eu
cd "$(dirname "$0")/../.."
B=build
[ "$(id -u)" = 0 ] || { echo "bench: run as root (it makes a network namespace)"; exit 1; }
cc -O2 -Wall -Wextra -Werror -o $B/connbench tests/bench/connbench.c
cc -O2 -Wall -Wextra -Werror -o $B/startbench tests/bench/startbench.c
echo 'int dialshim_bench_empty;' >$B/empty.c
cc -O2 -shared -fPIC -o $B/empty.so $B/empty.c

NS=dsbench-$$
T=$(mktemp -d)
START=$(date +%s)
cleanup() {
    [ -n "${SRV:-}" ] && kill "$SRV" 2>/dev/null || true
    ip netns del "$NS" 2>/dev/null || true
    rm -rf "$T"
}
trap cleanup EXIT INT TERM
ip netns add "$NS"
ip netns exec "$NS" ip link set lo up
PORT=7001
ip netns exec "$NS" $B/connbench server $PORT &
SRV=$!
sleep 0.3

cat > "$T/bench.ini" <<INI
[dialer marked]
type = direct
routing_mark = 0x64
inet4_bind_address = 127.0.0.1
bind_address_no_port = true

[app bench]
match = *
dialer = marked
INI
SHIM="LD_PRELOAD=$PWD/$B/libdialshim.so DIALSHIM_CONFIG=$T/bench.ini"
N=${BENCH_CONNS:-4000}
ROUNDS=${BENCH_ROUNDS:-33}

run() { # variant -> conns/s
    case $1 in
    bare) ip netns exec "$NS" $B/connbench client 127.0.0.1 $PORT "$N" ;;
    own)  ip netns exec "$NS" $B/connbench client 127.0.0.1 $PORT "$N" own ;;
    shim) ip netns exec "$NS" env $SHIM $B/connbench client 127.0.0.1 $PORT "$N" ;;
    esac | sed -n 's/^conns_per_sec=//p'
}
for v in bare own shim; do run $v >/dev/null; done # warm up
# Each round runs the three back to back, the order turning every round: a run's
# rate swings by +-10% here, mostly between rounds, so the ratios are taken within
# a round and their median reported.
for r in $(seq "$ROUNDS"); do
    case $((r % 3)) in
    0) order="bare own shim" ;;
    1) order="shim bare own" ;;
    2) order="own shim bare" ;;
    esac
    for v in $order; do echo "$r $v $(run $v)" >> "$T/conns"; done
done

# a process's first network call, alone: where the shim finds the real
# functions and reads its configuration (the rates above start after it)
first() { # variant -> "first_us faults"
    case $1 in
    own)  ip netns exec "$NS" $B/connbench first 127.0.0.1 $PORT own ;;
    shim) ip netns exec "$NS" env $SHIM $B/connbench first 127.0.0.1 $PORT ;;
    esac | awk -F= '{ v[$1] = $2 } END { print v["first_us"], v["first_faults"] }'
}
for r in $(seq "${BENCH_FIRSTS:-101}"); do
    for v in own shim; do echo "$v $(first $v)" >> "$T/first"; done
done

# process start: /bin/true spawned directly, bare, under the shim with the
# configuration above, and under an empty preloaded library (what any LD_PRELOAD
# costs: the floor), interleaved run by run
DIALSHIM_CONFIG=$T/bench.ini $B/startbench "${BENCH_STARTS:-1500}" /bin/true \
    "$PWD/$B/libdialshim.so" "$PWD/$B/empty.so" >"$T/start"

kill "$SRV" 2>/dev/null || true
SRV=
echo "<!-- direct connects and process start: $(($(date +%s) - START)) s -->" >"$T/rows-direct"

: >$B/bench-details.log
for part in ${BENCH_PARTS-rtt socks5 resolve udp mem nb browser supervise system group}; do
    s=$(date +%s)
    echo "== $part" >>$B/bench-details.log
    rc=0
    BUILD="$PWD/$B" timeout 300 bash tests/bench/$part.sh >"$T/rows-$part" 2>>$B/bench-details.log || rc=$?
    [ "$rc" = 0 ] || echo "<!-- $part: FAILED (exit status $rc): see $B/bench-details.log -->" >>"$T/rows-$part"
    echo "<!-- $part: $(($(date +%s) - s)) s -->" >>"$T/rows-$part"
done

python3 - "$T/conns" "$T/start" "$N" "$ROUNDS" "$T/rows-direct" "$T/first" ${BENCH_PARTS-rtt socks5 resolve udp mem nb browser supervise system group} <<'PY' | tee $B/bench.md
import os, statistics, sys
conns, start, n, rounds = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
direct_note, first, parts = sys.argv[5], sys.argv[6], sys.argv[7:]
v, by_round = {}, {}
for line in open(conns):
    r, k, x = line.split()
    v.setdefault(k, []).append(float(x))
    by_round.setdefault(r, {})[k] = float(x)
m = {k: statistics.median(x) for k, x in v.items()}
def paired(a, b):  # median over the rounds of a/b within each round
    return statistics.median(x[a] / x[b] for x in by_round.values() if a in x and b in x)
s = {}
for line in open(start):
    f = dict(kv.split("=") for kv in line.split())
    s[int(f["variant"])] = (float(f["median_us"]), float(f["ratio"]))
def row(what, a, b, ratio, target, ok):
    print(f"| {what} | {a} | {b} | {ratio:.3f} | {target} | {'yes' if ok else 'NO'} |")
print(f"# dialshim benchmark ({rounds} rounds of {n} connections per variant, the order turning "
      "every round; rates are medians, ratios the median of the ratios within a round)\n")
print("| measure | baseline | dialshim | ratio | target | met |")
print("|---|---|---|---|---|---|")
r1 = paired("shim", "own")
row("connects/s, direct dialer with mark + bind address, vs the program setting them itself",
    f"{m['own']:.0f}/s", f"{m['shim']:.0f}/s", r1, ">= 0.97", r1 >= 0.97)
r2 = paired("shim", "bare")
row("connects/s vs a bare program that sets no options (includes the options' own cost)",
    f"{m['bare']:.0f}/s", f"{m['shim']:.0f}/s", r2, "report", True)
fu, ff = {}, {}
for line in open(first):
    k, us, fl = line.split()
    fu.setdefault(k, []).append(float(us))
    ff.setdefault(k, []).append(int(fl))
fo, fs = statistics.median(fu["own"]), statistics.median(fu["shim"])
row("a process's first network call, alone (once per process: the shim finds the real functions "
    f"and reads its configuration; the rates above start after it): median of "
    f"{len(fu['own'])} processes, page faults {statistics.median(ff['own']):.0f} vs "
    f"{statistics.median(ff['shim']):.0f}", f"{fo:.0f} us", f"{fs:.0f} us", fs / fo, "report", True)
r3 = s[1][1]
row("process start, /bin/true spawned directly, bare vs under the shim with the configuration "
    "above (median of the per-run time ratios, runs interleaved)", f"{s[0][0]:.0f} us",
    f"{s[1][0]:.0f} us", r3, "<= 1.10", r3 <= 1.10)
row("process start, /bin/true: bare vs under an empty preloaded library (the floor of any "
    "LD_PRELOAD)", f"{s[0][0]:.0f} us", f"{s[2][0]:.0f} us", s[2][1], "report", True)
# the parts' rows as they printed them; all comments after the table (a line
# without a pipe would end it)
notes = open(direct_note).read().splitlines()
for p in parts:
    lines = open(os.path.join(os.path.dirname(direct_note), "rows-" + p)).read().splitlines()
    for l in lines:
        if l.startswith("|"):
            print(l)
        else:
            notes.append(l)
print()
for l in notes:
    print(l)
print("\nRTT counts: time from connect() to the first byte of the answer to a request, "
      "divided by the median ping RTT over the TUN delay loop; a target of N RTT is met "
      "when the count is below N + 0.5.")
PY
