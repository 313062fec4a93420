#!/bin/bash
# The DNS leak guard: when the app's dialer is a SOCKS5 proxy with remote_dns and
# dns_hijack = false, a DNS query the program sends itself (dig, a python resolver)
# is a datagram to port 53 like any other: it travels by UDP ASSOCIATE, so dnsmasq's query log shows dante's
# address (203.0.113.2), never the client's; a `port:53 -> block` rule refuses it
# with EPERM and dnsmasq sees nothing; a name lookup through getaddrinfo sends no
# query at all (a fake address). `dialshim explain ... udp HOST 53` says which.
# dig (bind9 9.18) sends and receives through libuv, with syscall(SYS_sendmmsg /
# SYS_recvmmsg): the syscall hook is what makes it work.
# Verified to fail without the shim (SHIM=/nonexistent DIALSHIM=/nonexistent): dig
# and python query dnsmasq directly (it logs 192.0.2.1), the block rule blocks
# nothing, and explain does not run.
. "$(dirname "$0")/lib.sh"
. "$IT_DIR/proxy_lib.sh"
. "$IT_DIR/names_lib.sh"
names_lab_up
shim_present
dns_start
start_dante dante 1081 none $FAR4 $FAR6
DL=$T/dante.log
UDPC=$IT_DIR/udp_client.py

# dns_hijack = false: the shim's answering of port-53 queries (t_dns_wire.sh) is
# off, so the program's queries are datagrams like any other
RDNS=$(write_conf rdns <<EOF
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
GUARD=$(write_conf guard <<EOF
[dialer p]
type = socks5
server = $B4_SRV:1081
remote_dns = true

[app all]
match = *
dialer = p
route = port:53 -> block
EOF
)

# queries_from IP...: dnsmasq logged queries, all from one of the IPs (clears its log).
queries_from() {
    local got want
    got=$(dns_queries | sed 's/.* from //' | sort -u | tr '\n' ' ' | sed 's/ $//')
    want=$*
    [ "$got" = "$want" ] || fail "dnsmasq saw queries from '${got:-nobody}', expected '$want'"
    : >"$DNS_LOG"
}

case_begin "dig through the proxy: the answer comes back, dnsmasq sees dante, not the client"
run_bare dig +time=2 +tries=1 @$FAR4 www.example A
queries_from $A4_CLI
run_shim "$RDNS" dig +time=2 +tries=1 +short @$FAR4 www.example A
assert_eq "$RC" 0 "dig exit status"
assert_eq "$OUT" $FAR4 "dig's answer"
assert_match "$ERR" "udp association via p created" "the shim's log: an association"
queries_from $FAR4
assert_match "$(cat "$DL")" "udp/udpassociate .*$B4_CLI\.[0-9]+ .*$FAR4\.53 " "dante relayed the query"

case_begin "dig over IPv6 and to a server on link A: still only dante's address"
run_shim "$RDNS" dig +time=2 +tries=1 +short @$A4_SRV www.example AAAA
assert_eq "$RC" 0 "dig exit status"
assert_eq "$OUT" $FAR6 "dig's answer"
queries_from $FAR4

case_begin "a python resolver (sendto/recvfrom to port 53): answer and the server's real address"
run_shim "$RDNS" $PY $UDPC dns $FAR4 53 www.example
assert_eq "$RC" 0 "client exit status"
assert_eq "$(kv "$OUT" answer)" $FAR4 "the A record"
assert_eq "$(kv "$OUT" from)" "$FAR4 53" "the reply's source as the program sees it"
assert_match "$OUT" "id_ok=1" "the query id"
queries_from $FAR4

case_begin "getaddrinfo with remote_dns sends no query at all: the name gets a fake address"
run_shim "$RDNS" $PY -c 'import socket; print("addr=" + socket.getaddrinfo("www.example", 53, socket.AF_INET, socket.SOCK_DGRAM)[0][4][0])'
assert_eq "$RC" 0 "client exit status"
assert_match "$(kv "$OUT" addr)" '^198\.1[89]\.' "a fake address"
sleep 0.3
queries_from

case_begin "route port:53 -> block: dig and python get nothing out, dnsmasq sees nothing"
: >"$DL"
run_shim "$GUARD" $PY $UDPC dns $FAR4 53 www.example
assert_eq "$RC" 3 "python exit status"
assert_eq "$(kv "$OUT" errno)" EPERM "python errno"
run_shim "$GUARD" dig +time=1 +tries=1 @$FAR4 www.example A
assert_ne "$RC" 0 "dig exit status"
assert_match "$ERR" "udp 203\.0\.113\.2:53 .*rule=#1 port:53 chain=block result=EPERM" "the shim's log line"
sleep 0.3
queries_from
assert_no_match "$(cat "$DL")" "\.53 " "dante relayed nothing to port 53"

case_begin "explain udp HOST 53 says which: through the proxy, or blocked"
out=$("$DIALSHIM" explain -c "$RDNS" udp $FAR4 53 2>&1)
note "$out"
assert_match "$out" "^udp: SOCKS5 UDP ASSOCIATE at p \($B4_SRV:1081\): .*never directly" "remote_dns proxy"
assert_match "$out" "DNS queries to port 53 leave from the proxy" "port 53 through the proxy"
out=$("$DIALSHIM" explain -c "$GUARD" udp $FAR4 53 2>&1)
note "$out"
assert_match "$out" "^rule: #1 .*port:53 -> block" "the rule"
assert_match "$out" "^udp: refused: .*EPERM.*no DNS query leaves" "port 53 blocked"
out=$("$DIALSHIM" explain -c "$GUARD" udp $FAR4 5353 2>&1)
assert_match "$out" "^udp: SOCKS5 UDP ASSOCIATE at p" "another port still goes through the proxy"

finish
