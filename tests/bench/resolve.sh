#!/bin/bash
# Bench part: names (issue 3). Prints markdown rows on stdout, details on stderr.
#
# 1. Lookup latency, uncached: getaddrinfo(AF_UNSPEC) of names never asked before,
#    glibc (bare) vs the shim (a direct dialer whose [resolver] is mode = real,
#    c-ares), both against the same dnsmasq on 127.0.0.1 in namespace bq-$$ (glibc's
#    resolv.conf there: /etc/netns/bq-$$/resolv.conf). dnsmasq answers every name
#    under bench.test (A and AAAA) from its command line, forwards nothing.
# 2. Cache hit: the same name again and again through the shim (cache = true).
# 2b. Fake addresses for new names: the process's own table vs the shared one.
# 3. Happy Eyeballs over the delay lab (lib.sh): he.bench.test has an AAAA on the dead
#    network 2001:db8:d::/64 (blackholed after the delay line: no answer, no ICMP) and
#    an A at 198.51.100.1; dnsmasq answers across the delay (198.51.100.1:53). Under the
#    shim ([resolver] mode = fake_ip, strategy = prefer_ipv6, fallback_delay = 250ms)
#    getaddrinfo returns a fake address at once; connect resolves (1 RTT), tries IPv6,
#    250 ms later IPv4 (1 RTT): expected <= fallback_delay + 2 RTT. A bare client
#    (glibc, RFC 6724 puts the IPv6 address first) is shown for contrast, cut at 2 s.
set -u
. "$(dirname "$0")/lib.sh"

T0=$SECONDS
NQ=${BENCH_DNS_LOOKUPS:-300}
ROUNDS=${BENCH_DNS_ROUNDS:-7}
NHIT=${BENCH_DNS_HITS:-20000}
NFAKE=${BENCH_FAKE_LOOKUPS:-2000} # enough that the table's first page faults do not dominate
HE_RUNS=${BENCH_HE_RUNS:-9}
DELAY=${BENCH_DELAY_MS:-25}
DNSMASQ=/usr/sbin/dnsmasq

if ! nm -D --defined-only "$SHIM" 2>/dev/null | grep -qw getaddrinfo; then
    row "name lookups (issue 3)" "-" "-" "-" "-" "not measured: getaddrinfo hooks not built"
    exit 0
fi
[ -x $DNSMASQ ] || { echo "<!-- resolve: dnsmasq missing (make deps) -->"; exit 1; }
cc -O2 -Wall -Wextra -Werror -o "$B/resolvebench" "$BENCH_DIR/resolvebench.c" &&
    cc -O2 -Wall -Wextra -Werror -o "$B/ttfb" "$BENCH_DIR/ttfb.c" || exit 1

dnsmasq_args() { # LISTEN-ADDRESS
    echo --no-daemon --conf-file=/dev/null --no-resolv --no-hosts --pid-file= --user=root \
        --group=root --bind-interfaces --listen-address="$1" --local=/test/ --local-ttl=300 \
        --address=/bench.test/198.51.100.7 --address=/bench.test/2001:db8:7::7 \
        --address=/he.bench.test/$PROXY --address=/he.bench.test/$DEAD6
}

# ------------------------------------------------------------------ 1 and 2
Q=bq-$$
ns_new $Q || exit 1
ns_resolv $Q 127.0.0.1 || { echo "<!-- resolve: cannot write /etc/netns/$Q/resolv.conf -->"; exit 1; }
# shellcheck disable=SC2046
bg $Q "$BT/dnsmasq-q.log" $DNSMASQ $(dnsmasq_args 127.0.0.1)
wait_listen $Q 53 udp || exit 1
cat >"$BT/real.ini" <<EOF
[resolver r]
servers = 127.0.0.1
mode = real
cache = true

[dialer d]
type = direct
domain_resolver = r

[app all]
match = *
dialer = d
EOF
lookups() { # bare|shim fresh|same ARG N
    local how=$1
    shift
    if [ "$how" = shim ]; then
        ip netns exec $Q timeout 60 env LD_PRELOAD="$SHIM" DIALSHIM_CONFIG="$BT/real.ini" \
            "$B/resolvebench" "$@"
    else
        ip netns exec $Q timeout 60 "$B/resolvebench" "$@"
    fi 2>>"$BT/errors"
}
# both really answer, and the shim really asks c-ares (not glibc): its log says so
for how in bare shim; do
    echo "bench resolve: $how: $(lookups $how fresh bench.test 3 | tr '\n' ' ')" >&2
done
: >"$BT/lat"
for r in $(seq 1 "$ROUNDS"); do
    for how in bare shim; do
        lookups $how fresh bench.test "$NQ" | sed -n "s/^median_us=/$how /p" >>"$BT/lat"
    done
done
for how in bare shim; do
    lookups $how same www.bench.test "$NHIT" | sed -n "s/^mean_us=/hit-$how /p" >>"$BT/lat"
done
T1=$SECONDS
[ -s "$BT/errors" ] && sed 's/^/bench resolve: /' "$BT/errors" | sort | uniq -c | head -n 5 >&2
declare -A M
for k in bare shim hit-bare hit-shim; do
    M[$k]=$(awk -v k=$k '$1 == k { print $2 }' "$BT/lat" | median)
    echo "bench resolve: $k: $(awk -v k=$k '$1 == k { printf "%s ", $2 }' "$BT/lat")-> median ${M[$k]:-none} us" >&2
done
ratio=n/a met=NO
if [ -n "${M[bare]}" ] && [ -n "${M[shim]}" ]; then
    ratio=$(calc "${M[shim]} / ${M[bare]}")
    met=$(yesno "$ratio <= 1.1")
fi
row "getaddrinfo latency, uncached (fresh names, A+AAAA, local dnsmasq): glibc vs dialshim (c-ares, mode = real); median of $ROUNDS x $NQ" \
    "${M[bare]:-failed} us" "${M[shim]:-failed} us" "$ratio" "<= 1.10" "$met"
met=NO
[ -n "${M[hit-shim]}" ] && met=$(yesno "${M[hit-shim]} < 5")
row "getaddrinfo, the same name $NHIT times: glibc (no cache: asks dnsmasq) vs dialshim cache hit" \
    "${M[hit-bare]:-failed} us" "${M[hit-shim]:-failed} us" \
    "$([ -n "${M[hit-shim]}" ] && [ -n "${M[hit-bare]}" ] && calc "${M[hit-shim]} / ${M[hit-bare]}" || echo n/a)" \
    "< 5 us" "$met"

# ------------------------------------------------------------------ 2b. shared fake table
# fake_ip lookups of new names (each takes a new address): the process's own table
# (state_dir empty) against the table shared under state_dir (a mapped file, a
# slot taken and an index entry claimed by compare-and-swap). No DNS server is
# involved.
mkdir -m 700 "$BT/state"
for kind in local shared; do
    {
        [ $kind = local ] && printf '[global]\nstate_dir =\n\n' ||
            printf '[global]\nstate_dir = %s\n\n' "$BT/state"
        printf '[resolver f]\nmode = fake_ip\n\n[dialer d]\ntype = direct\ndomain_resolver = f\n\n'
        printf '[app all]\nmatch = *\ndialer = d\n'
    } >"$BT/fake-$kind.ini"
done
: >"$BT/fake"
for r in $(seq 1 "$ROUNDS"); do
    for kind in local shared; do
        ip netns exec $Q timeout 60 env LD_PRELOAD="$SHIM" DIALSHIM_CONFIG="$BT/fake-$kind.ini" \
            "$B/resolvebench" fresh fake.test "$NFAKE" 2>>"$BT/errors" |
            sed -n "s/^median_us=/$kind /p" >>"$BT/fake"
        ip netns exec $Q timeout 60 env LD_PRELOAD="$SHIM" DIALSHIM_CONFIG="$BT/fake-$kind.ini" \
            "$B/resolvebench" same www.fake.test "$NHIT" 2>>"$BT/errors" |
            sed -n "s/^mean_us=/hit-$kind /p" >>"$BT/fake"
    done
done
for kind in local shared hit-local hit-shared; do
    M[fake-$kind]=$(awk -v k=$kind '$1 == k { print $2 }' "$BT/fake" | median)
    echo "bench resolve: fake $kind: $(awk -v k=$kind '$1 == k { printf "%s ", $2 }' "$BT/fake")-> median ${M[fake-$kind]:-none} us" >&2
done
ratio=n/a met=NO
if [ -n "${M[fake-local]}" ] && [ -n "${M[fake-shared]}" ]; then
    ratio=$(calc "${M[fake-shared]} / ${M[fake-local]}")
    met=$(yesno "$ratio <= 2")
fi
row "getaddrinfo fake_ip, new names (a new address each, A+AAAA): the process's own table vs the table shared under state_dir; median of $ROUNDS x $NFAKE" \
    "${M[fake-local]:-failed} us" "${M[fake-shared]:-failed} us" "$ratio" "<= 2.00" "$met"
ratio=n/a met=NO
if [ -n "${M[fake-hit-local]}" ] && [ -n "${M[fake-hit-shared]}" ]; then
    ratio=$(calc "${M[fake-hit-shared]} / ${M[fake-hit-local]}")
    met=$(yesno "$ratio <= 2")
fi
row "getaddrinfo fake_ip, a name the table has ($NHIT times): the process's own table vs the shared one" \
    "${M[fake-hit-local]:-failed} us" "${M[fake-hit-shared]:-failed} us" "$ratio" "<= 2.00" "$met"

# ------------------------------------------------------------------ 3. Happy Eyeballs
delay_lab_up "$DELAY" || { echo "<!-- resolve: the delay lab did not come up -->"; exit 1; }
ns_resolv $C $PROXY || exit 1
# shellcheck disable=SC2046
bg $P "$BT/dnsmasq-p.log" $DNSMASQ $(dnsmasq_args $PROXY)
bg $P "$BT/near.log" "$B/ttfb" server $PROXY 8080 "$LIFE"
bg $P "$BT/sink.log" "$B/resolvebench" sink $PROXY 9000 "$LIFE"
wait_listen $P 53 udp && wait_listen $P 8080 && wait_listen $P 9000 || exit 1
lab_rtt || { echo "<!-- resolve: ping failed -->"; exit 1; }
cat >"$BT/he.ini" <<EOF
[resolver r]
servers = $PROXY
mode = fake_ip
strategy = prefer_ipv6
cache = true

[dialer d]
type = direct
domain_resolver = r
fallback_delay = 250ms
connect_timeout = 10s

[app all]
match = *
dialer = d
EOF
: >"$BT/he"
opens0=$(kcounter $C TcpActiveOpens)
for r in $(seq 1 "$HE_RUNS"); do
    ip netns exec $C timeout 20 env LD_PRELOAD="$SHIM" DIALSHIM_CONFIG="$BT/he.ini" \
        "$B/resolvebench" connect he.bench.test 8080 >"$BT/he.out" 2>"$BT/he.err"
    echo "bench resolve: HE run $r: $(tr '\n' ' ' <"$BT/he.out") $(head -c 200 "$BT/he.err")" >&2
    if grep -q "^reply=you are 192.0.2.1" "$BT/he.out"; then
        sed -n 's/^total_ms=//p' "$BT/he.out" >>"$BT/he"
    fi
done
opens=$(($(kcounter $C TcpActiveOpens) - opens0))
HE=$(median <"$BT/he")
BOUND=$(calc "%.1f" "250 + 2 * $RTT")
bare=$(ip netns exec $C timeout 2 "$B/resolvebench" connect he.bench.test 8080 2>&1 | tr '\n' ' ')
echo "bench resolve: bare client (glibc), cut at 2 s: ${bare:-no connection}" >&2
echo "bench resolve: HE: $(wc -l <"$BT/he") of $HE_RUNS runs connected over IPv4; TCP connection attempts in the client: $opens (2 per run: IPv6 first, then IPv4)" >&2
# The target is a count of round trips beyond fallback_delay (the DNS answer, then
# the IPv4 handshake), counted like every RTT count of the report: (time - 250 ms)
# / RTT, met below 2.5. The ms column shows what the exact bound leaves over.
ratio=n/a met=NO count=failed
if [ -n "$HE" ]; then
    ratio=$(calc "$HE / $BOUND")
    count=$(calc "%.2f" "($HE - 250) / $RTT")
    met=$(yesno "$count < 2.5")
fi
row "time to connect to a fake-IP name whose AAAA is dead (fallback_delay = 250ms, RTT $RTT ms, DNS across the delay; getaddrinfo + connect, median of $HE_RUNS): 250 ms + 2 RTT vs dialshim, as RTTs beyond fallback_delay (a bare glibc client: $(case $bare in *total_ms*) echo "connected" ;; *) echo "no connection in 2 s" ;; esac))" \
    "$BOUND ms (250 ms + 2 RTT)" "${HE:-failed} ms = 250 ms + $count RTT ($([ -n "$HE" ] && calc "%+.1f" "$HE - $BOUND") ms)" "$ratio" "<= 250 ms + 2 RTT" "$met"

# The socket the program is left with after the race: the IPv4 racer, dup3'd over
# the program's IPv6 socket. Upload UP bytes on it, and on a plain IPv4 connection.
UP=${BENCH_UPLOAD_BYTES:-262144}
ip netns exec $C timeout 30 "$B/resolvebench" connect $PROXY 9000 "$UP" >"$BT/up.bare" 2>&1
ip netns exec $C timeout 30 env LD_PRELOAD="$SHIM" DIALSHIM_CONFIG="$BT/he.ini" \
    "$B/resolvebench" connect he.bench.test 9000 "$UP" >"$BT/up.shim" 2>&1
for how in bare shim; do
    echo "bench resolve: upload $UP bytes, $how: $(tr '\n' ' ' <"$BT/up.$how")" >&2
done
ub=$(sed -n 's/^upload_ms=//p' "$BT/up.bare") us=$(sed -n 's/^upload_ms=//p' "$BT/up.shim")
sb=$(sed -n 's/^sndbuf=//p' "$BT/up.bare") ss=$(sed -n 's/^sndbuf=//p' "$BT/up.shim")
ratio=n/a met=NO
if [ -n "$ub" ] && [ -n "$us" ] && grep -q "^sink=got $UP" "$BT/up.shim"; then
    ratio=$(calc "$us / $ub")
    met=$(yesno "$ratio <= 1.1")
fi
row "upload $((UP / 1024)) KiB right after connect (RTT $RTT ms): a plain IPv4 connection (SO_SNDBUF $sb) vs the socket Happy Eyeballs left the program (SO_SNDBUF $ss) (time ratio)" \
    "${ub:-failed} ms" "${us:-failed} ms" "$ratio" "<= 1.10" "$met"
echo "<!-- resolve: lookups $((T1 - T0)) s; Happy Eyeballs $((SECONDS - T1)) s; $opens TCP attempts for $HE_RUNS runs -->"
