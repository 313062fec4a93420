#!/bin/bash
# mode = fake_ip: getaddrinfo hands out addresses from the fake ranges without a
# DNS query; getnameinfo/gethostbyaddr give the name back; a connect to the fake
# address resolves the name with the dialer's resolver (dnsmasq) and reaches the
# real server. Verified to fail without the shim (SHIM=/nonexistent): the client
# namespace's resolv.conf names a dead server, so nothing resolves at all.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/names_lib.sh"
names_lab_up
shim_present
dns_start
srv_start far --http $FAR4:8080 "[$FAR6]:8080"
srv_start plain $FAR4:8081 "[$FAR6]:8081"
LOG=$T/far.log PLOG=$T/plain.log

CFG=$(write_conf fake <<'EOF'
[resolver fk]
servers = 192.0.2.2
mode = fake_ip
timeout = 1s

[dialer main]
type = direct
domain_resolver = fk

[app all]
match = *
dialer = main
EOF
)
FAKE4='198\.1[89]\.[0-9]+\.[0-9]+'
FAKE6='fc00:[0-9a-f:]+'

case_begin "getaddrinfo: one fake IPv4 and one fake IPv6 address, no DNS query"
: >"$DNS_LOG"
out=$(names "$CFG" gai www.example 8080)
assert_eq "$?" 0 "client exit status ($out)"
assert_match "$(kv "$out" addrs)" "^$FAKE4,$FAKE6$" "addresses"
assert_eq "$(dns_queries | wc -l)" 0 "DNS queries at lookup time"
out=$(shim "$CFG" getent ahosts www.example)
assert_eq "$?" 0 "getent exit status ($out)"
assert_match "$(printf '%s\n' "$out" | head -n 1)" "^$FAKE4 +STREAM www\.example$" "getent first line"

case_begin "getnameinfo(NI_NAMEREQD) and gethostbyaddr on the fake addresses give the name"
out=$(names "$CFG" rev www.example 8080)
assert_eq "$?" 0 "client exit status ($out)"
assert_eq "$(kv "$out" names)" "www.example,www.example" "getnameinfo"
assert_eq "$(kv "$out" byaddr)" "www.example,www.example" "gethostbyaddr"

case_begin "connect to the fake address: resolved by [resolver fk], the real server answers"
: >"$DNS_LOG"
out=$(names "$CFG" connect www.example 8081)
assert_eq "$?" 0 "client exit status ($out)"
assert_match "$(kv "$out" reply)" "you are $A4_CLI" "reply"
assert_saw "$PLOG" $A4_CLI "server"
assert_match "$(dns_queries)" "query\[A+\] www\.example from $A4_CLI" "resolved at connect"

case_begin "curl through a fake address"
out=$(shim "$CFG" curl -sS --max-time 5 http://www.example:8080/ 2>&1)
assert_eq "$?" 0 "curl exit status ($out)"
assert_match "$out" "you are $A4_CLI" "page body"
assert_saw "$LOG" $A4_CLI "HTTP server"

finish
