#!/bin/bash
# A dialer's names leave the way its connections do: the DNS queries its resolver
# sends for its names carry the dialer's own socket options (bind_interface,
# routing_mark), unless the resolver sets a detour, which then decides. dnsmasq
# listens on 203.0.113.2, which the client reaches over link A by default and
# over link B when bound to vb or marked 0x64; it logs each query's source.
# Verified to fail on main before the change: the queries of an app bound to vb
# came from 192.0.2.1 (link A).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/names_lib.sh"
names_lab_up
shim_present
dns_start

way_conf() { # NAME MODE DIALER-OPTION [resolver detour]
    write_conf "$1" <<EOF
[resolver r]
servers = 203.0.113.2
mode = $2
timeout = 1s
${4:+detour = $4}

[dialer a]
type = direct
bind_interface = va

[dialer main]
type = direct
$3
domain_resolver = r

[app all]
match = *
dialer = main
EOF
}
VB=$(way_conf vb real 'bind_interface = vb')
MARK=$(way_conf mark real 'routing_mark = 0x64')
FAKE=$(way_conf fake fake_ip 'bind_interface = vb')
OVER=$(way_conf over real 'bind_interface = vb' a)

case_begin "bind_interface = vb: getaddrinfo's queries leave over link B"
: >"$DNS_LOG"
out=$(names "$VB" gai www.example 8080)
assert_eq "$?" 0 "client exit status ($out)"
assert_match "$(dns_queries)" "from $B4_CLI" "dnsmasq saw link B's address"
assert_no_match "$(dns_queries)" "from $A4_CLI" "nothing over link A"

case_begin "routing_mark = 0x64: the queries take the marked route (link B)"
: >"$DNS_LOG"
out=$(names "$MARK" gai www.example 8080)
assert_eq "$?" 0 "client exit status ($out)"
assert_match "$(dns_queries)" "from $B4_CLI" "dnsmasq saw link B's address"
assert_no_match "$(dns_queries)" "from $A4_CLI" "nothing over link A"

case_begin "fake_ip: the name resolved at connect leaves over link B too, and so does the connect"
srv_start plain $FAR4:8081
: >"$DNS_LOG"
out=$(names "$FAKE" connect www.example 8081)
assert_eq "$?" 0 "client exit status ($out)"
assert_eq "$(kv "$out" reply)" "you are $B4_CLI" "the connection"
assert_match "$(dns_queries)" "query\[A+\] www\.example from $B4_CLI" "the query at connect"
assert_no_match "$(dns_queries)" "from $A4_CLI" "nothing over link A"

case_begin "a resolver detour decides: the queries leave over link A although the app is bound to vb"
: >"$DNS_LOG"
out=$(names "$OVER" gai www.example 8080)
assert_eq "$?" 0 "client exit status ($out)"
assert_match "$(dns_queries)" "from $A4_CLI" "dnsmasq saw link A's address"
assert_no_match "$(dns_queries)" "from $B4_CLI" "nothing over link B"

case_begin "explain shows the interface and mark the queries will use"
out=$(in_cli timeout 5 "$DIALSHIM" explain -c "$MARK" tcp www.example 8080 2>&1)
assert_match "$out" "DNS queries: the socket options of main \(the dialer's first hop\): interface none, mark 0x64" "mark"
out=$(in_cli timeout 5 "$DIALSHIM" explain -c "$OVER" tcp www.example 8080 2>&1)
assert_match "$out" "DNS queries: the socket options of a \(the resolver's detour\): interface va" "detour"

finish
