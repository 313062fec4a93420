#!/bin/bash
# The lockstep retry of `handshake = auto` (first contact with a proxy that loses a
# pipelined request: microsocks, or one too slow to answer the probe) dials the proxy
# again on a new connection inside the same connect. Whatever the program set on
# its socket before connect must still hold for that connection: its bind()
# (address and port: curl --interface IP --local-port), its SO_BINDTODEVICE (curl
# --interface NAME), its options, flags and epoll registration. (Linux can dissolve
# a TCP socket's connection with connect(AF_UNSPEC) and connect it again, so the
# program's own socket can be reused.) microsocks listens on the far address,
# reachable by link A (default) and link B (what the program asked for), and logs
# the source it saw; the scripted slow proxy logs source ports.
# Verified to fail without the shim (SHIM=/nonexistent): nothing reaches the proxies,
# the clients reach the far servers directly.
. "$(dirname "$0")/lib.sh"
. "$IT_DIR/proxy_lib.sh"
lab_up
shim_present
srv_start far $FAR4:8081
srv_start web --http $FAR4:8080
start_microsocks msf $FAR4 1080
start_fake slow socks5 $B4_SRV:1201 --delay 0.6
LOG=$T/far.log WLOG=$T/web.log MS=$T/msf.log

AUTO=$(proxy_conf auto socks5 $FAR4:1080 <<<'connect_timeout = 4s')
LOCK=$(proxy_conf lock socks5 $FAR4:1080 <<<'connect_timeout = 4s
handshake = lockstep')
SLOW=$(proxy_conf slow socks5 $B4_SRV:1201 <<<'connect_timeout = 4s')

# ms_saw SOURCE WHAT: microsocks logged exactly SOURCE as its clients' address(es).
ms_saw() {
    local got
    got=$(sed -n 's/^client\[[0-9]*\] \([^:]*\): connected.*/\1/p' "$MS" | sort -u | tr '\n' ' ' | sed 's/ $//')
    [ "$got" = "$1" ] || fail "$2: microsocks saw '${got:-nothing}', expected '$1'"
    : >"$MS"
}

case_begin "lab: lockstep, curl --interface 198.51.100.1: microsocks sees link B's address"
run_shim "$LOCK" curl -sS --max-time 5 --interface $B4_CLI http://$FAR4:8080/
assert_eq "$RC" 0 "curl exit status"
assert_eq "$OUT" "you are $FAR4" "page"
ms_saw $B4_CLI "microsocks"
: >"$WLOG"

case_begin "auto, first contact (retry): curl --interface 198.51.100.1 --local-port keeps its bind"
run_shim "$AUTO" curl -sS --max-time 5 --interface $B4_CLI --local-port 45000-45010 http://$FAR4:8080/
assert_eq "$RC" 0 "curl exit status"
assert_eq "$OUT" "you are $FAR4" "page"
ms_saw $B4_CLI "microsocks (the program bound 198.51.100.1)"
: >"$WLOG"

case_begin "auto, first contact (retry): curl --interface vb keeps its SO_BINDTODEVICE"
run_shim "$AUTO" curl -sS --max-time 5 --interface vb http://$FAR4:8080/
assert_eq "$RC" 0 "curl exit status"
assert_eq "$OUT" "you are $FAR4" "page"
ms_saw $B4_CLI "microsocks (the program bound its socket to vb)"
: >"$WLOG"

case_begin "auto, retry after a slow probe: every connection to the proxy keeps the program's local port"
run_shim "$SLOW" curl -sS --max-time 5 --local-port 45000-45010 http://$FAR4:2222/ -o /dev/null
ports=$(awk '$1 == "PEER" { print $3 }' "$T/slow.log" | tr '\n' ' ')
note "ports the slow proxy saw: $ports"
assert_ne "$ports" "" "connections the proxy saw"
for p in $ports; do
    { [ "$p" -ge 45000 ] && [ "$p" -le 45010 ]; } || fail "a connection to the proxy from port $p, outside --local-port 45000-45010"
done

case_begin "auto, first contact (retry): options, O_NONBLOCK and epoll registration made before connect survive"
run_shim "$AUTO" $PY $PYCLIENT opts $FAR4 8081 --nonblock
assert_eq "$RC" 0 "client exit status (5: something was lost)"
assert_eq "$(kv "$OUT" lost)" "" "lost"
assert_eq "$(kv "$OUT" reply)" "you are $FAR4" "reply"
: >"$MS"

case_begin "auto, first contact (retry): options and FD_CLOEXEC survive on a blocking socket"
for inh in "" --inheritable; do
    run_shim "$AUTO" $PY $PYCLIENT opts $FAR4 8081 $inh
    assert_eq "$RC" 0 "client exit status ${inh:-cloexec} (5: something was lost)"
    assert_eq "$(kv "$OUT" lost)" "" "lost ${inh:-cloexec}"
    assert_eq "$(kv "$OUT" reply)" "you are $FAR4" "reply ${inh:-cloexec}"
done
assert_no_match "$(peers "$LOG")" "$A4_CLI|$B4_CLI" "a direct connection"

finish
