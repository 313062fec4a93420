#!/bin/bash
# The proxy hop's own DefaultDialer options (bind_interface, inet4_bind_address,
# routing_mark, tcp_fast_open, or those of a `direct` dialer it detours through)
# shape the TCP connection to the first proxy. microsocks listens on the far address
# 203.0.113.2:1080, which the client reaches by link A unless an option sends it by
# link B; microsocks logs the source it saw. A route rule picks the proxy for one
# destination only.
# Verified to fail without the shim (SHIM=/nonexistent): the clients reach the far
# server directly and microsocks/dante log nothing.
. "$(dirname "$0")/lib.sh"
. "$IT_DIR/proxy_lib.sh"
lab_up
shim_present
srv_start far $FAR4:8081 $A4_SRV:8081
start_microsocks msf $FAR4 1080
start_microsocks msa $A4_SRV 1082
start_dante dante 1081 none $FAR4
LOG=$T/far.log MS=$T/msf.log MSA=$T/msa.log DL=$T/dante.log

hop_conf() { # NAME OPTION-LINE: socks5 to microsocks on the far address, lockstep
    proxy_conf "$1" socks5 $FAR4:1080 <<<"handshake = lockstep
connect_timeout = 3s
$2"
}

# hop_case TITLE CONF EXPECTED-SOURCE: python3 through CONF; microsocks must log
# EXPECTED-SOURCE as its client, the far server microsocks' own address.
hop_case() {
    case_begin "$1"
    run_shim "$2" $PY $PROXY_CLIENT $FAR4 8081
    assert_eq "$RC" 0 "client exit status"
    assert_eq "$(kv "$OUT" reply)" "you are $FAR4" "reply"
    assert_saw "$LOG" $FAR4 "far server (the proxy)"
    assert_match "$(cat "$MS")" "client\[[0-9]+\] $3: connected to $FAR4:8081" "microsocks log: the client's source"
    assert_no_match "$(cat "$MS")" "client\[[0-9]+\] ($(sed 's/\./\\./g' <<<"$4")): " "microsocks log: the other link's source"
    : >"$MS"
}

run_bare $PY $PROXY_CLIENT $FAR4 8081
[ "$(peers "$LOG")" = "$A4_CLI" ] || note "lab: bare run saw '$(peers "$LOG")'"
: >"$LOG"

hop_case "socks5 hop without options: the proxy sees link A's address (the main route)" \
    "$(hop_conf plain '')" $A4_CLI $B4_CLI
hop_case "socks5 hop with bind_interface = vb: the proxy sees link B's address" \
    "$(hop_conf vb 'bind_interface = vb')" $B4_CLI $A4_CLI
hop_case "socks5 hop with inet4_bind_address = 198.51.100.1: the proxy sees it" \
    "$(hop_conf src "inet4_bind_address = $B4_CLI")" $B4_CLI $A4_CLI
hop_case "socks5 hop with routing_mark = 0x64 (table 100: link B): the proxy sees link B's address" \
    "$(hop_conf mark 'routing_mark = 0x64')" $B4_CLI $A4_CLI

DETOUR=$(write_conf viadirect <<EOF
[dialer viab]
type = direct
bind_interface = vb

[dialer p]
type = socks5
server = $FAR4:1080
handshake = lockstep
connect_timeout = 3s
detour = viab

[app all]
match = *
dialer = p
EOF
)
hop_case "socks5 dialer detouring through a direct dialer with bind_interface = vb: the proxy sees link B" \
    "$DETOUR" $B4_CLI $A4_CLI

case_begin "socks5 hop with bind_interface = va / inet4_bind_address to a proxy on link A: it sees 192.0.2.1"
for opt in "bind_interface = va" "inet4_bind_address = $A4_CLI"; do
    run_shim "$(proxy_conf "a-${opt%% *}" socks5 $A4_SRV:1082 <<<"handshake = lockstep
connect_timeout = 3s
$opt")" $PY $PROXY_CLIENT $FAR4 8081
    assert_eq "$RC" 0 "client exit status ($opt)"
    assert_eq "$(kv "$OUT" reply)" "you are $FAR4" "reply ($opt)"
    assert_saw "$LOG" $FAR4 "far server ($opt)"
    assert_match "$(cat "$MSA")" "client\[[0-9]+\] $A4_CLI: connected to $FAR4:8081" "microsocks log ($opt)"
    : >"$MSA"
done

case_begin "socks5 hop with tcp_fast_open = true still works, and fails closed when the proxy is down"
run_shim "$(proxy_conf tfo socks5 $B4_SRV:1081 <<<'tcp_fast_open = true
connect_timeout = 3s')" $PY $PROXY_CLIENT $FAR4 8081 --count=2
assert_eq "$RC" 0 "client exit status"
assert_eq "$(kv "$OUT" reply2)" "you are $FAR4" "reply (second connection, with a cookie by now)"
assert_saw "$LOG" "$FAR4 $FAR4" "far server"
run_shim "$(proxy_conf tfodown socks5 $B4_SRV:1090 <<<'tcp_fast_open = true
connect_timeout = 3s')" $PY $PROXY_CLIENT $FAR4 8081
assert_eq "$RC" 3 "proxy down: client exit status"
assert_eq "$(kv "$OUT" errno)" ECONNREFUSED "proxy down: errno"
assert_saw_nothing "$LOG" "far server (proxy down)"
: >"$DL"

case_begin "route cidr:203.0.113.0/24 -> proxy, app default direct: only that destination is proxied"
ROUTE=$(write_conf route <<EOF
[dialer p]
type = socks5
server = $B4_SRV:1081
connect_timeout = 3s

[app all]
match = *
dialer = direct
route = cidr:203.0.113.0/24 -> p
EOF
)
run_shim "$ROUTE" $PY $PROXY_CLIENT $FAR4 8081
assert_eq "$RC" 0 "203.0.113.2: client exit status"
assert_eq "$(kv "$OUT" reply)" "you are $FAR4" "203.0.113.2: reply"
assert_saw "$LOG" $FAR4 "203.0.113.2: the far server saw the proxy"
assert_match "$(cat "$DL")" "tcp/connect \[: $B4_CLI\.[0-9]+ $B4_SRV\.1081 -> $FAR4\.[0-9]+ $FAR4\.8081" "dante log"
: >"$DL"
run_shim "$ROUTE" $PY $PROXY_CLIENT $A4_SRV 8081
assert_eq "$RC" 0 "192.0.2.2: client exit status"
assert_eq "$(kv "$OUT" reply)" "you are $A4_CLI" "192.0.2.2: reply"
assert_saw "$LOG" $A4_CLI "192.0.2.2: the server saw the client directly"
assert_no_match "$(cat "$DL")" "tcp/connect" "dante log (192.0.2.2 must not be proxied)"

finish
