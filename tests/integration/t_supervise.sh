#!/bin/bash
# Static and Go programs under the seccomp supervisor (`dialshim run`): a Go client
# built here (http.Get by name, net.Dial by address) and busybox-static's wget go
# through a SOCKS5 proxy that resolves the names itself (remote_dns: the far server
# sees the proxy, dnsmasq sees the proxy's query and none from the client), through
# an HTTP CONNECT chain, with a routing mark or bind_interface (the far server sees
# link B), or are refused (block: the far server sees nothing).
# The client namespace's resolv.conf names dnsmasq, so an unproxied run resolves and
# connects directly: on a tree without the supervisor (today's `dialshim` warns and
# runs the program as it is) every case but the lab sanity check fails, verified
# with DIALSHIM=<main's build>/dialshim.
. "$(dirname "$0")/lib.sh"
. "$IT_DIR/proxy_lib.sh"
. "$IT_DIR/names_lib.sh"
. "$IT_DIR/sup_lib.sh"
sup_lab_up
printf 'nameserver %s\noptions timeout:1 attempts:1\n' "$A4_SRV" >"$NETNS_ETC/resolv.conf"
mkdir -p "$SRV_ETC" && printf 'nameserver %s\n' "$A4_SRV" >"$SRV_ETC/resolv.conf"
dns_start --address=/v4.example/203.0.113.2
srv_start far $FAR4:8081
srv_start web --http $FAR4:8080 "[$FAR6]:8080"
start_microsocks ms $B4_SRV 1080
start_tinyproxy tp $A4_SRV 8888 $A4_SRV 8080 8081
LOG=$T/far.log WLOG=$T/web.log MS=$T/ms.log

SOCKS=$(proxy_conf socks socks5 $B4_SRV:1080 <<<'remote_dns = true
handshake = lockstep
connect_timeout = 3s')
CHAIN=$(write_conf chain <<EOF
[dialer first]
type = socks5
server = $B4_SRV:1080
handshake = lockstep

[dialer second]
type = http
server = $A4_SRV:8888
detour = first
connect_timeout = 4s

[app all]
match = *
dialer = second
EOF
)
MARK=$(write_conf mark <<EOF
[dialer viab]
type = direct
routing_mark = 0x64

[app all]
match = *
dialer = viab
EOF
)
IFACE=$(write_conf iface <<EOF
[dialer viab]
type = direct
bind_interface = vb

[app all]
match = *
dialer = viab
EOF
)
BLOCK=$(write_conf block <<EOF
[app all]
match = *
dialer = direct
route = cidr:203.0.113.0/24 -> block
EOF
)
client_queries() { dns_queries | grep -E "from ($A4_CLI|$B4_CLI|$A6_CLI|$B6_CLI)\$"; }

case_begin "lab: a bare Go client resolves with dnsmasq and reaches the far server directly"
run_bare "$SUPGO" get http://v4.example:8080/
assert_eq "$OUT" "body=you are $A4_CLI" "bare page"
assert_saw "$WLOG" $A4_CLI "web server"
assert_match "$(client_queries)" "v4\.example from $A4_CLI" "the bare client's query"
: >"$DNS_LOG"

case_begin "Go http.Get by name through SOCKS5 (remote_dns): the proxy resolves, no query from the client"
run_tool "$SOCKS" "$SUPGO" get http://v4.example:8080/
assert_eq "$RC" 0 "exit status"
assert_eq "$OUT" "body=you are $FAR4" "page"
assert_saw "$WLOG" $FAR4 "web server (the proxy)"
assert_match "$(cat "$MS")" "client\[[0-9]+\] $B4_CLI: connected to v4\.example:8080" "microsocks got the name"
assert_eq "$(client_queries)" "" "dnsmasq: queries from the client"
assert_match "$(dns_queries)" "v4\.example from $A4_SRV" "dnsmasq: the proxy's query"
assert_match "$ERR" "supervised connect tcp [^ ]+:8080 name=v4\.example app=all rule=default chain=p result=ok" "decision log"
: >"$MS"
: >"$DNS_LOG"

case_begin "Go net.Dial by address through SOCKS5; its RemoteAddr (getpeername) is the destination"
run_tool "$SOCKS" "$SUPGO" dial $FAR4:8081
assert_eq "$(kv "$OUT" reply)" "you are $FAR4" "reply"
assert_eq "$(kv "$OUT" remote)" "$FAR4:8081" "RemoteAddr, not the proxy's"
assert_saw "$LOG" $FAR4 "far server (the proxy)"
assert_match "$(cat "$MS")" "$B4_CLI: connected to $FAR4:8081" "microsocks log"
: >"$MS"

case_begin "busybox wget by name through SOCKS5 (remote_dns): no query from the client"
run_tool "$SOCKS" "$BUSYBOX" wget -q -O - http://v4.example:8080/
assert_eq "$RC" 0 "exit status"
assert_eq "$OUT" "you are $FAR4" "page"
assert_saw "$WLOG" $FAR4 "web server (the proxy)"
assert_match "$(cat "$MS")" "connected to v4\.example:8080" "microsocks got the name"
assert_eq "$(client_queries)" "" "dnsmasq: queries from the client"
: >"$MS"
: >"$DNS_LOG"

case_begin "Go and busybox through an HTTP CONNECT chain (socks5 -> http)"
run_tool "$CHAIN" "$SUPGO" dial $FAR4:8081
assert_eq "$(kv "$OUT" reply)" "you are $A4_SRV" "Go reply (tinyproxy's address)"
assert_saw "$LOG" $A4_SRV "far server"
run_tool "$CHAIN" "$BUSYBOX" wget -q -O - http://$FAR4:8080/
assert_eq "$OUT" "you are $A4_SRV" "busybox page"
assert_saw "$WLOG" $A4_SRV "web server"
assert_match "$(cat "$T/tp.log")" "CONNECT $FAR4:8081 HTTP" "tinyproxy log"
assert_match "$(cat "$MS")" "$B4_CLI: connected to $A4_SRV:8888" "microsocks: asked for tinyproxy"
: >"$MS"

case_begin "routing_mark and bind_interface: the far server sees link B"
run_tool "$MARK" "$SUPGO" dial $FAR4:8081
assert_eq "$(kv "$OUT" reply)" "you are $B4_CLI" "Go with the mark"
assert_saw "$LOG" $B4_CLI "far server (mark)"
run_tool "$IFACE" "$BUSYBOX" wget -q -O - http://$FAR4:8080/
assert_eq "$OUT" "you are $B4_CLI" "busybox with bind_interface"
assert_saw "$WLOG" $B4_CLI "web server (interface)"

case_begin "blocked: ECONNREFUSED, the far server sees nothing"
run_tool "$BLOCK" "$SUPGO" dial $FAR4:8081
assert_eq "$RC" 1 "exit status"
assert_match "$OUT" "connection refused" "Go's error"
assert_match "$ERR" "supervised connect tcp $FAR4:8081 app=all rule=#1 .* chain=block result=ECONNREFUSED" "decision log"
run_tool "$BLOCK" "$BUSYBOX" wget -q -O - http://$FAR4:8080/
assert_ne "$RC" 0 "busybox exit status"
assert_saw_nothing "$LOG" "far server"
assert_saw_nothing "$WLOG" "web server"

finish
