#!/bin/bash
# Where the shim's DNS queries go and what failures look like: the resolver's
# `detour` gives its queries that dialer's interface or mark (dnsmasq logs the
# source: link B's 198.51.100.1 instead of link A's 192.0.2.1); a dead server is
# EAI_AGAIN within the configured timeout; a `block` route is EAI_FAIL with no
# query; a broken file with fail_closed is EAI_SYSTEM/EACCES.
# Verified to fail without the shim (SHIM=/nonexistent): the client namespace's
# resolv.conf names a dead server, so bare lookups time out (EAI_AGAIN after 2 s)
# and dnsmasq never sees a query.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/names_lib.sh"
names_lab_up
shim_present
dns_start

conf_detour() { # NAME SERVER DETOUR-LINE
    write_conf "$1" <<EOF
[dialer viab]
type = direct
bind_interface = vb

[dialer markb]
type = direct
routing_mark = 0x64

[resolver lab]
servers = $2
timeout = 1s
attempts = 2
cache = false
$3

[dialer main]
type = direct
domain_resolver = lab

[app all]
match = *
dialer = main
route = domain:*.blocked.example -> block
EOF
}
# 203.0.113.2 ("far") is routed by link A, and by link B for link B's interface or
# the mark: only a far server shows the detour (192.0.2.2 is on link A itself).
PLAIN=$(conf_detour plain 203.0.113.2 "")
VIAB=$(conf_detour viab 203.0.113.2 "detour = viab")
MARKB=$(conf_detour markb 203.0.113.2 "detour = markb")
DEAD=$(write_conf dead <<EOF
[resolver dead]
servers = $DEAD_DNS
timeout = 500ms
attempts = 1

[dialer main]
domain_resolver = dead

[app all]
match = *
dialer = main
EOF
)
BROKEN=$(write_conf broken <<'EOF'
[global]
on_config_error = fail_closed

[resolver lab]
servers = not-an-address
EOF
)

case_begin "no detour: the query to 203.0.113.2 leaves by link A (source 192.0.2.1)"
: >"$DNS_LOG"
out=$(names "$PLAIN" gai a.www.example 80 4)
assert_eq "$(kv "$out" addrs)" "$FAR4" "addresses ($out)"
assert_match "$(dns_queries)" "query\[A\] a\.www\.example from $A4_CLI" "dnsmasq saw link A"

case_begin "detour = viab (bind_interface vb): the query leaves by link B (198.51.100.1)"
: >"$DNS_LOG"
out=$(names "$VIAB" gai b.www.example 80)
assert_eq "$(kv "$out" addrs)" "$FAR4,$FAR6" "addresses ($out)"
assert_match "$(dns_queries)" "query\[A\] b\.www\.example from $B4_CLI" "A query by link B"
assert_match "$(dns_queries)" "query\[AAAA\] b\.www\.example from $B4_CLI" "AAAA query by link B"
assert_no_match "$(dns_queries)" "from $A4_CLI" "nothing by link A"

case_begin "detour = markb (routing_mark 0x64): the query leaves by link B"
: >"$DNS_LOG"
out=$(shim "$MARKB" getent ahostsv4 m.www.example)
assert_eq "$?" 0 "getent exit status ($out)"
assert_match "$(dns_queries)" "query\[A\] m\.www\.example from $B4_CLI" "A query by link B"
assert_no_match "$(dns_queries)" "from $A4_CLI" "nothing by link A"

case_begin "dead server: EAI_AGAIN (-3) within timeout 500ms x 1 attempt"
out=$(shim "$DEAD" env DIALSHIM_LOG=info "$PY" "$NAMES_CLIENT" gai www.example 80 2>&1)
assert_eq "$(kv "$out" rc)" -3 "gaierror code ($out)"
assert_le "$(kv "$out" elapsed_ms)" 1500 "elapsed ms"
assert_ge "$(kv "$out" elapsed_ms)" 400 "elapsed ms (the timeout was waited for)"
assert_match "$out" "getaddrinfo www\.example .*resolver=dead mode=real .*result=EAI_AGAIN" "log line"
# python's gethostbyname_ex asks getaddrinfo first (h_errno is the unit tests')
out=$(names "$DEAD" ex www.example)
assert_eq "$(kv "$out" rc)" -3 "gethostbyname_ex ($out)"

case_begin "route to block: EAI_FAIL (-4), and no query is sent"
: >"$DNS_LOG"
out=$(names "$PLAIN" gai x.blocked.example 80)
assert_eq "$(kv "$out" rc)" -4 "gaierror code ($out)"
assert_le "$(kv "$out" elapsed_ms)" 500 "elapsed ms"
assert_eq "$(dns_queries | grep -c blocked)" 0 "queries for the blocked name"
out=$(shim "$PLAIN" getent hosts x.blocked.example)
assert_eq "$?" 2 "getent hosts (gethostbyname2) exit status ($out)"
assert_eq "$(dns_queries | grep -c blocked)" 0 "queries for the blocked name (gethostbyname2)"

case_begin "broken file, fail_closed: getaddrinfo fails with EAI_SYSTEM / EACCES at once"
out=$(names "$BROKEN" gai www.example 80 2>/dev/null)
assert_eq "$(kv "$out" rc)" system "result ($out)"
assert_eq "$(kv "$out" errno)" EACCES "errno"

finish
