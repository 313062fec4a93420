#!/bin/bash
# The supervisor's DNS responder, over TCP and per [app]. The client namespace's
# resolv.conf names dnsmasq with `options use-vc`, so Go's resolver
# (GODEBUG=netdns=go) and static glibc's ask over TCP: under remote_dns that TCP
# connect to port 53 is answered by the supervisor (no connection reaches the
# proxy or dnsmasq, no query from the client). The responder decides by the app
# of the program that asked: a child exec'd under the supervisor that matches
# another [app] gets that app's answers (remote_dns: a fake address and the
# proxy gets the name; direct: dnsmasq's real address).
# Verified to fail on the tree before (DIALSHIM=<previous build>): the TCP query
# rode the proxy to dnsmasq, a child's app was ignored (the command's decided).
. "$(dirname "$0")/lib.sh"
. "$IT_DIR/proxy_lib.sh"
. "$IT_DIR/names_lib.sh"
. "$IT_DIR/sup_lib.sh"
sup_lab_up
printf 'nameserver %s\noptions use-vc timeout:1 attempts:1\n' "$A4_SRV" >"$NETNS_ETC/resolv.conf"
mkdir -p "$SRV_ETC" && printf 'nameserver %s\n' "$A4_SRV" >"$SRV_ETC/resolv.conf"
dns_start --address=/v4.example/203.0.113.2
srv_start web --http $FAR4:8080
start_microsocks ms $B4_SRV 1080
WLOG=$T/web.log MS=$T/ms.log
export GODEBUG=netdns=go

SOCKS=$(proxy_conf socks socks5 $B4_SRV:1080 <<<'remote_dns = true
handshake = lockstep
connect_timeout = 3s')
CHILD_PROXIED=$(write_conf childp <<EOF
[dialer p]
type = socks5
server = $B4_SRV:1080
remote_dns = true
handshake = lockstep

[app go]
match = supervise_go
dialer = direct

[app bb]
match = busybox
dialer = p
EOF
)
CHILD_DIRECT=$(write_conf childd <<EOF
[dialer p]
type = socks5
server = $B4_SRV:1080
remote_dns = true
handshake = lockstep

[app go]
match = supervise_go
dialer = p

[app bb]
match = busybox
dialer = direct
EOF
)
client_queries() { dns_queries | grep -E "from ($A4_CLI|$B4_CLI|$A6_CLI|$B6_CLI)\$"; }

case_begin "lab: a bare Go client with use-vc resolves with dnsmasq and reaches the web server"
run_bare "$SUPGO" get http://v4.example:8080/
assert_eq "$OUT" "body=you are $A4_CLI" "bare page"
assert_match "$(client_queries)" "v4\.example from $A4_CLI" "the bare client's query"
: >"$DNS_LOG"

case_begin "Go over TCP DNS (use-vc) through SOCKS5 remote_dns: answered by the supervisor"
run_tool "$SOCKS" "$SUPGO" get http://v4.example:8080/
assert_eq "$RC" 0 "exit status"
assert_eq "$OUT" "body=you are $FAR4" "page"
assert_match "$(cat "$MS")" "connected to v4\.example:8080" "microsocks got the name"
assert_no_match "$(cat "$MS")" ":53\b" "microsocks: a connection to port 53"
assert_eq "$(client_queries)" "" "dnsmasq: queries from the client"
assert_match "$ERR" "supervised connect tcp $A4_SRV:53: DNS over TCP, to the supervisor's responder result=(ok|EINPROGRESS)" "decision log"
: >"$MS"
: >"$DNS_LOG"

case_begin "a child in a remote_dns [app] under a direct command: its DNS answered by its app"
run_tool "$CHILD_PROXIED" "$SUPGO" exec "$BUSYBOX" wget -q -O - http://v4.example:8080/
assert_eq "$OUT" "you are $FAR4" "busybox child's page"
assert_match "$(cat "$MS")" "connected to v4\.example:8080" "microsocks got the name"
assert_eq "$(client_queries)" "" "dnsmasq: queries from the client"
assert_match "$ERR" "supervised DNS v4\.example app=bb" "the lookup under the child's app"
: >"$MS"
: >"$DNS_LOG"

case_begin "a child in a direct [app] under a remote_dns command: real answers from dnsmasq"
run_tool "$CHILD_DIRECT" "$SUPGO" exec "$BUSYBOX" nslookup v4.example
assert_match "$OUT" "Address:? *(1: )?203\.0\.113\.2" "the real address"
assert_match "$(client_queries)" "v4\.example from $A4_CLI" "dnsmasq: the child's query"
assert_eq "$(count_lines "$MS" "connected")" 0 "microsocks: connections"

finish
