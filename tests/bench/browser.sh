#!/bin/bash
# Bench part: a Chromium page load (headless, --dump-dom, a cold start each time)
# by name over a link with a 20 ms RTT, with no proxy and through a SOCKS5 proxy
# (danted, handshake = auto) with remote_dns under the shim, rounds alternating.
# Reports the median load-time ratio (target <= 1.10) and the UDP associations the
# shim opened per load (Chromium's own DNS client used to ride the proxy's UDP relay:
# about 40 per load; the target is 0), and checks every proxied load reached the web
# server from the proxy's address with no DNS query from the client.
#
# The delay lab of lib.sh: the web server (ttfb's HTTP answer is not needed: a
# python one-line server answering "you are IP") and dnsmasq listen in the proxy
# namespace bp (198.51.100.1), across the delay from the client; danted there too.
# dnsmasq answers www.example only and forwards nothing; both namespaces' resolvers
# name it. The browser runs with its background services off; everything goes
# through the proxy (the app's dialer, remote_dns), so Chromium's own DNS client,
# whose connected socket asks the lab's dnsmasq, is answered in the process
# (dns_hijack). The proxy's namespace has no way out: dnsmasq forwards nothing.
set -u
. "$(dirname "$0")/lib.sh"

DELAY=${BENCH_DELAY_MS:-10}
ROUNDS=${BENCH_BROWSER_ROUNDS:-3}
for p in chromium danted dnsmasq python3; do
    command -v $p >/dev/null || { echo "<!-- browser: $p missing (make deps) -->"; exit 1; }
done

delay_lab_up "$DELAY" || { echo "<!-- browser: the delay lab did not come up -->"; exit 1; }
ns_resolv $C $PROXY || exit 1
ns_resolv $P $PROXY || exit 1
bg $P "$BT/dnsmasq.out" dnsmasq --no-daemon --conf-file=/dev/null --no-resolv --no-hosts \
    --pid-file= --user=root --group=root --bind-interfaces --listen-address=$PROXY \
    --log-queries --log-facility="$BT/dnsmasq.log" --local=/example/ \
    --address=/www.example/$PROXY
cat >"$BT/web.py" <<'PY'
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = ("you are %s\n" % self.client_address[0]).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        with open(sys.argv[2], "a") as f:
            f.write("PEER %s\n" % self.client_address[0])
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer((sys.argv[1], 8080), H).serve_forever()
PY
bg $P "$BT/web.out" python3 "$BT/web.py" $PROXY "$BT/web.log"
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
bg $P "$BT/dante.out" danted -f "$BT/dante.conf" -N 2
for port in 8080 1080; do wait_listen $P $port || exit 1; done
wait_listen $P 53 udp || exit 1
cat >"$BT/s5.ini" <<EOF
[dialer p]
type = socks5
server = $PROXY:1080
remote_dns = true

[app all]
match = *
dialer = p
EOF
FLAGS=(--headless=new --no-sandbox --disable-gpu --no-first-run --disable-background-networking
    --disable-component-update --disable-sync --no-pings --disable-domain-reliability
    --disable-features=DnsOverHttps,OptimizationHints,MediaRouter)

load() { # VARIANT ROUND -> "ms ok associations client_queries"
    local v=$1 r=$2 t0 t1 out pre=() ok=0
    : >"$BT/dnsmasq.log"
    [ "$v" = shim ] && pre=(env LD_PRELOAD="$SHIM" DIALSHIM_CONFIG="$BT/s5.ini" DIALSHIM_LOG=info)
    t0=$(date +%s%N)
    ip netns exec $C timeout 60 "${pre[@]}" env HOME="$BT" chromium "${FLAGS[@]}" \
        --user-data-dir="$BT/prof-$v-$r" --dump-dom http://www.example:8080/ \
        >"$BT/out-$v-$r" 2>"$BT/err-$v-$r"
    t1=$(date +%s%N)
    out=$(cat "$BT/out-$v-$r")
    case $v in
    bare) [[ $out == *"you are 192.0.2.1"* ]] && ok=1 ;;
    shim) [[ $out == *"you are $PROXY_EXT"* ]] && ok=1 ;;
    esac
    echo "$(((t1 - t0) / 1000000)) $ok $(grep -c 'udp association via .* created' "$BT/err-$v-$r") \
$(grep -c "query.* from 192.0.2.1" "$BT/dnsmasq.log")"
}

load bare 0 >/dev/null # warm the page cache
for r in $(seq "$ROUNDS"); do
    if [ $((r % 2)) = 1 ]; then order="bare shim"; else order="shim bare"; fi
    for v in $order; do echo "$r $v $(load $v $r)" | tee -a "$BT/loads" >&2; done
done

ratio=$(awk '{ t[$1, $2] = $3 } END { for (k in t) { split(k, a, SUBSEP); if (a[2] == "shim") print t[a[1], "shim"] / t[a[1], "bare"] } }' "$BT/loads" | median)
bare_ms=$(awk '$2 == "bare" { print $3 }' "$BT/loads" | median)
shim_ms=$(awk '$2 == "shim" { print $3 }' "$BT/loads" | median)
bad=$(awk '$4 != 1 { n++ } END { print n + 0 }' "$BT/loads")
assoc=$(awk '$2 == "shim" { print $5 }' "$BT/loads" | median)
queries=$(awk '$2 == "shim" { n += $6 } END { print n + 0 }' "$BT/loads")
row "Chromium page load by name over a $((2 * DELAY)) ms RTT link: no proxy vs through SOCKS5 with remote_dns under the shim (median of per-round ratios; $bad of $((2 * ROUNDS)) loads failed)" \
    "${bare_ms} ms" "${shim_ms} ms" "$(calc "$ratio")" "<= 1.10" "$(yesno "$ratio <= 1.10 && $bad == 0")"
row "UDP associations the shim opened per proxied Chromium page load (median); DNS queries from the client seen by dnsmasq: $queries" \
    "about 40" "$assoc" "-" "0" "$(yesno "$assoc == 0 && $queries == 0 && $bad == 0")"
