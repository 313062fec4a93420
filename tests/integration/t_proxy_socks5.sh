#!/bin/bash
# SOCKS5 detour without authentication: microsocks (which only speaks lockstep: it
# loses the rest of a pipelined write, answers the greeting and waits) and dante
# (which takes greeting and request in one write). The far server must see the proxy
# (203.0.113.2 / 2001:db8:f::2: the proxies connect from the server namespace), the
# proxy's log the client, and the client the far server's answer.
# handshake = auto must cope with microsocks also with a password, with many threads
# dialing at once on first contact, and must not mistake a pipelining proxy that is
# merely slow to connect upstream (scripted: CONNECT reply after 0.6 s) for one
# that dropped the request (which costs a duplicate upstream connection).
# Verified to fail without the shim (SHIM=/nonexistent): every client then reaches
# the far server directly and it sees 192.0.2.1 / 2001:db8:a::1.
. "$(dirname "$0")/lib.sh"
. "$IT_DIR/proxy_lib.sh"
lab_up
shim_present
srv_start far $FAR4:8081 "[$FAR6]:8081"
srv_start web --http $FAR4:8080
start_microsocks ms $B4_SRV 1080
start_microsocks msauth $B4_SRV 1082 -u "$DANTE_USER" -P "$DANTE_PASS"
start_dante dante 1081 none $FAR4 $FAR6
start_fake slow socks5 $B4_SRV:1201 --delay 0.6
LOG=$T/far.log WLOG=$T/web.log MS=$T/ms.log DL=$T/dante.log

LOCK=$(proxy_conf lock socks5 $B4_SRV:1080 <<<'handshake = lockstep
connect_timeout = 3s')
AUTO=$(proxy_conf auto socks5 $B4_SRV:1080 <<<'connect_timeout = 3s')
DANTE=$(proxy_conf dante socks5 $B4_SRV:1081 <<<'connect_timeout = 3s')
DANTE6=$(proxy_conf dante6 socks5 "[$B6_SRV]:1081" <<<'connect_timeout = 3s')

case_begin "socks5 microsocks (lockstep): python3 gets the far answer, far sees the proxy"
run_bare $PY $PROXY_CLIENT $FAR4 8081
assert_saw "$LOG" $A4_CLI "bare run (lab sanity)"
run_shim "$LOCK" $PY $PROXY_CLIENT $FAR4 8081
assert_eq "$RC" 0 "client exit status"
assert_eq "$(kv "$OUT" reply)" "you are $FAR4" "reply"
assert_saw "$LOG" $FAR4 "far server"
assert_match "$(cat "$MS")" "client\[[0-9]+\] $B4_CLI: connected to $FAR4:8081" "microsocks log"
: >"$MS"

case_begin "socks5 microsocks (lockstep): curl gets the page"
run_shim "$LOCK" curl -sS --max-time 5 http://$FAR4:8080/
assert_eq "$RC" 0 "curl exit status"
assert_eq "$OUT" "you are $FAR4" "page"
assert_saw "$WLOG" $FAR4 "web server"
assert_match "$(cat "$MS")" "$B4_CLI: connected to $FAR4:8080" "microsocks log"
: >"$MS"

case_begin "socks5 microsocks, handshake = auto (default): pipelining fails, lockstep retry succeeds, and is remembered"
run_shim "$AUTO" $PY $PROXY_CLIENT $FAR4 8081 --count=2
assert_eq "$RC" 0 "client exit status"
assert_eq "$(kv "$OUT" reply1)" "you are $FAR4" "first connection's reply"
assert_eq "$(kv "$OUT" reply2)" "you are $FAR4" "second connection's reply"
assert_le "$(kv "$OUT" elapsed2)" 1 "seconds for the second connect (the proxy is known to need lockstep)"
assert_saw "$LOG" "$FAR4 $FAR4" "far server"
assert_no_match "$(peers "$LOG")" "$A4_CLI|$B4_CLI" "no direct connection"
: >"$MS"

case_begin "socks5 microsocks, handshake = auto: curl gets the page"
run_shim "$AUTO" curl -sS --max-time 8 http://$FAR4:8080/
assert_eq "$RC" 0 "curl exit status"
assert_eq "$OUT" "you are $FAR4" "page"
assert_saw "$WLOG" $FAR4 "web server"

# With a password, auto waits for the method reply on first contact (credentials go
# only to a proxy that chose username/password: t_proxy_creds), so the first connect
# is lockstep; the second, pipelined now that the proxy chose username/password,
# meets microsocks' dropped request and retries lockstep; the third knows.
case_begin "socks5 microsocks with username/password, handshake = auto: lockstep first, a failed pipelined probe retried, then remembered"
AUTOPW=$(proxy_conf autopw socks5 $B4_SRV:1082 <<EOF
username = $DANTE_USER
password = $DANTE_PASS
connect_timeout = 3s
EOF
)
run_shim "$AUTOPW" $PY $PROXY_CLIENT $FAR4 8081 --count=3
assert_eq "$RC" 0 "client exit status"
for k in 1 2 3; do
    assert_eq "$(kv "$OUT" reply$k)" "you are $FAR4" "connection $k's reply"
done
assert_le "$(kv "$OUT" elapsed1)" 1 "seconds for the first connect (lockstep: no probe)"
assert_le "$(kv "$OUT" elapsed3)" 1 "seconds for the third connect"
assert_saw "$LOG" "$FAR4 $FAR4 $FAR4" "far server"

case_begin "socks5 microsocks, handshake = auto: 20 threads connecting at once on first contact all succeed"
run_shim "$AUTO" $PY $PROXY_CLIENT $FAR4 8081 --threads=20
assert_eq "$RC" 0 "client exit status"
assert_eq "$(kv "$OUT" threads_ok)" 20 "threads that got a reply"
assert_eq "$(kv "$OUT" errnos)" "" "errors"
assert_eq "$(kv "$OUT" replies)" "you are $FAR4" "replies"
assert_le "$(kv "$OUT" max_elapsed)" 2 "slowest connect, seconds"
assert_eq "$(peers "$LOG" | grep -vc "^$FAR4\$")" 0 "connections the far server saw from elsewhere"
: >"$LOG"

case_begin "socks5 dante: 20 threads connecting at once all succeed"
run_shim "$DANTE" $PY $PROXY_CLIENT $FAR4 8081 --threads=20
assert_eq "$RC" 0 "client exit status"
assert_eq "$(kv "$OUT" threads_ok)" 20 "threads that got a reply"
assert_eq "$(peers "$LOG" | grep -c "^$FAR4\$")" 20 "connections the far server saw from the proxy"
: >"$LOG"
: >"$DL"

case_begin "handshake = auto: a pipelining proxy slow to answer CONNECT gets ONE request, not a lockstep retry"
SLOW=$(proxy_conf slow socks5 $B4_SRV:1201 <<<'connect_timeout = 3s')
run_shim "$SLOW" $PY $PROXY_CLIENT $FAR4 2222 --first
assert_eq "$RC" 0 "client exit status"
assert_eq "$(kv "$OUT" first)" "b'SSH-2.0-test\\r\\n'" "first bytes"
assert_eq "$(count_lines "$T/slow.log" '^REQ ')" 1 "CONNECT requests the proxy got (each would be an upstream connection)"
assert_le "$(kv "$OUT" elapsed)" 1.5 "seconds in connect"

case_begin "socks5 dante (auto, pipelined accepted): python3 and curl"
run_shim "$DANTE" $PY $PROXY_CLIENT $FAR4 8081
assert_eq "$RC" 0 "python client exit status"
assert_eq "$(kv "$OUT" reply)" "you are $FAR4" "python reply"
assert_le "$(kv "$OUT" elapsed)" 1 "seconds in connect"
assert_saw "$LOG" $FAR4 "far server (python)"
run_shim "$DANTE" curl -sS --max-time 5 http://$FAR4:8080/
assert_eq "$RC" 0 "curl exit status"
assert_eq "$OUT" "you are $FAR4" "page"
assert_saw "$WLOG" $FAR4 "web server (curl)"
assert_match "$(cat "$DL")" "tcp/connect \[: $B4_CLI\.[0-9]+ $B4_SRV\.1081 -> $FAR4\.[0-9]+ $FAR4\.8081" "dante log"
: >"$DL"

case_begin "socks5 dante: IPv6 destination from an AF_INET6 socket, IPv4 proxy"
run_bare $PY $PROXY_CLIENT $FAR6 8081
assert_saw "$LOG" $A6_CLI "bare run (lab sanity)"
run_shim "$DANTE" $PY $PROXY_CLIENT $FAR6 8081
assert_eq "$RC" 0 "client exit status"
assert_eq "$(kv "$OUT" reply)" "you are $FAR6" "reply"
assert_saw "$LOG" $FAR6 "far server"
assert_match "$(cat "$DL")" "tcp/connect \[: $B4_CLI\.[0-9]+ $B4_SRV\.1081 -> " "dante log: the client came by IPv4"
: >"$DL"

case_begin "socks5 dante: IPv6 proxy, IPv4 destination from an AF_INET socket"
run_shim "$DANTE6" $PY $PROXY_CLIENT $FAR4 8081
assert_eq "$RC" 0 "client exit status"
assert_eq "$(kv "$OUT" reply)" "you are $FAR4" "reply"
assert_saw "$LOG" $FAR4 "far server"
assert_match "$(cat "$DL")" "tcp/connect \[: $B6_CLI\.[0-9]+ $B6_SRV\.1081 -> " "dante log: the client came by IPv6"
: >"$DL"

# The IPv4 socket became the IPv6 socket to the proxy: the program must still get
# IPv4 answers (the address it connected to), not IPv6 ones.
case_begin "socks5 dante over IPv6 from an IPv4 socket: getpeername/getsockname stay IPv4"
run_shim "$DANTE6" $PY -c 'import socket, sys
s = socket.socket(socket.AF_INET)
s.settimeout(3)
s.connect((sys.argv[1], 8081))
print("peer=%s:%d" % s.getpeername())
print("local=%s" % s.getsockname()[0])
print("reply=%s" % s.recv(100).decode().strip())' $FAR4
assert_eq "$RC" 0 "client exit status ($OUT)"
assert_eq "$(kv "$OUT" reply)" "you are $FAR4" "reply"
assert_eq "$(kv "$OUT" peer)" "$FAR4:8081" "getpeername: the address connected to"
assert_eq "$(kv "$OUT" local)" "0.0.0.0" "getsockname: an IPv4 address"
assert_match "$(cat "$DL")" "tcp/connect \[: $B6_CLI\.[0-9]+ $B6_SRV\.1081 -> " "dante log: the client came by IPv6"
: >"$DL"

finish
