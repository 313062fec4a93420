#!/bin/bash
# Browsers are process trees: Chromium resolves in its browser process and connects
# from its network-service child (started as /proc/self/exe, argv[0] "exe"); Firefox
# resolves with getaddrinfo and asks HTTPS records with res_nquery. Both, headless,
# load a page by name through SOCKS5 (Dante), an HTTP proxy (tinyproxy) and a 2-hop
# chain with remote_dns: the far web server saw the proxy's address, never the
# client's, and dnsmasq saw no query from the client (only the proxies' own, from
# 203.0.113.2: their namespace's resolv.conf names dnsmasq).
#
# Safety: the configuration blocks every destination but the lab's names and
# 203.0.113.0/24, and the browsers run with their background services off; the
# server namespace's resolver is the lab's dnsmasq, which forwards nothing.
# Verified to fail without the shim (SHIM=/nonexistent): the web server sees the
# client's own address and dnsmasq no query at all (the client's resolver is dead).
. "$(dirname "$0")/lib.sh"
. "$IT_DIR/proxy_lib.sh"
. "$IT_DIR/names_lib.sh"
command -v chromium >/dev/null && command -v firefox-esr >/dev/null ||
    { echo "FAIL - browsers: chromium or firefox-esr not installed (make deps)"; exit 1; }
names_lab_up
SRV_ETC=/etc/netns/$SRV
browsers_down() {
    local rc=$?
    rm -rf "$SRV_ETC"
    (exit "$rc")
    names_down
}
trap browsers_down EXIT
mkdir -p "$SRV_ETC" && printf 'nameserver %s\n' "$FAR4" >"$SRV_ETC/resolv.conf"
shim_present
dns_start
srv_start web --http $FAR4:8080
start_dante dante 1081 none $FAR4
start_tinyproxy tp $B4_SRV 8888 $FAR4 8080
WLOG=$T/web.log
BCTMO=40 # a browser's cold start under load takes seconds

# conf NAME DIALERS APPLINES: the lab's names and the far network to dialer p,
# everything else blocked; a state directory of its own, where the processes of
# one browser share their fake addresses.
conf() {
    write_conf "$1" <<EOF
[global]
state_dir = $T/state-$1

$2

[app all]
match = ${3:-*}
dialer = block
route = domain:*.example -> p
route = domain:www.example -> p
route = cidr:203.0.113.0/24 -> p
EOF
}
S5="[dialer p]
type = socks5
server = $B4_SRV:1081
remote_dns = true"
HTTP="[dialer p]
type = http
server = $B4_SRV:8888
remote_dns = true"
CHAIN="[dialer s5]
type = socks5
server = $B4_SRV:1081

[dialer p]
type = http
server = $FAR4:8888
detour = s5
remote_dns = true"
# the chain's second hop is tinyproxy reached through Dante at the far address
start_tinyproxy tpf $FAR4 8888 $FAR4 8080

CHROMIUM_FLAGS=(--headless=new --no-sandbox --disable-gpu --no-first-run
    --disable-background-networking --disable-component-update --disable-sync --no-pings
    --disable-domain-reliability --disable-features=DnsOverHttps,OptimizationHints,MediaRouter)

# chromium CONF [FLAGS...]: load the page, the DOM on stdout (OUT), the shim's log in ERR.
chromium_load() {
    local conf=$1
    shift
    : >"$DNS_LOG"
    : >"$WLOG"
    in_cli timeout "$BCTMO" env HOME="$T" LD_PRELOAD="$SHIM" DIALSHIM_CONFIG="$conf" \
        DIALSHIM_LOG=info chromium "${CHROMIUM_FLAGS[@]}" --user-data-dir="$T/chr.$RANDOM" "$@" \
        --dump-dom http://www.example:8080/ >"$T/run.out" 2>"$T/run.err"
    RC=$?
    OUT=$(cat "$T/run.out")
    ERR=$(grep dialshim: "$T/run.err")
    note "chromium rc=$RC: $(grep -o 'you are [0-9.]*' "$T/run.out")"
    printf '%s\n' "$ERR" | grep -v 'result=ok' | head -n 15 | sed 's/^/    #   log: /' >&2
}

firefox_load() {
    local conf=$1 prof=$T/ff.$RANDOM
    mkdir -p "$prof"
    cat >"$prof/user.js" <<'JS'
user_pref("app.update.enabled", false);
user_pref("browser.shell.checkDefaultBrowser", false);
user_pref("datareporting.policy.dataSubmissionEnabled", false);
user_pref("toolkit.telemetry.enabled", false);
user_pref("network.captive-portal-service.enabled", false);
user_pref("network.connectivity-service.enabled", false);
user_pref("browser.safebrowsing.malware.enabled", false);
user_pref("browser.safebrowsing.phishing.enabled", false);
user_pref("extensions.update.enabled", false);
user_pref("network.trr.mode", 5);
user_pref("network.dns.native_https_query", true);
JS
    : >"$DNS_LOG"
    : >"$WLOG"
    in_cli timeout "$BCTMO" env HOME="$T" LD_PRELOAD="$SHIM" DIALSHIM_CONFIG="$conf" \
        DIALSHIM_LOG=info firefox-esr --headless --no-remote --profile "$prof" \
        --screenshot "$prof/shot.png" http://www.example:8080/ >"$T/run.out" 2>"$T/run.err"
    RC=$?
    ERR=$(grep dialshim: "$T/run.err")
    note "firefox rc=$RC"
    printf '%s\n' "$ERR" | grep -v 'result=ok' | head -n 15 | sed 's/^/    #   log: /' >&2
}

# assert_only_peer IP WHAT: the web server saw connections (a browser may make more
# than one: the page, its icon), all from IP.
assert_only_peer() {
    assert_eq "$(peers "$WLOG" | sort -u | tr '\n' ' ')" "$1 " "$2"
}

# the client's own queries: dnsmasq's log lines from the client's addresses
client_queries() { dns_queries | grep -E "from ($A4_CLI|$B4_CLI)\$" || true; }

for via in S5:socks5 HTTP:http CHAIN:chain; do
    var=${via%%:*} name=${via#*:}
    C=$(conf "chr-$name" "${!var}")

    case_begin "chromium loads a page by name through $name with remote_dns: the web saw the proxy, dnsmasq nothing from the client"
    chromium_load "$C"
    assert_match "$OUT" "you are $FAR4" "page text (the proxy's address)"
    assert_only_peer $FAR4 "web server peers"
    assert_eq "$(client_queries)" "" "dnsmasq queries from the client"

    C=$(conf "ff-$name" "${!var}")
    case_begin "firefox loads a page by name through $name with remote_dns: the web saw the proxy, dnsmasq nothing from the client"
    firefox_load "$C"
    assert_eq "$RC" 0 "firefox exit status"
    assert_only_peer $FAR4 "web server peers"
    assert_eq "$(client_queries)" "" "dnsmasq queries from the client"
done

case_begin "chromium with its own sandbox and the network-service sandbox on (an unprivileged user) through socks5"
# Its seccomp policy kills the network process on calls like getpeername and refuses
# SO_BINDTODEVICE: the shim must make none it does not need. The library and the
# files it reads must be readable by that user.
C=$(conf chr-sbx "$S5")
mkdir -p "$T/nobody" && chmod 711 "$T" && chown 65534 "$T/nobody"
cp "$SHIM" "$T/nobody/libdialshim.so" && chmod 644 "$T/nobody/libdialshim.so"
# its processes share their fake addresses in a state directory of that user's
sed "s|^state_dir = .*|state_dir = $T/nobody/state|" "$C" >"$T/nobody/conf.ini" && chmod 644 "$T/nobody/conf.ini"
: >"$DNS_LOG"
: >"$WLOG"
in_cli timeout "$BCTMO" setpriv --reuid=65534 --regid=65534 --clear-groups env HOME="$T/nobody" \
    LD_PRELOAD="$T/nobody/libdialshim.so" DIALSHIM_CONFIG="$T/nobody/conf.ini" DIALSHIM_LOG=info \
    chromium "${CHROMIUM_FLAGS[@]/--no-sandbox/--enable-features=NetworkServiceSandbox}" \
    --user-data-dir="$T/nobody/prof" --dump-dom http://www.example:8080/ >"$T/run.out" 2>"$T/run.err"
RC=$?
OUT=$(cat "$T/run.out")
note "chromium (sandboxed) rc=$RC: $(grep -o 'you are [0-9.]*' "$T/run.out")"
grep dialshim: "$T/run.err" | grep -v 'result=ok' | head -n 15 | sed 's/^/    #   log: /' >&2
assert_match "$OUT" "you are $FAR4" "page text (the proxy's address)"
assert_only_peer $FAR4 "web server peers"
assert_eq "$(client_queries)" "" "dnsmasq queries from the client"
assert_no_match "$(cat "$T/run.err")" "Network service crashed|SIGSYS|Bad system call" "a sandbox kill"

case_begin "match = chromium pins every chromium process (children run as /proc/self/exe, argv[0] exe)"
C=$(conf chr-match "$S5" chromium)
# the built-in app (direct) for everything else: a child that fell to it would
# reach the web server from the client's address
chromium_load "$C"
assert_match "$OUT" "you are $FAR4" "page text (the proxy's address)"
assert_only_peer $FAR4 "web server peers"
assert_no_match "$ERR" "app=\(built-in\)" "decisions under the built-in app"

finish
