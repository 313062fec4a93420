#!/bin/bash
# UDP through SOCKS5 UDP ASSOCIATE (dialshim.ini(5) UDP), against dante-server:
# the far echo server (peer_server.py --udp --echo) must see dante's external
# address (203.0.113.2 / 2001:db8:f::2), never the client's; the program must be told
# the far server's real address as the peer (or the fake address it sent to), and
# every payload must come back byte-exact. Covered: sendto/recvfrom, sendmsg/recvmsg,
# connect + send/recv/write/read (+ getpeername), non-blocking with
# select/poll/epoll, truncation and MSG_PEEK, IPv6, names through remote_dns (fake
# addresses), 1000 datagrams of 1..1400 bytes in bounded time, a chain of two
# SOCKS5 proxies (nested associations), and a connect alone opening nothing at the
# proxy (the association opens at the first send, which fails closed when the
# proxy is dead or no SOCKS5 server).
# Verified to fail without the shim (SHIM=/nonexistent): every datagram goes
# directly, the far server sees 192.0.2.1 / 2001:db8:a::1, dante logs nothing, and
# the name far.example does not resolve.
. "$(dirname "$0")/lib.sh"
. "$IT_DIR/proxy_lib.sh"
lab_up
shim_present
# dante resolves the names it is sent from the server namespace's own hosts file
# (ip netns exec bind-mounts /etc/netns/NAME/hosts): nothing leaves the lab.
NETNS_SRV_ETC=/etc/netns/$SRV
udp_down() {
    local rc=$?
    rm -rf "$NETNS_SRV_ETC"
    rmdir /etc/netns 2>/dev/null
    (exit "$rc")
    lab_down
}
trap udp_down EXIT
for _i in 1 2 3 4 5; do
    mkdir -p "$NETNS_SRV_ETC" 2>/dev/null &&
        printf '127.0.0.1 localhost\n203.0.113.2 far.example\n' >"$NETNS_SRV_ETC/hosts" 2>/dev/null &&
        break
    sleep 0.1
done
srv_start far --udp --echo $FAR4:5353 "[$FAR6]:5353"
start_dante dante 1081 none $FAR4 $FAR6
start_dante dfirst 1082 none $A4_SRV
LOG=$T/far.log DL=$T/dante.log
UDPC=$IT_DIR/udp_client.py

P=$(proxy_conf p socks5 $B4_SRV:1081 <<<'connect_timeout = 3s')
RDNS=$(proxy_conf rdns socks5 $B4_SRV:1081 <<<'remote_dns = true')
CHAIN=$(write_conf chain <<EOF
[dialer first]
type = socks5
server = $B4_SRV:1082

[dialer second]
type = socks5
server = $B4_SRV:1081
detour = first
connect_timeout = 3s

[app all]
match = *
dialer = second
EOF
)

# far_saw WHAT IP: every datagram the far server logged came from IP (clears the log).
far_saw() {
    local got
    got=$(peers "$LOG" | sort -u | tr '\n' ' ' | sed 's/ $//')
    [ "$got" = "$2" ] || fail "$1: far server saw '${got:-nothing}', expected '$2'"
    : >"$LOG"
}

# echo_case WHAT CONF DEST-IP SEEN-IP FROM [udp_client options]: the client gets all
# its datagrams back from FROM ("IP PORT") and the far server saw SEEN-IP only.
echo_case() {
    local what=$1 conf=$2 dest=$3 seen=$4 from=$5
    shift 5
    run_shim "$conf" $PY $UDPC echo $dest 5353 "$@"
    assert_eq "$RC" 0 "$what: client exit status"
    assert_match "$OUT" "bad=0 lost=0" "$what: every payload back, byte-exact"
    assert_eq "$(kv "$OUT" from)" "$from" "$what: the peer the program was told"
    assert_eq "$(kv "$OUT" seen)" "$seen" "$what: what the server said it saw"
    far_saw "$what" "$seen"
}

case_begin "sendto/recvfrom through dante: far sees dante, the program sees the far server"
run_bare $PY $UDPC echo $FAR4 5353
assert_eq "$(kv "$OUT" seen)" $A4_CLI "bare run (lab sanity)"
: >"$LOG"
echo_case "sendto" "$P" $FAR4 $FAR4 "$FAR4 5353" --count=20
assert_match "$ERR" "udp association via p created \(fd [0-9]+, 1 proxies\): relay $B4_SRV:[0-9]+" "log: association created"
assert_match "$ERR" "udp association via p closed \(fd [0-9]+\): 20 datagrams out, 20 in, 0 dropped" "log: association closed"
assert_match "$(cat "$DL")" "udp/udpassociate .*$B4_CLI\.[0-9]+ $B4_SRV\.[0-9]+ -> .*$FAR4\.[0-9]+ $FAR4\.5353" "dante log: the client's association"
: >"$DL"

case_begin "1000 datagrams of 1..1400 bytes: none lost or corrupted, in bounded time"
echo_case "bulk" "$P" $FAR4 $FAR4 "$FAR4 5353" --count=1000 --min=1 --max=1400
assert_eq "$(kv "$OUT" ok)" 1000 "datagrams echoed intact"
assert_le "$(kv "$OUT" elapsed)" 8 "seconds for 1000 round trips"
note "1000 round trips: $(kv "$OUT" elapsed)s"

case_begin "sendmsg/recvmsg, and MSG_PEEK before each read"
echo_case "sendmsg" "$P" $FAR4 $FAR4 "$FAR4 5353" --count=30 --sendmsg
echo_case "peek" "$P" $FAR4 $FAR4 "$FAR4 5353" --count=30 --peek

case_begin "a reply larger than the buffer: truncated as the kernel does, MSG_TRUNC set"
run_shim "$P" $PY $UDPC echo $FAR4 5353 --trunc=10
assert_eq "$(kv "$OUT" trunc_len)" 10 "bytes returned"
assert_eq "$(kv "$OUT" trunc_flags)" MSG_TRUNC "msg_flags"
assert_eq "$(kv "$OUT" trunc_ok)" 1 "the first 10 bytes of the payload"
far_saw "trunc" $FAR4

case_begin "connected socket: send/recv and write/read, getpeername says the far server"
echo_case "connected" "$P" $FAR4 $FAR4 "$FAR4 5353" --count=40 --connect
echo_case "connected sendmsg" "$P" $FAR4 $FAR4 "$FAR4 5353" --count=10 --connect --sendmsg

case_begin "connect alone opens no association (a browser's source-address probe); the first send does"
# probe_case WHAT CONF [options]: a connected socket that never sends: a real
# local port, the far server as its peer, nothing heard, and neither dante nor the
# far server saw anything of it.
probe_case() {
    local what=$1 conf=$2
    shift 2
    : >"$DL"
    run_shim "$conf" $PY $UDPC probe $FAR4 5353 "$@"
    assert_match "$(kv "$OUT" local)" "^[0-9.]+ [1-9][0-9]*$" "$what: getsockname after connect has a port"
    assert_eq "$(kv "$OUT" peer)" "$FAR4 5353" "$what: getpeername is the destination"
    assert_eq "$(kv "$OUT" recv_nb)" EAGAIN "$what: nothing heard before the first send"
    [ $# -gt 0 ] || assert_no_match "$ERR" "udp association via .* created" "$what: no association in the log"
}
probe_case "probe" "$P"
assert_eq "$RC" 0 "probe: client exit status"
assert_eq "$(grep -c "$B4_CLI\." "$DL")" 0 "dante saw no control connection from the client"
far_saw "probe" ""
probe_case "probe, then send" "$P" --send
assert_eq "$RC" 0 "probe then send: client exit status"
assert_eq "$(kv "$OUT" ok)" 1 "the reply came back"
assert_eq "$(kv "$OUT" seen)" $FAR4 "the far server saw dante's address"
assert_match "$ERR" "udp association via p created" "the first send opened the association"
assert_match "$(cat "$DL")" "udp/udpassociate .*$B4_CLI\.[0-9]+ " "dante saw the association at the first send"
far_saw "probe then send" $FAR4
probe_case "probe, then a non-blocking send" "$P" --send --nonblock
assert_eq "$(kv "$OUT" ok)" 1 "non-blocking: the reply came back"
far_saw "probe then non-blocking send" $FAR4
probe_case "a thread blocked in recv before the first send" "$P" --send --rx-thread
assert_eq "$(kv "$OUT" ok)" 1 "the blocked thread got the reply, unwrapped"
assert_eq "$(kv "$OUT" seen)" $FAR4 "blocked thread: the far server saw dante's address"
far_saw "blocked receiver" $FAR4

case_begin "fail closed at the first send: a proxy that is no SOCKS5 server, or none at all"
# A TCP listener stands in for the proxy: it logs every connection it gets.
srv_start notsocks $B4_SRV:1099
NS=$(proxy_conf ns socks5 $B4_SRV:1099 <<<'connect_timeout = 2s')
DEAD=$(proxy_conf dead socks5 $B4_SRV:1098 <<<'connect_timeout = 2s')
probe_case "probe, fake proxy" "$NS"
assert_eq "$(peers "$T/notsocks.log" | wc -l)" 0 "the stand-in proxy got no connection from a connect alone"
probe_case "send, fake proxy" "$NS" --send
assert_eq "$RC" 3 "send failed"
assert_match "$(kv "$OUT" errno)" "^E[A-Z]+$" "send's errno"
assert_match "$ERR" "UDP ASSOCIATE at p \\(socks5 $B4_SRV:1099\\)" "log: why the send failed"
assert_eq "$(peers "$T/notsocks.log" | sort -u)" $B4_CLI "the stand-in proxy got the control connection at the send"
far_saw "fake proxy" ""
probe_case "send, dead proxy" "$DEAD" --send
assert_eq "$(kv "$OUT" errno)" ECONNREFUSED "dead proxy: send's errno"
assert_match "$ERR" "UDP ASSOCIATE at p \\(socks5 $B4_SRV:1098\\)" "log: why the send failed"
far_saw "dead proxy" ""

case_begin "non-blocking socket: replies wake select, poll and an epoll registered before the first send"
for w in select poll epoll; do
    echo_case "nonblock $w" "$P" $FAR4 $FAR4 "$FAR4 5353" --count=30 --nonblock --wait=$w
    echo_case "nonblock connected $w" "$P" $FAR4 $FAR4 "$FAR4 5353" --count=10 --nonblock --wait=$w --connect
done

case_begin "IPv6: an IPv6 destination through an IPv4 proxy, both ways"
run_bare $PY $UDPC echo $FAR6 5353
assert_eq "$(kv "$OUT" seen)" $A6_CLI "bare run (lab sanity)"
: >"$LOG"
echo_case "ipv6" "$P" $FAR6 $FAR6 "$FAR6 5353" --count=50
echo_case "ipv6 connected" "$P" $FAR6 $FAR6 "$FAR6 5353" --count=10 --connect

case_begin "remote_dns: a name's fake address goes to dante as the name; replies come from the fake address"
run_shim "$RDNS" $PY $UDPC echo $FAR4 5353 --count=10 --name=far.example
assert_eq "$RC" 0 "client exit status"
fake=$(kv "$OUT" dest)
assert_match "$fake" '^198\.1[89]\.' "getaddrinfo gave a fake address"
assert_eq "$(kv "$OUT" from)" "$fake 5353" "the peer the program was told"
assert_eq "$(kv "$OUT" seen)" $FAR4 "what the server said it saw"
far_saw "remote_dns" $FAR4
run_shim "$RDNS" $PY $UDPC echo $FAR4 5353 --count=10 --name=far.example --connect
assert_eq "$RC" 0 "connected: client exit status"
assert_eq "$(kv "$OUT" from)" "$(kv "$OUT" dest) 5353" "connected: getpeername is the fake address"
far_saw "remote_dns connected" $FAR4

case_begin "a chain of two SOCKS5 proxies: nested associations, the last proxy hears the first"
: >"$DL"
echo_case "chain" "$CHAIN" $FAR4 $FAR4 "$FAR4 5353" --count=100
assert_match "$ERR" "udp association via second created \(fd [0-9]+, 2 proxies\)" "log: two proxies"
assert_match "$(cat "$DL")" "udp/udpassociate .*-> $A4_SRV\.[0-9]+ $B4_SRV\.[0-9]+ -> .*$FAR4\.5353" "the last proxy's UDP client is the first proxy"
assert_no_match "$(grep udpassociate "$DL")" "$B4_CLI\.|$A4_CLI\." "the last proxy never hears the client itself"
echo_case "chain ipv6 connected" "$CHAIN" $FAR6 $FAR6 "$FAR6 5353" --count=10 --connect

finish
