#!/bin/bash
# A proxy's server given by name (dialshim.ini(5) server): resolved with the
# dialer's domain_resolver through dnsmasq in the lab (dnsmasq saw the query for
# the proxy's name from the client), the proxy saw the connection and the far
# server saw the proxy; the answer's TTL is honoured (two connects in one process,
# one query); every address is tried (an IPv6 address nobody listens on and an
# IPv4 one that works: the connect succeeds); a resolver in fake_ip mode still
# gives the proxy's real address; a name that does not resolve fails the connect
# (EHOSTUNREACH) and reaches nobody.
# Verified to fail before: `server = proxy.example:1080` was refused when the file
# was loaded (EACCES, microsocks and dnsmasq saw nothing).
. "$(dirname "$0")/lib.sh"
. "$IT_DIR/proxy_lib.sh"
. "$IT_DIR/names_lib.sh"
names_lab_up
shim_present
dns_start --local-ttl=60 --address=/proxy.example/$B4_SRV \
    --address=/both.example/$B6_SRV --address=/both.example/$B4_SRV
srv_start far $FAR4:8081
start_microsocks ms $B4_SRV 1080 -b $B4_SRV
MS=$T/ms.log FAR=$T/far.log

# byname_conf NAME SERVER [resolver mode]: every program through proxy `p` at SERVER.
byname_conf() {
    write_conf "$1" <<EOF
[resolver lab]
servers = $A4_SRV
mode = ${3:-real}

[dialer p]
type = socks5
server = $2
handshake = lockstep
domain_resolver = lab
connect_timeout = 5s

[app all]
match = *
dialer = p
EOF
}
queries() { dns_queries | grep -c "\] $1 from $A4_CLI" || true; }

case_begin "server = proxy.example:1080: resolved by the dialer's resolver, the proxy carries the connection, the TTL is honoured"
run_shim "$(byname_conf name proxy.example:1080)" $PY $PROXY_CLIENT $FAR4 8081 --count=2
assert_eq "$RC" 0 "client exit status"
assert_eq "$(kv "$OUT" reply1)" "you are $B4_SRV" "first reply: the far server saw the proxy"
assert_eq "$(kv "$OUT" reply2)" "you are $B4_SRV" "second reply"
assert_eq "$(count_lines "$MS" "client\[[0-9]+\] $B4_CLI: connected to $FAR4:8081")" 2 "microsocks carried both"
assert_eq "$(dns_queries | grep -c "query\[A\] proxy.example from $A4_CLI")" 1 "A queries for the proxy's name (the second connect used the cache)"
: >"$MS"
: >"$FAR"

case_begin "every address is tried: an IPv6 address nobody listens on, then the IPv4 one"
run_shim "$(byname_conf both both.example:1080)" $PY $PROXY_CLIENT $FAR4 8081
assert_eq "$RC" 0 "client exit status"
assert_eq "$(kv "$OUT" reply)" "you are $B4_SRV" "reply"
assert_match "$(cat "$MS")" "$B4_CLI: connected to $FAR4:8081" "microsocks carried it"
assert_ge "$(queries both.example)" 2 "queries for both families"
: >"$MS"
: >"$FAR"

case_begin "a resolver in fake_ip mode: the proxy's name still gets its real address"
run_shim "$(byname_conf fake proxy.example:1080 fake_ip)" $PY $PROXY_CLIENT $FAR4 8081
assert_eq "$RC" 0 "client exit status"
assert_match "$(cat "$MS")" "$B4_CLI: connected to $FAR4:8081" "microsocks carried it"
: >"$MS"
: >"$FAR"

case_begin "a proxy name that does not resolve: EHOSTUNREACH, a log line, nothing reached"
run_shim "$(byname_conf nx nowhere.example:1080)" $PY $PROXY_CLIENT $FAR4 8081
assert_eq "$RC" 3 "client exit status"
assert_eq "$(kv "$OUT" errno)" EHOSTUNREACH "errno"
assert_match "$ERR" "nowhere.example" "the log names the proxy's name"
assert_eq "$(wc -l <"$MS")" 0 "microsocks saw nothing"
assert_saw_nothing "$FAR" "far server"

case_begin "check and explain take a proxy given by name"
OUT=$(timeout "$CTMO" "$DIALSHIM" check -c "$T/name.ini" 2>&1)
assert_match "$OUT" "^ok: " "check"
finish
