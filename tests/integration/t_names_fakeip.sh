#!/bin/bash
# The fake-address table fails closed. With a SOCKS5 proxy that resolves names
# (remote_dns) and fake_ip_range = 198.18.0.0/30 (two usable addresses):
#   - the whole range is used (.1 and .2), a third name within the quarantine is
#     EAI_AGAIN with a log line, and no name loses its address: a program that kept
#     the first address still reaches the first name through the proxy;
#   - a table that cannot be allocated (a real RLIMIT_AS on getent, prlimit) is
#     EAI_MEMORY with a log line, never a lookup of the name here.
# Every case checks the far side: dnsmasq (which the client namespace's own
# resolv.conf names here, so a lookup that escaped to the system resolver or to
# the shim's resolver would show) logs no query, and the proxy is asked only for
# the names it should be.
# Verified to fail on the code before the fix: the third name took 198.18.0.1 (the
# oldest slot), so the kept address reached c.www.example through the proxy; with
# the address-space limit the table's allocation failed at start-up and the name
# was resolved by [resolver lab] (dnsmasq logged query[A] from 192.0.2.1).
. "$(dirname "$0")/lib.sh"
. "$IT_DIR/proxy_lib.sh"
. "$IT_DIR/names_lib.sh"
names_lab_up
shim_present
dns_start
# a lookup that escapes to the system resolver reaches dnsmasq and shows in its log
printf 'nameserver %s\noptions timeout:1 attempts:1\n' "$A4_SRV" >"$NETNS_ETC/resolv.conf"
start_fake px socks5 $B4_SRV:1080
LEAK=$IT_DIR/leak_client.py
PXLOG=$T/px.log

CFG=$(write_conf tiny <<EOF
[global]
fake_ip_range = 198.18.0.0/30
fake_ip6_range = fc00::/126

[resolver lab]
servers = $A4_SRV
timeout = 1s

[dialer p]
type = socks5
server = $B4_SRV:1080
remote_dns = true
domain_resolver = lab

[app all]
match = *
dialer = p
EOF
)

# step OUT STEP: the result line of STEP in the client's output.
step() { printf '%s\n' "$1" | grep -F -- "$2 " | head -n 1 | cut -d' ' -f2-; }

case_begin "a /30 range: both addresses handed out, the third name is EAI_AGAIN and logged"
: >"$DNS_LOG"
: >"$PXLOG"
run_shim "$CFG" $PY $LEAK gai:a.www.example gai:b.www.example gai:c.www.example conn:a.www.example \
    conn:b.www.example
assert_eq "$RC" 0 "client exit status"
assert_eq "$(step "$OUT" gai:a.www.example)" "rc=0 addrs=198.18.0.1" "first name"
assert_eq "$(step "$OUT" gai:b.www.example)" "rc=0 addrs=198.18.0.2" "second name: the range is used up"
assert_eq "$(step "$OUT" gai:c.www.example)" "rc=$(python3 -c 'import socket; print(socket.EAI_AGAIN)')" \
    "third name: EAI_AGAIN"
assert_match "$ERR" "fake ip: all 2 IPv4 addresses .* c\.www\.example refused \(EAI_AGAIN\)" "log line"
assert_match "$(step "$OUT" conn:a.www.example)" "addr=198\.18\.0\.1 reply=SSH-2\.0-test" "kept address of a"
assert_match "$(step "$OUT" conn:b.www.example)" "addr=198\.18\.0\.2 reply=SSH-2\.0-test" "kept address of b"
assert_eq "$(count_lines "$PXLOG" '^REQ a\.www\.example 22 ')" 1 "proxy asked for a once"
assert_eq "$(count_lines "$PXLOG" '^REQ b\.www\.example 22 ')" 1 "proxy asked for b once"
assert_eq "$(count_lines "$PXLOG" '^REQ ')" 2 "proxy asked for nothing else (c never)"
assert_eq "$(dns_queries | wc -l)" 0 "DNS queries (dnsmasq)"

case_begin "a connected socket keeps its address: held open, the name is answered again"
: >"$DNS_LOG"
: >"$PXLOG"
run_shim "$CFG" $PY $LEAK gai:a.www.example hold:a.www.example gai:b.www.example \
    gai:c.www.example gai:a.www.example conn:a.www.example
assert_eq "$(step "$OUT" hold:a.www.example)" "rc=0 addr=198.18.0.1 reply=SSH-2.0-test" "held"
assert_match "$(step "$OUT" gai:c.www.example)" "^rc=-3$" "third name refused"
assert_eq "$(step "$OUT" conn:a.www.example)" "rc=0 addr=198.18.0.1 reply=SSH-2.0-test" "again"
assert_eq "$(count_lines "$PXLOG" '^REQ c\.')" 0 "proxy never asked for c"
assert_eq "$(dns_queries | wc -l)" 0 "DNS queries (dnsmasq)"

case_begin "no memory for the table (RLIMIT_AS): EAI_MEMORY and a log line, no lookup"
: >"$DNS_LOG"
: >"$PXLOG"
# the default /15 needs 3.5 MiB for its table (before the fix: 1.25 MiB)
DFLT=$(write_conf dflt <<EOF
[resolver lab]
servers = $A4_SRV
timeout = 1s

[dialer p]
type = socks5
server = $B4_SRV:1080
remote_dns = true
domain_resolver = lab

[app all]
match = *
dialer = p
EOF
)
# The smallest address space (64 KiB steps, a bounded bisection) in which the
# client gets as far as its lookup (the shim logs it, whatever the result): then
# no room is left for a 1 MiB table, whenever the shim tries to allocate it.
lo=4096 hi=262144
while [ $((hi - lo)) -gt 64 ]; do
    mid=$(((lo + hi) / 2))
    run_shim "$DFLT" prlimit --as=$((mid * 1024)) getent ahostsv4 a.www.example
    if printf '%s\n' "$ERR" | grep -q 'getaddrinfo a\.www\.example '; then hi=$mid; else lo=$mid; fi
done
note "smallest address space for the client: $hi KiB"
: >"$DNS_LOG"
: >"$PXLOG"
run_shim "$DFLT" prlimit --as=$((hi * 1024)) getent ahostsv4 a.www.example
assert_eq "$RC" 2 "getent exit status (not found)"
assert_eq "$OUT" "" "getent output"
assert_match "$ERR" "fake ip: cannot allocate the IPv4 table" "log line"
assert_match "$ERR" "getaddrinfo a\.www\.example .*result=EAI_MEMORY" "lookup log line"
assert_eq "$(count_lines "$PXLOG" '^REQ ')" 0 "proxy asked for nothing"
sleep 0.3
assert_eq "$(dns_queries | wc -l)" 0 "DNS queries (dnsmasq)"

finish
