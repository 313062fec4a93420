#!/bin/bash
# A blocking socket's proxied dial, bounded without touching the socket's flags:
# the shim connects and reads the proxy's replies with blocking calls, and its
# watchdog thread shuts the socket down at connect_timeout (common/watchdog.h).
# What a program must see: ETIMEDOUT at the deadline whether the proxy's SYNs
# vanish or the proxy accepts and never answers; its socket never non-blocking,
# not even for a moment (a second thread reads the flags throughout); every way
# a program makes a socket non-blocking (fcntl, ioctl FIONBIO, the raw system
# calls, F_SETFL through a copy) noticed, so that its connect gives EINPROGRESS
# at once; a socket the program closes in mid-dial from another thread, whose
# number comes back for a direct connection, left alone when the deadline passes.
# The same for a direct dialer's connect_timeout.
# Verified to fail without the shim (SHIM=/nonexistent): the connects go direct to
# the far server, which answers, or to nothing and take the kernel's own time.
. "$(dirname "$0")/lib.sh"
. "$IT_DIR/proxy_lib.sh"
lab_up
shim_present
srv_start far $FAR4:8081 $FAR4:8082
start_fake stall stall $B4_SRV:1091
LOG=$T/far.log
PROBE=$BUILD/tests/blockflags

conf() { # NAME SERVER TIMEOUT: port 8082 through socks5 proxy SERVER, the rest direct
    write_conf "$1" <<EOF2
[dialer p]
type = socks5
server = $2
handshake = lockstep
connect_timeout = $3

[dialer d]
type = direct

[app all]
match = *
dialer = d
route = port:8082 -> p
EOF2
}

timed_out_blocking() { # blockflags watch's output: ETIMEDOUT at 1 s, never O_NONBLOCK
    assert_eq "$(kv "$OUT" connect)" ETIMEDOUT "connect"
    assert_ge "$(kv "$OUT" ms)" 900 "ms in connect"
    assert_le "$(kv "$OUT" ms)" 2500 "ms in connect"
    assert_ge "$(kv "$OUT" samples)" 100 "flag samples taken during the connect"
    assert_eq "$(kv "$OUT" saw_nonblock)" 0 "samples that saw O_NONBLOCK"
    assert_eq "$(kv "$OUT" flags_after)" blocking "flags after the connect"
}

for what in "silent:$SILENT4:1080:its SYNs vanish" "stall:$B4_SRV:1091:it accepts and never answers"; do
    IFS=: read -r name host port why <<<"$what"
    case_begin "blocking socket, proxy $name ($why), connect_timeout = 1s: ETIMEDOUT at the deadline, the socket never non-blocking"
    run_shim "$(conf $name $host:$port 1s)" $PROBE watch $FAR4 8082
    timed_out_blocking
    assert_match "$ERR" "dialshim: .*$FAR4:8082.*result=ETIMEDOUT" "the shim's log line"
    assert_saw_nothing "$LOG" "far server"
done
assert_match "$(cat "$T/stall.log")" "^PEER $B4_CLI " "the stalled proxy was reached"

case_begin "blocking socket, direct dialer with connect_timeout = 1s to an address whose SYNs vanish: ETIMEDOUT at the deadline, the socket never non-blocking"
run_shim "$(write_conf direct-silent <<<"[dialer d]
type = direct
connect_timeout = 1s

[app all]
match = *
dialer = d")" $PROBE watch $SILENT4 8082
timed_out_blocking

for mode in fcntl ioctl sysfcntl sysioctl dupfcntl socknb; do
    case_begin "made non-blocking by $mode, proxy silent: connect gives EINPROGRESS at once"
    run_shim "$(conf nb-$mode $SILENT4:1080 2s)" $PROBE $mode $FAR4 8082
    assert_eq "$(kv "$OUT" connect)" EINPROGRESS "connect"
    assert_le "$(kv "$OUT" ms)" 300 "ms in connect"
    assert_eq "$(kv "$OUT" flags_after)" nonblocking "flags after the connect"
    assert_saw_nothing "$LOG" "far server"
done

for how in close dup2 close_range; do
    mode=reuse
    [ $how = dup2 ] && mode=reusedup
    [ $how = close_range ] && mode=reuserange
    case_begin "the number replaced by another thread in mid-dial ($how): the dial still ends by its deadline, the number's next socket is left alone"
    run_shim "$(conf reuse-$how $SILENT4:1080 1s)" $PROBE $mode $FAR4 8082 $FAR4 8081
    assert_eq "$(kv "$OUT" reused)" 1 "the number came back"
    assert_eq "$(kv "$OUT" after)" ok "the new socket's exchange after the deadline"
    assert_match "$(kv "$OUT" reply)" "$A4_CLI|$B4_CLI" "the far server's reply"
    assert_eq "$(kv "$OUT" joined)" 1 "the dialing thread returned"
    assert_le "$(kv "$OUT" thread_ms)" 2500 "ms in the dialing thread's connect"
    assert_match "$(kv "$OUT" thread_errno)" "ETIMEDOUT|ECONNRESET|EBADF" "the dialing thread's connect"
    assert_eq "$(peers "$LOG" | sort -u | wc -l)" 1 "far server's peers (the direct connection only)"
done

finish
