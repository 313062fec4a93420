#!/bin/bash
# Programs of another architecture under the supervisor. An i386 Go program
# (supervise_go386.go, GOARCH=386: its socket calls go through socketcall(2),
# arguments in memory) is supervised like a native one: an HTTP GET by name
# (Go's own resolver) through SOCKS5 with
# remote_dns (microsocks got the name, the web server saw the proxy), and a
# blocked destination gets an errno with nothing arriving at the listener. An
# x32 program's socket calls (x86-64 numbers with bit 30 set: x32probe) are
# refused with EPERM and logged, never run unrouted; nothing reaches the
# listener.
# The i386 cases need a kernel that runs 32-bit programs (IA32 emulation on):
# where the bare 386 program cannot even start, they are one `ok - SKIP` line.
# Verified to fail on the tree before (DIALSHIM=<previous build>): an x32 call
# killed the program (SIGSYS) instead of failing with EPERM.
. "$(dirname "$0")/lib.sh"
. "$IT_DIR/proxy_lib.sh"
. "$IT_DIR/names_lib.sh"
. "$IT_DIR/sup_lib.sh"
sup_lab_up
GO386=$BUILD/tests/supervise_go386
if [ ! -x "$GO386" ] || [ "$IT_DIR/supervise_go386.go" -nt "$GO386" ]; then
    mkdir -p "$T/gopath"
    (cd "$IT_DIR" && timeout 100 env GOCACHE="$BUILD/gocache" GOPATH="$T/gopath" \
        GO111MODULE=off GOARCH=386 CGO_ENABLED=0 go build -o "$GO386.tmp" supervise_go386.go) &&
        mv "$GO386.tmp" "$GO386" || { echo "FAIL - supervise: go build (GOARCH=386) failed"; exit 1; }
fi
X32=$BUILD/tests/x32probe
printf 'nameserver %s\noptions timeout:1 attempts:1\n' "$A4_SRV" >"$NETNS_ETC/resolv.conf"
mkdir -p "$SRV_ETC" && printf 'nameserver %s\n' "$A4_SRV" >"$SRV_ETC/resolv.conf"
dns_start --address=/v4.example/203.0.113.2
srv_start far $FAR4:8081
srv_start web --http $FAR4:8080
start_microsocks ms $B4_SRV 1080
LOG=$T/far.log WLOG=$T/web.log MS=$T/ms.log

SOCKS=$(proxy_conf socks socks5 $B4_SRV:1080 <<<'remote_dns = true
handshake = lockstep
connect_timeout = 3s')
BLOCK=$(write_conf block <<EOF
[app all]
match = *
dialer = direct
route = cidr:203.0.113.0/24 -> block
EOF
)
client_queries() { dns_queries | grep -E "from ($A4_CLI|$B4_CLI|$A6_CLI|$B6_CLI)\$"; }

case_begin "x32 socket calls under the supervisor: refused with EPERM, nothing reaches the listeners"
run_tool "$SOCKS" --supervise "$X32" $FAR4 8081
assert_eq "$RC" 0 "exit status (not killed)"
assert_eq "$(kv "$OUT" connect)" EPERM "x32 connect"
assert_eq "$(kv "$OUT" sendto)" EPERM "x32 sendto"
assert_match "$ERR" "an x32 program's socket call .* refused with EPERM" "log line"
assert_saw_nothing "$LOG" "far server"
assert_eq "$(count_lines "$MS" "connected")" 0 "microsocks: connections"

run_bare "$GO386" dial $FAR4:8081
# A kernel without IA32 emulation refuses the file (ENOEXEC; execvp then hands
# it to sh, which cannot read it).
if [ -z "$OUT" ] && printf '%s' "$ERR" | grep -aqE 'Exec format error|cannot execute|Syntax error'; then
    case_begin "SKIP i386 Go program under the supervisor: this kernel runs no 32-bit programs"
    finish
    exit $?
fi
: >"$LOG"

case_begin "lab: the bare i386 Go client reaches the far server directly"
assert_eq "$(kv "$OUT" reply)" "you are $A4_CLI" "bare reply"

case_begin "i386 Go GET by name through SOCKS5 (remote_dns): the proxy resolves and connects"
run_tool "$SOCKS" "$GO386" get v4.example:8080
assert_eq "$RC" 0 "exit status"
assert_eq "$OUT" "body=you are $FAR4" "page"
assert_saw "$WLOG" $FAR4 "web server (the proxy)"
assert_match "$(cat "$MS")" "connected to v4\.example:8080" "microsocks got the name"
assert_eq "$(client_queries)" "" "dnsmasq: queries from the client"
: >"$MS"

case_begin "i386 Go net.Dial to a blocked destination: ECONNREFUSED, nothing arrives"
run_tool "$BLOCK" "$GO386" dial $FAR4:8081
assert_eq "$RC" 1 "exit status"
assert_match "$OUT" "connection refused" "Go's error"
assert_match "$ERR" "supervised connect tcp $FAR4:8081 app=all rule=#1 .* chain=block result=ECONNREFUSED" "decision log"
assert_saw_nothing "$LOG" "far server"

finish
