#!/bin/bash
# DNS on the wire answered, not forwarded: under a SOCKS5 dialer with remote_dns
# (fake_ip), the datagrams a program sends to port 53 itself (dig, a python
# resolver over sendto or a connected socket, libresolv's res_query) are answered
# by the shim with fake addresses: dnsmasq (the lab's only DNS server, on
# 192.0.2.2) logs no query, dante no UDP association, the answer appears to come
# from the server asked, and a connect to the fake address goes to dante by name.
# DNS over TCP to port 53 (dig +tcp, python blocking and non-blocking) is answered
# the same way: no connection leaves (a TCP listener standing in for a server on
# port 53 gets none). dns_hijack = false puts the old path back (the datagram
# rides a UDP association, the TCP query goes through dante).
# Verified to fail on the code before the responder: dig and the python client got
# dnsmasq's real answer through dante's UDP relay.
. "$(dirname "$0")/lib.sh"
. "$IT_DIR/proxy_lib.sh"
. "$IT_DIR/names_lib.sh"
names_lab_up
shim_present
NETNS_SRV_ETC=/etc/netns/$SRV
wire_down() {
    local rc=$?
    rm -rf "$NETNS_SRV_ETC"
    (exit "$rc")
    names_down
}
trap wire_down EXIT
for _i in 1 2 3 4 5; do
    mkdir -p "$NETNS_SRV_ETC" 2>/dev/null &&
        printf '127.0.0.1 localhost\n203.0.113.2 far.example\n' >"$NETNS_SRV_ETC/hosts" 2>/dev/null &&
        break
    sleep 0.1
done
dns_start
srv_start far $FAR4:8081
start_dante dante 1081 none $FAR4
LOG=$T/far.log DL=$T/dante.log
WC=$IT_DIR/dnswire_client.py
FAKE4='198\.1[89]\.[0-9]+\.[0-9]+'
FAKE6='fc00:[0-9a-f:]+'
NS=192.0.2.2

RDNS=$(proxy_conf rdns socks5 $B4_SRV:1081 <<<'remote_dns = true')
OFF=$(write_conf off <<EOF
[global]
dns_hijack = false

[dialer p]
type = socks5
server = $B4_SRV:1081
remote_dns = true

[app all]
match = *
dialer = p
EOF
)
no_leak() { # WHAT: nothing reached dnsmasq or dante's UDP relay (clears both logs)
    assert_eq "$(dns_queries | wc -l)" 0 "$1: queries dnsmasq saw"
    assert_eq "$(grep -c udpassociate "$DL")" 0 "$1: UDP associations dante saw"
    : >"$DNS_LOG"
    : >"$DL"
}

case_begin "lab: a bare dig asks dnsmasq and gets the real address"
out=$(bare dig +short +tries=1 +timeout=2 @$NS www.example)
assert_eq "$out" "$FAR4" "bare dig"
assert_match "$(dns_queries)" "query\[A\] www\.example from $A4_CLI" "dnsmasq's log"
: >"$DNS_LOG"

case_begin "dig @dnsmasq under the shim: a fake address, nothing leaves"
: >"$DL"
out=$(shim "$RDNS" dig +tries=1 +timeout=2 @$NS www.example)
assert_eq "$?" 0 "dig exit status"
assert_match "$out" "status: NOERROR" "dig status"
assert_match "$out" "www\.example\.[[:space:]]+1[[:space:]]+IN[[:space:]]+A[[:space:]]+$FAKE4" "dig answer"
assert_match "$out" "SERVER: $NS#53" "dig's server"
out=$(shim "$RDNS" dig +short +tries=1 +timeout=2 @$NS www.example AAAA)
assert_match "$out" "^$FAKE6$" "dig AAAA"
out=$(shim "$RDNS" dig +tries=1 +timeout=2 @$NS www.example TXT)
assert_match "$out" "status: NOERROR.*" "dig TXT status"
assert_match "$out" "ANSWER: 0" "dig TXT: no answer"
no_leak "dig"

case_begin "python sendto/recvfrom: fake A and AAAA, the answer from the server asked, HTTPS empty"
out=$(shim "$RDNS" "$PY" "$WC" query sendto $NS www.example A)
assert_eq "$?" 0 "exit status ($out)"
assert_match "$(kv "$out" answers)" "^$FAKE4$" "A"
assert_eq "$(kv "$out" from)" "$NS:53" "source of the answer"
assert_eq "$(kv "$out" id_ok)" 1 "query id echoed"
out=$(shim "$RDNS" "$PY" "$WC" query sendto $NS www.example AAAA)
assert_match "$(kv "$out" answers)" "^$FAKE6$" "AAAA"
out=$(shim "$RDNS" "$PY" "$WC" query sendto $NS www.example HTTPS)
assert_eq "$(kv "$out" rcode)" 0 "HTTPS rcode"
assert_eq "$(kv "$out" answers)" "" "HTTPS answers"
no_leak "python sendto"

case_begin "python connected socket: getpeername is the server; the fake address connects through dante by name"
: >"$LOG"
out=$(shim "$RDNS" "$PY" "$WC" query connect $NS far.example A)
assert_eq "$?" 0 "exit status ($out)"
assert_eq "$(kv "$out" peer)" "$NS:53" "getpeername"
assert_eq "$(kv "$out" from)" "$NS:53" "source of the answer"
out=$(shim "$RDNS" "$PY" "$WC" fetch $NS far.example 8081)
assert_eq "$?" 0 "exit status ($out)"
assert_match "$(kv "$out" answers)" "^$FAKE4$" "A"
assert_eq "$(kv "$out" reply)" "you are $FAR4" "reply (dante's external address)"
assert_saw "$LOG" $FAR4 "far server"
assert_match "$(cat "$DL")" "tcp/connect .* -> .*$FAR4\.8081" "dante connected"
no_leak "python connected"

case_begin "PTR of a fake address on the wire gives the name"
# one process: the fake table is per process
out=$(shim "$RDNS" "$PY" -c "
import runpy, sys, ipaddress
wc = runpy.run_path('$WC')
a = wc['query']('sendto', '$NS', 'www.example', 'A')[0]
wc['query']('sendto', '$NS', ipaddress.ip_address(a).reverse_pointer, 'PTR')
")
assert_eq "$?" 0 "exit status ($out)"
assert_eq "$(printf '%s\n' "$out" | sed -n 's/^answers=//p' | tail -n 1)" "www.example" "PTR answer"
no_leak "PTR"

case_begin "res_query (libresolv, ctypes): a fake address, no query"
out=$(shim "$RDNS" "$PY" "$WC" resquery www.example)
assert_match "$(kv "$out" answers)" "^$FAKE4$" "res_query answer"
no_leak "res_query"

case_begin "DNS over TCP (dig +tcp, python blocking and non-blocking): fake answers, no connection leaves"
# A TCP listener on port 53 of another lab address logs every connection it gets.
srv_start tcp53 $B4_SRV:53
out=$(bare dig +tcp +short +tries=1 +timeout=2 @$B4_SRV www.example)
assert_eq "$(peers "$T/tcp53.log")" $B4_CLI "bare dig +tcp reaches the listener (lab sanity)"
: >"$T/tcp53.log"
: >"$DL"
out=$(shim "$RDNS" dig +tcp +tries=1 +timeout=2 @$NS www.example)
assert_eq "$?" 0 "dig +tcp exit status"
assert_match "$out" "status: NOERROR" "dig +tcp status"
assert_match "$out" "www\.example\.[[:space:]]+1[[:space:]]+IN[[:space:]]+A[[:space:]]+$FAKE4" "dig +tcp answer"
assert_match "$out" "SERVER: $NS#53\(.*\) \(TCP\)" "dig +tcp's server"
out=$(shim "$RDNS" dig +tcp +short +tries=1 +timeout=2 @$B4_SRV www.example AAAA)
assert_match "$out" "^$FAKE6$" "dig +tcp AAAA, asked of the listener"
assert_eq "$(peers "$T/tcp53.log" | wc -l)" 0 "the listener got no connection"
for how in block nonblock; do
    out=$(shim "$RDNS" "$PY" "$WC" tcp $NS www.example A $how)
    assert_eq "$?" 0 "python tcp $how: exit status ($out)"
    assert_match "$(kv "$out" answers)" "^$FAKE4$" "python tcp $how: A"
    assert_eq "$(kv "$out" rcode)" 0 "python tcp $how: rcode"
    assert_eq "$(kv "$out" peer)" "$NS:53" "python tcp $how: getpeername"
    assert_eq "$(kv "$out" id_ok)" 1 "python tcp $how: query id echoed"
done
assert_eq "$(kv "$out" connect)" EINPROGRESS "python tcp nonblock: connect"
out=$(shim "$RDNS" "$PY" "$WC" tcp $B4_SRV www.example AAAA nonblock)
assert_match "$(kv "$out" answers)" "^$FAKE6$" "python tcp nonblock, asked of the listener: AAAA"
assert_eq "$(peers "$T/tcp53.log" | wc -l)" 0 "the listener got no connection"
assert_eq "$(grep -c "$B4_CLI\." "$DL")" 0 "dante got no connection"
no_leak "dns over tcp"

case_begin "explain udp|tcp HOST 53: answered by the shim, or (dns_hijack = false) a datagram / the chain"
out=$("$DIALSHIM" explain -c "$RDNS" udp $NS 53 2>&1)
assert_match "$out" "dns: queries a program sends to port 53 itself are answered by the shim" "explain"
out=$("$DIALSHIM" explain -c "$OFF" udp $NS 53 2>&1)
assert_match "$out" "dns: dns_hijack = false" "explain, off"
out=$("$DIALSHIM" explain -c "$RDNS" tcp $NS 53 2>&1)
assert_match "$out" "dns: a connect to port 53 \(DNS over TCP\) is answered by the shim" "explain tcp"
out=$("$DIALSHIM" explain -c "$OFF" tcp $NS 53 2>&1)
assert_match "$out" "dns: dns_hijack = false: a connect to port 53 goes by the chain above" "explain tcp, off"

case_begin "dns_hijack = false: the query rides dante's UDP relay to dnsmasq, as before"
: >"$DL"
out=$(shim "$OFF" dig +short +tries=1 +timeout=2 @$NS www.example)
assert_eq "$out" "$FAR4" "dig's real answer"
assert_match "$(dns_queries)" "query\[A\] www\.example from $FAR4" "dnsmasq saw dante's query"
assert_match "$(cat "$DL")" "udpassociate" "dante's UDP association"
: >"$DNS_LOG"
out=$(shim "$OFF" dig +tcp +short +tries=1 +timeout=2 @$NS www.example)
assert_eq "$out" "$FAR4" "dig +tcp's real answer"
assert_match "$(dns_queries)" "query\[A\] www\.example from $FAR4" "dnsmasq saw dante's TCP query"
assert_match "$(cat "$DL")" "tcp/connect .* -> .*$NS\.53" "dante connected to dnsmasq"
: >"$DNS_LOG"

finish
