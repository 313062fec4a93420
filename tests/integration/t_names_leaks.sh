#!/bin/bash
# Name lookups that do not go through getaddrinfo send no DNS query under a proxy
# that resolves names (SOCKS5, remote_dns): res_query, __res_query, res_search,
# res_nquery, res_nsearch, res_querydomain, res_nquerydomain, res_send, res_nsend
# (python ctypes from the global scope, as a program linked with -lresolv), and
# getaddrinfo_a (GAI_WAIT and GAI_NOWAIT) get the fake addresses; other query types
# are NODATA; getnameinfo, gethostbyaddr and getent hosts on a real address get
# digits or no name, with no PTR query. A route that resolves for real
# (domain:*.direct.example, cidr:203.0.113.0/24 -> a direct dialer) still goes to
# the system resolver: dnsmasq logs those queries, which shows that the log
# catches what leaves. The client namespace's resolv.conf names dnsmasq here.
# Verified to fail on the code before the fix: every res_* call and getaddrinfo_a
# went to dnsmasq (query[A] www.example from 192.0.2.1, answered 203.0.113.2), the
# reverse lookups sent query[PTR] 7.100.51.198.in-addr.arpa, and explain said
# nothing about them.
. "$(dirname "$0")/lib.sh"
. "$IT_DIR/proxy_lib.sh"
. "$IT_DIR/names_lib.sh"
names_lab_up
shim_present
dns_start --address=/www.direct.example/203.0.113.2
printf 'nameserver %s\noptions timeout:1 attempts:1\n' "$A4_SRV" >"$NETNS_ETC/resolv.conf"
start_fake px socks5 $B4_SRV:1080
LEAK=$IT_DIR/leak_client.py
PXLOG=$T/px.log
FAKE4='198\.1[89]\.[0-9]+\.[0-9]+'
FAKE6='fc00:[0-9a-f:]+'

CFG=$(write_conf leaks <<EOF
[dialer p]
type = socks5
server = $B4_SRV:1080
remote_dns = true

[dialer d]
type = direct

[app all]
match = *
dialer = p
route = domain:*.direct.example -> d
route = cidr:203.0.113.0/24 -> d
EOF
)

# step OUT STEP: the result line of STEP in the client's output.
step() { printf '%s\n' "$1" | grep -F -- "$2 " | head -n 1 | cut -d' ' -f2-; }
# no_queries WHAT: dnsmasq logged nothing (after a short settle for its log).
no_queries() {
    sleep 0.2
    assert_eq "$(dns_queries | tr '\n' '|')" "" "$1: DNS queries seen by dnsmasq"
}

case_begin "res_query, __res_query, res_search (A): fake addresses in a DNS answer, no query"
: >"$DNS_LOG"
run_shim "$CFG" $PY $LEAK resq:res_query:www.example:A resq:__res_query:www.example:A \
    resq:res_search:www.example:A resq:__res_search:www.example:A
for fn in res_query __res_query res_search __res_search; do
    assert_match "$(step "$OUT" resq:$fn:www.example:A)" \
        "^rc=[0-9]+ id=[0-9]+ qr=1 rcode=0 qname=www\.example an=1 addrs=$FAKE4$" "$fn"
done
assert_match "$ERR" "res_query www\.example A: answered here, 1 address\(es\), no query" "log line"
no_queries "res_query"

case_begin "res_nquery, res_nsearch, res_querydomain, res_nquerydomain (AAAA): fake IPv6, no query"
: >"$DNS_LOG"
run_shim "$CFG" $PY $LEAK resq:res_nquery:www.example:AAAA resq:res_nsearch:www.example:AAAA \
    resq:res_querydomain:www.example:AAAA resq:res_nquerydomain:www.example:AAAA
for fn in res_nquery res_nsearch res_querydomain res_nquerydomain; do
    assert_match "$(step "$OUT" resq:$fn:www.example:AAAA)" \
        "^rc=[0-9]+ id=[0-9]+ qr=1 rcode=0 qname=www\.example an=1 addrs=$FAKE6$" "$fn"
done
no_queries "res_nquery"

case_begin "res_query MX: NODATA (-1, h_errno NO_DATA), no query"
: >"$DNS_LOG"
run_shim "$CFG" $PY $LEAK resq:res_query:www.example:MX resq:res_nquery:www.example:MX
assert_eq "$(step "$OUT" resq:res_query:www.example:MX)" "rc=-1 h_errno=4" "res_query MX"
assert_eq "$(step "$OUT" resq:res_nquery:www.example:MX)" "rc=-1 h_errno=4" "res_nquery MX"
assert_match "$ERR" "res_query www\.example type 15: NODATA" "log line"
no_queries "res_query MX"

case_begin "res_send, res_nsend: the answer echoes the query's id and question, no query"
: >"$DNS_LOG"
run_shim "$CFG" $PY $LEAK ressend:res_send:www.example:A ressend:res_nsend:www.example:AAAA
for s in res_send:www.example:A res_nsend:www.example:AAAA; do
    line=$(step "$OUT" ressend:$s)
    qid=$(printf '%s' "$line" | sed -n 's/.*qid=\([0-9]*\).*/\1/p')
    assert_match "$line" "^rc=[0-9]+ qid=[0-9]+ id=$qid qr=1 rcode=0 qname=www\.example an=1 addrs=($FAKE4|$FAKE6)$" "$s"
done
no_queries "res_send"

case_begin "getaddrinfo_a (GAI_WAIT, GAI_NOWAIT): fake addresses, no query"
: >"$DNS_LOG"
run_shim "$CFG" $PY $LEAK gaia:wait:www.example gaia:nowait:a.www.example
assert_match "$(step "$OUT" gaia:wait:www.example)" "^rc=0 addrs=$FAKE4$" "GAI_WAIT"
assert_match "$(step "$OUT" gaia:nowait:a.www.example)" "^rc=0 addrs=$FAKE4$" "GAI_NOWAIT"
no_queries "getaddrinfo_a"

case_begin "a fake address from res_query reaches its name through the proxy"
: >"$DNS_LOG"
: >"$PXLOG"
run_shim "$CFG" $PY -c '
import ctypes, socket, sys
sys.path.insert(0, "'"$IT_DIR"'")
import leak_client as L
line = L.resq("res_query", "b.www.example", "A")
addr = line.split("addrs=")[1]
s = socket.create_connection((addr, 22), timeout=5)
print("reply=" + s.makefile().readline().strip())'
assert_eq "$(kv "$OUT" reply)" "SSH-2.0-test" "reply through the proxy"
assert_eq "$(count_lines "$PXLOG" '^REQ b\.www\.example 22 ')" 1 "the proxy got the name"
no_queries "connect"

case_begin "reverse lookups of a real address under the proxy: digits or no name, no PTR query"
: >"$DNS_LOG"
run_shim "$CFG" $PY $LEAK ni:198.51.100.7 nireq:198.51.100.7 byaddr:198.51.100.7 ni:2001:db8:b::7
assert_eq "$(step "$OUT" ni:198.51.100.7)" "rc=0 host=198.51.100.7" "getnameinfo"
assert_eq "$(step "$OUT" nireq:198.51.100.7)" "rc=$(python3 -c 'import socket; print(socket.EAI_NONAME)')" \
    "getnameinfo NI_NAMEREQD"
assert_eq "$(step "$OUT" byaddr:198.51.100.7)" "rc=herror1" "gethostbyaddr: HOST_NOT_FOUND"
assert_eq "$(step "$OUT" ni:2001:db8:b::7)" "rc=0 host=2001:db8:b::7" "getnameinfo IPv6"
assert_match "$ERR" "getnameinfo 198\.51\.100\.7: no PTR query" "log line"
out=$(shim "$CFG" getent hosts 198.51.100.7)
assert_eq "$?" 2 "getent hosts exit status ($out)"
no_queries "reverse"

case_begin "routes that resolve for real still use the system resolver (dnsmasq sees them)"
: >"$DNS_LOG"
run_shim "$CFG" $PY $LEAK resq:res_query:www.direct.example:A ni:203.0.113.2
assert_match "$(step "$OUT" resq:res_query:www.direct.example:A)" "addrs=203\.0\.113\.2$" "res_query"
sleep 0.2
assert_match "$(dns_queries)" "query\[A\] www\.direct\.example from $A4_CLI" "A query passed"
assert_match "$(dns_queries)" "query\[PTR\] 2\.113\.0\.203\.in-addr\.arpa from $A4_CLI" "PTR query passed"

case_begin "dialshim explain says what res_* and reverse lookups do"
out=$(in_cli "$DIALSHIM" explain -c "$CFG" tcp www.example 443)
assert_match "$out" "res_query/res_search/res_send: A and AAAA answered here with the fake addresses.*no query leaves" "name under the proxy"
out=$(in_cli "$DIALSHIM" explain -c "$CFG" tcp www.direct.example 443)
assert_match "$out" "res_query/res_search/res_send, getaddrinfo_a: the system resolver" "name routed direct"
out=$(in_cli "$DIALSHIM" explain -c "$CFG" tcp 198.51.100.7 443)
assert_match "$out" "reverse lookups \(getnameinfo, gethostbyaddr\): no PTR query" "address under the proxy"

finish
