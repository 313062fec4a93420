#!/bin/bash
# Nothing a sandbox may forbid: the client runs under a seccomp filter shaped like a
# browser's network-service sandbox (build/tests/sandbox: an allowlist; getpeername
# and any call not listed kill the process with SIGSYS; SO_BINDTODEVICE fails with
# EPERM), with the shim loaded under it and logging at debug. A direct connect, a
# connect by name through SOCKS5 (remote_dns) and a UDP datagram through a SOCKS5
# association must work (the far side saw them), and an option the sandbox refuses
# fails the call with a log line that names the option, nothing sent.
# Verified to fail on the code before the fix: the UDP association's log line
# asked the kernel for the control connection's peer (getpeername) and the
# process died of SIGSYS (rc 159).
. "$(dirname "$0")/lib.sh"
. "$IT_DIR/proxy_lib.sh"
lab_up
shim_present
NETNS_SRV_ETC=/etc/netns/$SRV
sb_down() {
    local rc=$?
    rm -rf "$NETNS_SRV_ETC"
    rmdir /etc/netns 2>/dev/null
    (exit "$rc")
    lab_down
}
trap sb_down EXIT
for _i in 1 2 3 4 5; do
    mkdir -p "$NETNS_SRV_ETC" 2>/dev/null &&
        printf '127.0.0.1 localhost\n203.0.113.2 far.example\n' >"$NETNS_SRV_ETC/hosts" 2>/dev/null &&
        break
    sleep 0.1
done
srv_start far $FAR4:8081
srv_start udp --udp $FAR4:5353
start_dante dante 1081 none $FAR4
LOG=$T/far.log ULOG=$T/udp.log DL=$T/dante.log
SB=$BUILD/tests/sandbox
TCPINFO=$BUILD/tests/tcpinfo

case_begin "lab: the filter lets a bare client connect, and kills on getpeername"
run_bare "$SB" "$TCPINFO" $FAR4 8081
assert_eq "$RC" 0 "bare client under the filter ($OUT)"
run_bare "$SB" getpeername
assert_eq "$RC" 159 "getpeername: SIGSYS"

case_begin "direct connect with routing_mark under the filter: link B"
: >"$LOG"
CFG=$(write_conf mark <<'EOF'
[dialer m]
type = direct
routing_mark = 0x64

[app all]
match = *
dialer = m
EOF
)
run_shim "$CFG" "$SB" "$TCPINFO" $FAR4 8081
assert_eq "$RC" 0 "exit status ($OUT)"
assert_eq "$(kv "$OUT" reply)" "you are $B4_CLI" "reply"
assert_saw "$LOG" $B4_CLI "far server"

case_begin "connect by name through SOCKS5 (remote_dns) under the filter"
: >"$LOG"
: >"$DL"
RDNS=$(proxy_conf rdns socks5 $B4_SRV:1081 <<<'remote_dns = true')
run_shim "$RDNS" "$SB" "$TCPINFO" far.example 8081
assert_eq "$RC" 0 "exit status ($OUT)"
assert_eq "$(kv "$OUT" reply)" "you are $FAR4" "reply (dante's external address)"
assert_saw "$LOG" $FAR4 "far server"
assert_match "$(cat "$DL")" "tcp/connect .*$B4_CLI\.[0-9]+ $B4_SRV\.1081 -> .*$FAR4\.8081" "dante's log"

case_begin "UDP through a SOCKS5 association under the filter (log at debug)"
: >"$ULOG"
P=$(proxy_conf p socks5 $B4_SRV:1081 <<<'connect_timeout = 3s')
run_shim "$P" "$SB" udp $FAR4 5353
assert_eq "$RC" 0 "exit status ($OUT)"
assert_eq "$(kv "$OUT" reply)" "you are $FAR4" "answer (the far server saw dante)"
assert_saw "$ULOG" $FAR4 "far echo server (through dante)"
assert_match "$ERR" "udp association via p created" "the shim's log"

case_begin "bind_interface refused by the sandbox: EPERM, the log names the option, nothing sent"
: >"$LOG"
CFG=$(write_conf bif <<'EOF'
[dialer b]
type = direct
bind_interface = vb

[app all]
match = *
dialer = b
EOF
)
run_shim "$CFG" "$SB" "$TCPINFO" $FAR4 8081
assert_eq "$RC" 3 "exit status ($OUT)"
assert_eq "$(kv "$OUT" errno)" EPERM "errno"
assert_match "$ERR" "bind_interface" "the log names the option"
assert_saw_nothing "$LOG" "far server"

finish
