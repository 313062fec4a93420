#!/bin/bash
# The supervisor over a whole program: 50 Go connections at once through a SOCKS5
# proxy (all answered by the far server through the proxy); a child the program
# starts (busybox wget, and curl, dynamically linked) is trapped too; a dynamically
# linked program with --supervise (no LD_PRELOAD) is proxied the same way, and under
# a non-direct route cannot make an io_uring (ENOSYS); supervise = never refuses to
# start a Go program unproxied, --no-supervise runs it as it is; explain -n says
# "supervised"; a kernel without what it needs (ENOSYS from pidfd_getfd or seccomp,
# by nofeature.py) means exit 126 and no program; a supervisor killed mid-run takes
# its program with it: the
# program's second connection never happens, directly or otherwise.
# Verified to fail on a tree without the supervisor (DIALSHIM=<main's build>): the
# program and its children connect directly, the options are unknown, explain has
# no such line.
. "$(dirname "$0")/lib.sh"
. "$IT_DIR/proxy_lib.sh"
. "$IT_DIR/sup_lib.sh"
lab_up
sup_build_go
srv_start far $FAR4:8081 "[$FAR6]:8081"
srv_start web --http $FAR4:8080
start_microsocks ms $B4_SRV 1080
LOG=$T/far.log WLOG=$T/web.log MS=$T/ms.log

SOCKS=$(proxy_conf socks socks5 $B4_SRV:1080 <<<'handshake = lockstep
connect_timeout = 5s')
NEVER=$(write_conf never <<EOF
[global]
supervise = never

[dialer p]
type = socks5
server = $B4_SRV:1080

[app all]
match = *
dialer = p
EOF
)
PERAPP=$(write_conf perapp <<EOF
[dialer p]
type = socks5
server = $B4_SRV:1080
handshake = lockstep

[app curl]
match = curl
dialer = direct

[app all]
match = *
dialer = p
EOF
)
DIRECT=$(write_conf direct <<EOF
[app all]
match = *
dialer = direct
EOF
)

case_begin "50 Go connections at once through SOCKS5: all answered, all through the proxy"
run_tool "$SOCKS" "$SUPGO" many 50 $FAR4:8081
assert_eq "$(kv "$OUT" ok)" 50 "connections answered"
assert_eq "$(peers "$LOG" | grep -c "^$FAR4\$")" 50 "far server: connections from the proxy"
assert_eq "$(peers "$LOG" | grep -vc "^$FAR4\$")" 0 "far server: connections from anyone else"
assert_eq "$(count_lines "$MS" "$B4_CLI: connected to $FAR4:8081")" 50 "microsocks log"
: >"$LOG"
: >"$MS"

case_begin "a child of the program is supervised too (busybox wget, curl)"
run_tool "$SOCKS" "$SUPGO" exec "$BUSYBOX" wget -q -O - http://$FAR4:8080/
assert_eq "$OUT" "you are $FAR4" "busybox child's page"
assert_saw "$WLOG" $FAR4 "web server (busybox child)"
run_tool "$SOCKS" "$SUPGO" exec curl -sS --max-time 5 http://$FAR4:8080/
assert_eq "$OUT" "you are $FAR4" "curl child's page"
assert_saw "$WLOG" $FAR4 "web server (curl child)"
assert_eq "$(count_lines "$MS" "$B4_CLI: connected to $FAR4:8080")" 2 "microsocks log"
: >"$MS"

case_begin "a child matches its own [app]: curl started by the Go program goes direct, the Go program through the proxy"
run_tool "$PERAPP" "$SUPGO" exec curl -sS --max-time 5 http://$FAR4:8080/
assert_eq "$OUT" "you are $A4_CLI" "curl child's page (its app: direct)"
assert_saw "$WLOG" $A4_CLI "web server (curl, direct)"
assert_match "$ERR" "curl\\[[0-9]+\\] supervised connect tcp $FAR4:8080 app=curl rule=default chain=direct result=" "decision log names curl's app"
run_tool "$PERAPP" "$SUPGO" dial $FAR4:8081
assert_eq "$(kv "$OUT" reply)" "you are $FAR4" "the Go program's own dial (app all: the proxy)"
assert_saw "$LOG" $FAR4 "far server (through the proxy)"
: >"$MS"

case_begin "--supervise on a dynamically linked program: proxied without the preload; no io_uring"
run_tool "$SOCKS" --supervise curl -sS --max-time 5 http://$FAR4:8080/
assert_eq "$OUT" "you are $FAR4" "curl's page"
assert_saw "$WLOG" $FAR4 "web server"
URING='import ctypes; libc = ctypes.CDLL(None, use_errno=True); p = ctypes.create_string_buffer(120)
r = libc.syscall(425, 4, p); print("r=%d errno=%d" % (r, ctypes.get_errno()))'
run_tool "$SOCKS" --supervise "$PY" -c "$URING"
assert_eq "$OUT" "r=-1 errno=38" "io_uring_setup under a proxy route"
run_tool "$DIRECT" --supervise "$PY" -c "$URING"
assert_ne "$OUT" "r=-1 errno=38" "io_uring_setup when every route is direct"

case_begin "a child in a proxied [app] under a direct command: no io_uring for it either"
RINGAPP=$(write_conf ringapp <<EOF
[dialer p]
type = socks5
server = $B4_SRV:1080

[app go]
match = supervise_go
dialer = direct

[app ring]
match = ringconnect
dialer = p
EOF
)
run_tool "$RINGAPP" "$SUPGO" exec "$BUILD/tests/ringconnect" $FAR4 8081
assert_eq "$(kv "$OUT" setup)" ENOSYS "the child's io_uring_setup"
assert_saw_nothing "$LOG" "far server"

case_begin "supervise = never: a Go program under a proxy route is not started; --no-supervise runs it unproxied"
run_tool "$NEVER" "$SUPGO" dial $FAR4:8081
assert_eq "$RC" 2 "exit status"
assert_match "$ERR" "supervise = never: not started" "the refusal"
assert_saw_nothing "$LOG" "far server"
run_tool "$NEVER" --no-supervise "$SUPGO" dial $FAR4:8081
assert_eq "$(kv "$OUT" reply)" "you are $A4_CLI" "unproxied reply"
assert_match "$ERR" "warning: .*supervise_go is (statically linked|a Go program)" "the warning"
assert_saw "$LOG" $A4_CLI "far server (direct, as asked)"

case_begin "explain -n: a static or Go program is supervised"
out=$(in_cli timeout 5 "$DIALSHIM" explain -c "$SOCKS" -n "$BUSYBOX" tcp $FAR4 80 2>&1)
assert_match "$out" "interception: supervised \(seccomp" "busybox"
out=$(in_cli timeout 5 "$DIALSHIM" explain -c "$SOCKS" -n "$SUPGO" tcp $FAR4 80 2>&1)
assert_match "$out" "interception: supervised \(seccomp" "Go"
out=$(in_cli timeout 5 "$DIALSHIM" explain -c "$SOCKS" -n "$(type -P curl)" tcp $FAR4 80 2>&1)
assert_match "$out" "interception: preload" "curl"

case_begin "an IPv6 socket reaches the IPv4 proxy (v4-mapped), a non-dumpable program is refused"
run_tool "$SOCKS" "$SUPGO" dial "[$FAR6]:8081"
assert_eq "$(kv "$OUT" reply)" "you are $FAR6" "Go's reply over IPv6 through the IPv4 proxy"
assert_eq "$(kv "$OUT" remote)" "[$FAR6]:8081" "RemoteAddr"
assert_saw "$LOG" $FAR6 "far server (the proxy, over IPv6)"
assert_match "$(cat "$MS")" "$B4_CLI: connected to \\[?$FAR6\\]?:8081" "microsocks log"
# As nobody (no CAP_SYS_PTRACE), the supervisor may not look into a program that
# made itself non-dumpable: its connect is refused (EPERM), never let through.
chmod 711 "$T"
cp "$SOCKS" "$T/nobody.ini" && chmod 644 "$T/nobody.ini"
NODUMP='import ctypes, socket; ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)
s = socket.socket(); s.settimeout(5)
try:
    s.connect(("'$FAR4'", 8081)); print("connected")
except OSError as e:
    print("errno=%d" % e.errno)'
in_cli timeout "$CTMO" setpriv --reuid=65534 --regid=65534 --clear-groups \
    "$DIALSHIM" -c "$T/nobody.ini" --supervise -- "$PY" -c "$NODUMP" >"$T/nd.out" 2>"$T/nd.err"
note "non-dumpable: $(cat "$T/nd.out") $(head -c 300 "$T/nd.err")"
assert_eq "$(cat "$T/nd.out")" "errno=1" "the non-dumpable program's connect"
assert_match "$(cat "$T/nd.err")" "cannot read the program's memory or socket .*refused with EPERM" "the log line"
assert_saw_nothing "$LOG" "far server"
: >"$MS"

case_begin "a kernel without pidfd_getfd or seccomp: not started (exit 126), nothing sent"
for miss in "438:pidfd_getfd" "317:seccomp user notification"; do
    in_cli timeout "$CTMO" "$PY" "$IT_DIR/nofeature.py" "${miss%%:*}" \
        "$DIALSHIM" -c "$SOCKS" -- "$SUPGO" dial $FAR4:8081 >"$T/nf.out" 2>"$T/nf.err"
    assert_eq "$?" 126 "${miss#*:}: exit status"
    assert_match "$(cat "$T/nf.err")" "cannot supervise .*lacks ${miss#*:}.*not started" "${miss#*:}: the error"
    assert_eq "$(cat "$T/nf.out")" "" "${miss#*:}: the program's output"
done
assert_saw_nothing "$LOG" "far server"

case_begin "supervisor killed mid-run: the program dies with it, nothing goes out direct"
mkfifo "$T/in"
ip netns exec "$CLI" timeout 60 "$DIALSHIM" -c "$SOCKS" -- "$SUPGO" twice $FAR4:8081 <"$T/in" >"$T/kill.out" 2>"$T/kill.err" &
TMO=$!
exec 7>"$T/in" # the program waits for a line here
for i in $(seq 1 100); do grep -q reply1= "$T/kill.out" && break; sleep 0.05; done
assert_match "$(cat "$T/kill.out")" "reply1=you are $FAR4" "first connection, through the proxy"
SUP=$(pgrep -P "$TMO" | head -n 1)   # timeout -> dialshim -> the program
PROG=$(pgrep -P "${SUP:-0}" | head -n 1)
assert_ne "$PROG" "" "the program runs as the supervisor's child"
kill -9 "$SUP"
wait "$TMO" 2>/dev/null
(echo go >&7) 2>/dev/null # the program would now dial again (if it were alive to read it)
exec 7>&-
for i in $(seq 1 100); do kill -0 "$PROG" 2>/dev/null || break; sleep 0.05; done
kill -0 "$PROG" 2>/dev/null && { fail "the program still runs"; kill -9 "$PROG"; }
assert_no_match "$(cat "$T/kill.out")" "reply2=you" "no second reply"
assert_saw "$LOG" $FAR4 "far server: only the first, proxied connection"

finish
