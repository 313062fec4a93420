#!/bin/bash
# Small thread stacks: a thread with PTHREAD_STACK_MIN (16 KiB) of stack looks a
# name up and talks through every kind of path the shim has: its own resolver
# (real and fake_ip mode), SOCKS5, HTTP CONNECT, a two-hop chain, and a datagram
# through a SOCKS5 UDP association. Each must succeed (the far side saw it, from
# the address the path implies) where the bare program works, never crash.
# Verified to fail on the code before: the HTTP hop, the chain and the lookups
# died with SIGSEGV (the thread's guard page).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/names_lib.sh"
. "$IT_DIR/proxy_lib.sh"
names_lab_up
shim_present
dns_start
STACK16=$BUILD/tests/stack16
srv_start far $FAR4:8081
srv_start farudp --udp --echo $FAR4:5353
start_microsocks ms $FAR4 1080 -b $B4_SRV
start_tinyproxy tp $A4_SRV 8888 $A4_SRV 8081
start_dante dante 1081 none $FAR4
LOG=$T/far.log ULOG=$T/farudp.log DL=$T/dante.log

resolver_conf() { # NAME MODE
    write_conf "$1" <<EOF
[resolver r]
servers = $A4_SRV
mode = $2
timeout = 1s

[dialer d]
type = direct
domain_resolver = r

[app all]
match = *
dialer = d
EOF
}

CHAIN=$(write_conf chain <<EOF
[dialer first]
type = socks5
server = $B4_SRV:1081

[dialer second]
type = http
server = $A4_SRV:8888
detour = first
connect_timeout = 4s

[app all]
match = *
dialer = second
EOF
)

# small MODE CONF HOST PORT EXPECTED_REPLY [MAX_ADDED]: the 16 KiB thread through
# the shim. The stack the same exchange uses on a painted stack through the shim
# goes to the diagnostics (VERBOSE=1); with MAX_ADDED, what it uses beyond the bare
# connect's must stay within it (the deep work runs on a stack of the shim's own).
small() {
    local used
    used=$(in_cli timeout "$CTMO" env STACK16_MEASURE=1 LD_PRELOAD="$SHIM" DIALSHIM_CONFIG="$2" \
        "$STACK16" "$1" "$3" "$4" 2>/dev/null | sed -n 's/^stack_used=//p')
    note "stack used through the shim: ${used:-?} bytes"
    [ -n "${6:-}" ] && assert_le "$((${used:-99999} - ${BARE_USED:-0}))" "$6" \
        "bytes of the program's stack the shim adds (bare $BARE_USED, shim ${used:-?})"
    : >"$LOG"
    : >"$ULOG"
    run_shim "$2" "$STACK16" "$1" "$3" "$4"
    assert_eq "$RC" 0 "exit status (139 = SIGSEGV) $OUT"
    assert_eq "$(kv "$OUT" reply)" "$5" "reply"
}

case_begin "bare: the 16 KiB thread connects (the probe itself fits)"
BARE_USED=$(bare env STACK16_MEASURE=1 "$STACK16" tcp $FAR4 8081 | sed -n 's/^stack_used=//p')
note "stack used bare: $BARE_USED bytes"
[ -n "$BARE_USED" ] || fail "no stack measure of the bare connect"
: >"$LOG"
run_bare "$STACK16" tcp $FAR4 8081
assert_eq "$RC" 0 "exit status $OUT"
assert_saw "$LOG" $A4_CLI "far server"

case_begin "getaddrinfo and connect through the shim's resolver (real addresses)"
small tcp "$(resolver_conf real real)" www.example 8081 "you are $A4_CLI" 4096
assert_saw "$LOG" $A4_CLI "far server"

case_begin "getaddrinfo (fake_ip) and connect to the fake address"
small tcp "$(resolver_conf fake fake_ip)" www.example 8081 "you are $A4_CLI" 4096
assert_saw "$LOG" $A4_CLI "far server"

case_begin "SOCKS5"
small tcp "$(proxy_conf s5 socks5 $FAR4:1080 </dev/null)" $FAR4 8081 "you are $B4_SRV" 4096
assert_saw "$LOG" $B4_SRV "far server"

case_begin "HTTP CONNECT"
small tcp "$(proxy_conf http http $A4_SRV:8888 </dev/null)" $FAR4 8081 "you are $A4_SRV" 4096
assert_saw "$LOG" $A4_SRV "far server"

case_begin "a two-hop chain (SOCKS5 then HTTP CONNECT)"
: >"$DL"
small tcp "$CHAIN" $FAR4 8081 "you are $A4_SRV" 4096
assert_saw "$LOG" $A4_SRV "far server"
assert_match "$(cat "$DL")" "$A4_SRV\.8888" "dante carried the connection to the HTTP proxy"

case_begin "a datagram through a SOCKS5 UDP association"
small udp "$(proxy_conf udp socks5 $B4_SRV:1081 </dev/null)" $FAR4 5353 "you are $FAR4" 4096
assert_saw "$ULOG" $FAR4 "far UDP server"

finish
