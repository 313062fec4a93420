#!/bin/bash
# Non-blocking dials (dialshim(1) NON-BLOCKING SOCKETS): a proxied connect on a
# non-blocking socket returns EINPROGRESS at once and finishes in the background.
# While pending: connect EALREADY, send/recv EAGAIN, SO_ERROR EINPROGRESS,
# getpeername ENOTCONN; the socket is ready (poll, select, epoll registered after
# connect, edge-triggered epoll registered before it) only when the whole
# handshake is done, and the proxy's reply never reaches the program (the
# scripted proxy sends the far server's banner in the same write as its reply,
# one second late). A refused CONNECT comes through SO_ERROR once; a close or
# shutdown while pending abandons the dial without a descriptor left behind.
# getpeername of a proxied socket (blocking too) is the destination, through
# SOCKS5, HTTP and a 2-hop chain. A blocking socket with SO_SNDTIMEO gets
# EINPROGRESS when the timeout runs out before the proxy answers (man 7 socket),
# and the dial goes on as a non-blocking one's (fails on the tree before: connect
# waited until the proxy's fail-safe answered, then failed). A program that
# closes every number above its own (closefrom, close_range) while a dial is
# pending and then opens files does not close the shim's duplicate and eventfd:
# the dial completes and the program's files stay its own (fails on the tree
# before: the dial failed and the driver closed two of the program's files).
# Every epoll way of waiting: EPOLLONESHOT, level and edge-triggered sets and a
# dup made BEFORE the connect, each registered before it: no event while the
# proxy holds the request, one each after (fails on the tree before for the dup:
# its registration stayed in the kernel and its reads were not held back).
# Verified to fail on the tree before: connect there returns 0 after the whole
# handshake (connect=0, again=EISCONN) and getpeername gives the proxy.
. "$(dirname "$0")/lib.sh"
. "$IT_DIR/proxy_lib.sh"
. "$IT_DIR/nb_lib.sh"
lab_up
shim_present
NB=${NBCORE:-$BUILD/tests/nbcore}
srv_start far $FAR4:8081
start_fake slow socks5 $B4_SRV:1091 --delay 1
start_fake refuse socks5 $B4_SRV:1092 --rep 5
start_fake stall stall $B4_SRV:1093
start_microsocks ms $B4_SRV 1080 -b $B4_SRV
start_microsocks ms6 $B6_SRV 1086 -b $B4_SRV
start_tinyproxy tp $B4_SRV 8888 $FAR4 8081
nbp_start rel socks5 $A4_SRV:1095 --release "$T/go" --bind $A4_SRV
LOG=$T/far.log

SLOW=$(proxy_conf slow socks5 $B4_SRV:1091 <<<'connect_timeout = 5s')
REFUSE=$(proxy_conf refuse socks5 $B4_SRV:1092 <<<'connect_timeout = 5s')
STALL=$(proxy_conf stall socks5 $B4_SRV:1093 <<<'connect_timeout = 5s')
# rel holds its CONNECT reply until the test releases it, a second or more after the
# request under SO_SNDTIMEO: lockstep, so that handshake = auto's probe (a pipelined
# CONNECT unanswered 1 s after the method reply is retried lockstep, on a second
# connection) never races the release.
REL=$(proxy_conf rel socks5 $A4_SRV:1095 <<<$'connect_timeout = 8s\nhandshake = lockstep')
MS=$(proxy_conf ms socks5 $B4_SRV:1080 <<<'handshake = lockstep')
MS6=$(proxy_conf ms6 socks5 "[$B6_SRV]:1086" <<<'handshake = lockstep')
HTTP=$(proxy_conf http http $B4_SRV:8888 <<<'')
CHAIN=$(write_conf chain <<EOF
[dialer first]
type = socks5
server = $B4_SRV:1080
handshake = lockstep

[dialer second]
type = http
server = $B4_SRV:8888
detour = first

[app all]
match = *
dialer = second
EOF
)

for w in poll select epoll epollet; do
    case_begin "socks5 taking 1 s, waited for with $w: pending answers, then ready once, banner intact"
    run_shim "$SLOW" "$NB" $w $FAR4 8081
    assert_eq "$(kv "$OUT" connect)" EINPROGRESS "connect"
    assert_eq "$(kv "$OUT" again)" EALREADY "a second connect while pending"
    assert_eq "$(kv "$OUT" send)" EAGAIN "send while pending"
    assert_eq "$(kv "$OUT" recv)" EAGAIN "recv while pending"
    assert_eq "$(kv "$OUT" soerr_pending)" EINPROGRESS "SO_ERROR while pending"
    assert_eq "$(kv "$OUT" peer_pending)" ENOTCONN "getpeername while pending"
    assert_eq "$(kv "$OUT" waits)" 1 "wakeups until writable"
    assert_eq "$(kv "$OUT" soerr)" 0 "SO_ERROR when ready"
    assert_eq "$(kv "$OUT" peer)" "$FAR4:8081" "getpeername after: the destination"
    assert_eq "$(kv "$OUT" after)" EISCONN "connect after"
    assert_eq "$(kv "$OUT" reply)" "SSH-2.0-test" "the first bytes the program reads"
    assert_match "$(cat "$T/slow.log")" "REQ $FAR4 8081" "the proxy was asked for the destination"
done

case_begin "refused CONNECT (REP 5): SO_ERROR gives ECONNREFUSED once, after readiness"
run_shim "$REFUSE" "$NB" poll $FAR4 8081
assert_eq "$(kv "$OUT" connect)" EINPROGRESS "connect"
assert_eq "$(kv "$OUT" waits)" 1 "wakeups until ready"
assert_eq "$(kv "$OUT" soerr)" ECONNREFUSED "SO_ERROR"
assert_eq "$(kv "$OUT" soerr2)" 0 "SO_ERROR asked again"
assert_eq "$(kv "$OUT" peer)" ENOTCONN "getpeername after a failure"
assert_match "$ERR" "result=ECONNREFUSED" "the log line"
assert_saw_nothing "$LOG" "far server"

for how in close shutdown; do
    case_begin "$how while pending on a stalled proxy: abandoned, no descriptor left"
    : >"$T/stall.log"
    run_shim "$STALL" "$NB" epoll $FAR4 8081 $how
    assert_eq "$(kv "$OUT" connect)" EINPROGRESS "connect"
    assert_eq "$(kv "$OUT" fds_after)" "$(kv "$OUT" fds_before)" "descriptors before the socket and after"
    assert_eq "$(peers "$T/stall.log" | wc -l)" 1 "connections the proxy saw"
    assert_match "$ERR" "abandoned" "the log line"
done

case_begin "fork while pending: the child's copy fails (ECONNABORTED), the parent's dial completes"
run_shim "$SLOW" "$NB" poll $FAR4 8081 fork
assert_eq "$(kv "$OUT" child_waits)" 1 "the child's wakeups until ready"
assert_eq "$(kv "$OUT" child_soerr)" ECONNABORTED "the child's SO_ERROR"
assert_eq "$(kv "$OUT" soerr)" 0 "the parent's SO_ERROR"
assert_eq "$(kv "$OUT" reply)" "SSH-2.0-test" "the parent's reply"
assert_match "$ERR" "pending when the process forked" "the child's log line"

case_begin "a dup of the socket, the original closed while pending: the dial goes on in the copy"
run_shim "$SLOW" "$NB" epoll $FAR4 8081 dupclose
assert_eq "$(kv "$OUT" soerr)" 0 "SO_ERROR when ready"
assert_eq "$(kv "$OUT" reply)" "SSH-2.0-test" "reply"

for w in epollet poll; do
    case_begin "an IPv4 socket through an IPv6 proxy (the dial swaps the socket), waited for with $w: ready once, used"
    : >"$LOG"
    run_shim "$MS6" "$NB" $w $FAR4 8081
    assert_eq "$(kv "$OUT" connect)" EINPROGRESS "connect"
    assert_eq "$(kv "$OUT" waits)" 1 "wakeups until writable (an epoll registration made before connect survives the swap)"
    assert_eq "$(kv "$OUT" soerr)" 0 "SO_ERROR when ready"
    assert_eq "$(kv "$OUT" peer)" "$FAR4:8081" "getpeername: the IPv4 destination"
    assert_eq "$(kv "$OUT" reply)" "you are $B4_SRV" "reply through the proxy"
    assert_saw "$LOG" "$B4_SRV" "far server"
done

case_begin "getpeername of proxied sockets: the destination (socks5, http, a 2-hop chain; blocking too)"
for c in "$MS" "$HTTP" "$CHAIN"; do
    : >"$LOG"
    run_shim "$c" "$NB" poll $FAR4 8081
    assert_eq "$(kv "$OUT" peer)" "$FAR4:8081" "non-blocking getpeername ($(basename "$c"))"
    assert_match "$(kv "$OUT" reply)" "^you are ($B4_SRV|$FAR4)\$" "reply: from a proxy ($(basename "$c"))"
    run_shim "$c" $PY -c "
import socket
s = socket.create_connection(('$FAR4', 8081), timeout=5)
print('peer=%s:%d' % s.getpeername()[:2]); print('local=%s' % s.getsockname()[0])"
    assert_eq "$(kv "$OUT" peer)" "$FAR4:8081" "blocking getpeername ($(basename "$c"))"
    assert_eq "$(kv "$OUT" local)" "$B4_CLI" "blocking getsockname: the real local address"
    assert_eq "$(peers "$LOG" | grep -c "^$A4_CLI\$")" 0 "connections the far server saw from the client"
    assert_eq "$(peers "$LOG" | wc -l)" 2 "connections the far server saw (through the proxy)"
done

case_begin "a blocking socket with SO_SNDTIMEO = 1 s, the proxy holding its answer: EINPROGRESS, then the dial completes"
rm -f "$T/go"
: >"$T/rel.log"
: >"$LOG"
run_shim "$REL" $PY $NB_CLIENT sndtimeo $FAR4 8081 "$T/rel.log" "$T/go"
assert_eq "$(kv "$OUT" connect)" EINPROGRESS "connect"
assert_le "$(kv "$OUT" connect_s)" 5 "seconds in connect (a watchdog: the proxy gives up after 6)"
assert_eq "$(kv "$OUT" reqs)" 1 "requests the proxy held"
assert_eq "$(kv "$OUT" early)" 0 "writable while the proxy holds the request"
assert_eq "$(kv "$OUT" writable)" 1 "writable after the release"
assert_eq "$(kv "$OUT" so_error)" 0 "SO_ERROR"
assert_eq "$(kv "$OUT" peer)" "$FAR4:8081" "getpeername"
assert_eq "$(kv "$OUT" reply)" "you are $A4_SRV" "reply through the proxy"
assert_eq "$(plog_count rel GIVEUP)" 0 "requests the proxy gave up on"
assert_eq "$(plog_count rel REQ)" 1 "requests the proxy got in all (no second attempt)"
assert_eq "$(peers "$LOG")" "$A4_SRV" "connections the far server saw"

case_begin "a blocking socket with SO_SNDTIMEO = 1 s, the proxy answering at once: connect returns 0"
touch "$T/go"
: >"$LOG"
run_shim "$REL" $PY $NB_CLIENT sndtimeo $FAR4 8081 "$T/rel.log" "$T/go"
assert_eq "$(kv "$OUT" connect)" 0 "connect"
assert_eq "$(kv "$OUT" peer)" "$FAR4:8081" "getpeername"
assert_eq "$(kv "$OUT" reply)" "you are $A4_SRV" "reply through the proxy"
assert_eq "$(peers "$LOG")" "$A4_SRV" "connections the far server saw"

for how in closefrom close_range; do
    case_begin "$how above the program's own numbers while a dial is pending, then files up to the limit: the dial completes, the files stay"
    rm -f "$T/go"
    : >"$T/rel.log"
    : >"$LOG"
    run_shim "$REL" $PY $NB_CLIENT closefrom $FAR4 8081 "$T/rel.log" "$T/go" $how
    assert_eq "$(kv "$OUT" connect)" EINPROGRESS "connect"
    assert_ge "$(kv "$OUT" files)" 20 "files opened after the $how"
    assert_eq "$(kv "$OUT" writable)" 1 "writable after the release"
    assert_eq "$(kv "$OUT" so_error)" 0 "SO_ERROR"
    assert_eq "$(kv "$OUT" reply)" "you are $A4_SRV" "reply through the proxy"
    assert_eq "$(kv "$OUT" files_ok)" "$(kv "$OUT" files)" "files still open on /dev/null at the end"
    assert_eq "$(kv "$OUT" fd_after)" "$(kv "$OUT" fd_base)" "descriptors before and after"
    assert_eq "$(peers "$LOG")" "$A4_SRV" "connections the far server saw"
done

for how in keep closeorig; do
    case_begin "epoll sets registered before connect (oneshot, level, edge, a dup made before connect; $how): nothing while pending, one event each after"
    # closeorig: the socket's first number is closed while pending; the dial goes on in the dup
    rm -f "$T/go"
    : >"$T/rel.log"
    : >"$LOG"
    run_shim "$REL" $PY $NB_CLIENT epollways $FAR4 8081 "$T/rel.log" "$T/go" ${how#keep}
    assert_eq "$(kv "$OUT" connect)" EINPROGRESS "connect"
    assert_eq "$(kv "$OUT" early)" none "sets with an event while the proxy holds the request"
    assert_eq "$(kv "$OUT" dup_send)" EAGAIN "send on the dup while pending"
    assert_eq "$(kv "$OUT" dup_recv)" EAGAIN "recv on the dup while pending"
    sets="oneshot level edge dup"
    [ $how = closeorig ] && sets=dup # the others' number is gone
    for set in $sets; do
        assert_eq "$(kv "$OUT" $set)" 1 "events of the $set set after the release"
    done
    [ $how = keep ] && assert_eq "$(kv "$OUT" oneshot_again)" 0 "events of the oneshot set after its one"
    assert_eq "$(kv "$OUT" so_error)" 0 "SO_ERROR on the dup"
    assert_eq "$(kv "$OUT" reply)" "you are $A4_SRV" "reply read on the dup"
    assert_eq "$(peers "$LOG")" "$A4_SRV" "connections the far server saw"
done

finish
