#!/bin/bash
# Name lookups in mode real: getaddrinfo (getent, python, curl) and gethostbyname_r
# resolve through the configured [resolver] (dnsmasq in the server namespace), each
# strategy filters and orders, unknown names are EAI_NONAME, 32 threads at once.
# The client namespace's own resolv.conf names a dead server, so every case fails
# without the shim (SHIM=/nonexistent): getent exits 2, python gets EAI_AGAIN (-3),
# curl cannot resolve; the lab guard case is the only one that passes bare.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/names_lib.sh"
names_lab_up
shim_present
dns_start
srv_start far --http $FAR4:8080 "[$FAR6]:8080"
LOG=$T/far.log

conf_with() { # NAME STRATEGY
    write_conf "$1" <<EOF
[resolver lab]
servers = 192.0.2.2
strategy = $2
timeout = 1s
attempts = 2

[dialer main]
type = direct
domain_resolver = lab

[app all]
match = *
dialer = main
EOF
}
CFG=$(conf_with asis as_is)
V4=$(conf_with v4 ipv4_only)
V6=$(conf_with v6 ipv6_only)
P6=$(conf_with p6 prefer_ipv6)
P4=$(conf_with p4 prefer_ipv4)

# getent_addrs OUTPUT: the distinct addresses of `getent ahosts*`, in order.
getent_addrs() { printf '%s\n' "$1" | awk '!seen[$1]++ { printf "%s%s", sep, $1; sep = "," }'; }

case_begin "lab guard: without the shim nothing resolves www.example (passes bare)"
out=$(bare getent ahosts www.example)
assert_eq "$?" 2 "bare getent exit status ($out)"
assert_eq "$(dns_queries | wc -l)" 0 "dnsmasq saw a query from the bare run"

case_begin "getent ahosts: through [resolver lab], A then AAAA (as_is), socket types as glibc"
out=$(shim "$CFG" getent ahosts www.example)
assert_eq "$?" 0 "getent exit status ($out)"
assert_eq "$(getent_addrs "$out")" "$FAR4,$FAR6" "addresses"
assert_match "$out" "^$FAR4 +STREAM www\.example$" "first line: canonical name (AI_CANONNAME)"
assert_eq "$(printf '%s\n' "$out" | awk '{print $2}' | tr '\n' ' ')" \
    "STREAM DGRAM RAW STREAM DGRAM RAW " "socket types per address"
assert_match "$(dns_queries)" "query\[A\] www\.example from $A4_CLI" "dnsmasq got the A query"
assert_match "$(dns_queries)" "query\[AAAA\] www\.example from $A4_CLI" "dnsmasq got the AAAA query"

case_begin "python socket.getaddrinfo resolves through the shim (IPv4, IPv6, both)"
out=$(names "$CFG" gai www.example 80)
assert_eq "$?" 0 "client exit status ($out)"
assert_eq "$(kv "$out" addrs)" "$FAR4,$FAR6" "AF_UNSPEC"
out=$(names "$CFG" gai www.example 80 4)
assert_eq "$(kv "$out" addrs)" "$FAR4" "AF_INET"
out=$(names "$CFG" gai www.example 80 6)
assert_eq "$(kv "$out" addrs)" "$FAR6" "AF_INET6"

case_begin "curl http://www.example:8080/ resolves through the shim and connects"
out=$(shim "$CFG" curl -sS --max-time 5 http://www.example:8080/ 2>&1)
assert_eq "$?" 0 "curl exit status ($out)"
assert_match "$out" "you are $A4_CLI" "page body"
assert_saw "$LOG" $A4_CLI "HTTP server"
out=$(shim "$CFG" curl -sS -6 --max-time 5 http://www.example:8080/ 2>&1)
assert_eq "$?" 0 "curl -6 exit status ($out)"
assert_saw "$LOG" $A6_CLI "HTTP server (curl -6)"

case_begin "gethostbyname_r (python gethostbyname_ex) resolves through the shim"
out=$(names "$CFG" ex www.example)
assert_eq "$?" 0 "client exit status ($out)"
assert_eq "$(kv "$out" name)" www.example "h_name"
assert_eq "$(kv "$out" addrs)" "$FAR4" "h_addr_list"

case_begin "gethostbyname2 (getent hosts asks AF_INET6 first) resolves through the shim"
out=$(shim "$CFG" getent hosts www.example)
assert_eq "$?" 0 "getent exit status ($out)"
assert_match "$out" "^$FAR6 +www\.example$" "IPv6 answer"
out=$(shim "$V4" getent hosts v4.www.example)
assert_eq "$?" 0 "ipv4_only: getent exit status ($out)"
assert_match "$out" "^$FAR4 +v4\.www\.example$" "ipv4_only: AF_INET6 finds nothing, AF_INET answers"

case_begin "strategy ipv4_only: only A is asked for and returned"
: >"$DNS_LOG"
out=$(shim "$V4" getent ahosts v4.www.example)
assert_eq "$?" 0 "getent exit status ($out)"
assert_eq "$(getent_addrs "$out")" "$FAR4" "addresses"
assert_match "$(dns_queries)" "query\[A\] v4\.www\.example" "the A query"
assert_no_match "$(dns_queries)" "query\[AAAA\] v4\.www\.example" "no AAAA query"
out=$(names "$V4" gai v4.www.example 80 6)
assert_eq "$(kv "$out" rc)" -2 "AF_INET6 under ipv4_only: EAI_NONAME"

case_begin "strategy ipv6_only: only AAAA is asked for and returned"
: >"$DNS_LOG"
out=$(shim "$V6" getent ahosts v6.www.example)
assert_eq "$?" 0 "getent exit status ($out)"
assert_eq "$(getent_addrs "$out")" "$FAR6" "addresses"
assert_match "$(dns_queries)" "query\[AAAA\] v6\.www\.example" "the AAAA query"
assert_no_match "$(dns_queries)" "query\[A\] v6\.www\.example" "no A query"
out=$(shim "$V6" curl -sS --max-time 5 http://www.example:8080/ 2>&1)
assert_eq "$?" 0 "curl exit status ($out)"
assert_saw "$LOG" $A6_CLI "curl went by IPv6"

case_begin "strategy prefer_ipv6 / prefer_ipv4: the order getent ahosts shows"
out=$(shim "$P6" getent ahosts p6.www.example)
assert_eq "$(getent_addrs "$out")" "$FAR6,$FAR4" "prefer_ipv6"
out=$(shim "$P4" getent ahosts p4.www.example)
assert_eq "$(getent_addrs "$out")" "$FAR4,$FAR6" "prefer_ipv4"

case_begin "unknown name: EAI_NONAME (-2) at once, not a timeout"
out=$(names "$CFG" gai nosuch.example 80)
assert_eq "$(kv "$out" rc)" -2 "gaierror code ($out)"
assert_le "$(kv "$out" elapsed_ms)" 1500 "elapsed ms"
assert_match "$(dns_queries)" "query\[A\] nosuch\.example from $A4_CLI" "dnsmasq was asked"

case_begin "32 threads resolve at once, all succeed"
out=$(names "$CFG" threads 32 't%d.www.example')
assert_eq "$?" 0 "client exit status ($out)"
assert_eq "$(kv "$out" ok)" 32 "threads that resolved"
assert_eq "$(kv "$out" sample)" "$FAR4,$FAR6" "addresses of thread 0"

case_begin "one info line per lookup: app, rule, dialer, resolver, mode, result"
out=$(shim "$CFG" env DIALSHIM_LOG=info "$PY" "$NAMES_CLIENT" gai www.example 80 2>&1)
assert_match "$out" "dialshim: python3\[[0-9]+\] getaddrinfo www\.example app=all rule=default dialer=main resolver=lab mode=real strategy=as_is result=ok $FAR4,$FAR6 from dns [0-9.]+ms" "log line"
assert_eq "$(printf '%s\n' "$out" | grep -c 'getaddrinfo www\.example')" 1 "lines for one lookup"

finish
