#!/bin/bash
# A call made inside another hook of the same thread is the program's: a signal
# handler that runs while the main thread is inside the shim's connect (a blocking
# connect through a proxy that never answers) is routed like any call. What the
# lock-free route lookup and a direct literal dial can serve is served (by the
# route's dialer: link B here); what needs the proxy machinery is refused with a
# log line; a block route blocks. The far side sees only what the route allows.
# Verified to fail on the code before (the handler's calls went straight to the
# kernel): the far server saw the proxied and blocked destinations by link A, and
# the direct one by link A instead of link B.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/names_lib.sh"
. "$IT_DIR/proxy_lib.sh"
names_lab_up
shim_present
# the system resolver of the client namespace: a listener that logs each query
printf 'nameserver %s\noptions timeout:1 attempts:1\n' $A4_SRV >"$NETNS_ETC/resolv.conf"
srv_start sysdns --udp $A4_SRV:53
NESTED=$BUILD/tests/nested
srv_start far $FAR4:8080 $FAR4:8081 $FAR4:8083
srv_start farudp --udp $FAR4:5353 $FAR4:5354
start_dante dante 1081 none $FAR4
start_fake stall stall $B4_SRV:1091
LOG=$T/far.log ULOG=$T/farudp.log DLOG=$T/sysdns.log

CFG=$(write_conf nested <<EOF
[dialer p]
type = socks5
server = $B4_SRV:1091
connect_timeout = 3s

[dialer viab]
type = direct
bind_interface = vb

[dialer d5]
type = socks5
server = $B4_SRV:1081

[app all]
match = *
dialer = p
route = port:8081 -> block
route = port:5353 -> block
route = port:8083 -> viab
route = port:5354 -> d5
EOF
)

# nested TARGETPORT [udp] | nested NAME PORT gai: the main thread's connect to
# FAR4:9 stalls at the proxy; the handler connects (or sends) to FAR4:TARGETPORT,
# or looks NAME up.
nested() {
    if [ "${3:-}" = gai ] || [ "${3:-}" = res ]; then
        run_shim "$CFG" "$NESTED" $FAR4 9 "$@"
    else
        run_shim "$CFG" "$NESTED" $FAR4 9 $FAR4 "$@"
    fi
    assert_eq "$(kv "$OUT" inside)" 1 "the handler ran inside the main thread's connect"
}

case_begin "handler connect to a proxied destination: refused, far server saw nothing"
nested 8080
assert_eq "$(kv "$OUT" target)" errno=EACCES "handler's connect"
assert_match "$ERR" "dialshim: .*$FAR4:8080.*result=EACCES.*signal handler" "the shim's log line"
assert_saw_nothing "$LOG" "far server"

case_begin "handler connect to a blocked destination: ECONNREFUSED, far server saw nothing"
nested 8081
assert_eq "$(kv "$OUT" target)" errno=ECONNREFUSED "handler's connect"
assert_match "$ERR" "dialshim: .*$FAR4:8081.*result=ECONNREFUSED" "the shim's log line"
assert_saw_nothing "$LOG" "far server"

case_begin "handler connect to a direct destination: dialed by the route's dialer (link B)"
nested 8083
assert_eq "$(kv "$OUT" target)" ok "handler's connect"
assert_saw "$LOG" $B4_CLI "far server"

case_begin "handler getaddrinfo of a name: EAI_AGAIN, no query leaves (not even to the system resolver)"
nested www.example 80 gai
assert_eq "$(kv "$OUT" target)" EAI_AGAIN "handler's getaddrinfo"
assert_match "$ERR" "dialshim: .*getaddrinfo www.example refused.*signal handler" "the shim's log line"
assert_saw_nothing "$DLOG" "the system resolver's server"

case_begin "handler res_query of a name: fails, no query leaves"
nested www.example 0 res
assert_eq "$(kv "$OUT" target)" EAI_AGAIN "handler's res_query (failed)"
assert_match "$ERR" "dialshim: .*query refused.*signal handler" "the shim's log line"
assert_saw_nothing "$DLOG" "the system resolver's server"

case_begin "handler sendto a blocked UDP destination: EPERM, nothing arrives"
nested 5353 udp
assert_eq "$(kv "$OUT" target)" errno=EPERM "handler's sendto"
assert_saw_nothing "$ULOG" "far UDP server"

case_begin "handler closes a UDP socket with an association: no deadlock, the next association works, nothing leaks"
nested 5354 udpclose
assert_eq "$(kv "$OUT" first)" ok "the first association's exchange"
assert_eq "$(kv "$OUT" target)" ok "handler's close"
assert_eq "$(kv "$OUT" second)" ok "a new association after it"
assert_eq "$(kv "$OUT" fd_delta)" 0 "descriptors left open (the old control connection)"
assert_eq "$(peers "$ULOG" | sort -u | tr '\n' ' ')" "$FAR4 " "far server saw only the proxy"
: >"$ULOG"

finish
