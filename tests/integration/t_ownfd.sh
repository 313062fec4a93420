#!/bin/bash
# The shim's own descriptors (the log file, the control connections of a SOCKS5
# UDP association) stay out of the program's way: a program that closes every
# descriptor it did not open (closefrom, close_range, a loop of close) and opens
# a file gets a file that holds only its own bytes, the shim's log lines still go
# to the log file, and an association keeps working; its cleanup never closes the
# program's file.
# Verified to fail on the code before: the log lines landed in the program's
# file; the association's second datagram failed (ECONNRESET) and closing the
# socket closed the program's file (its write failed with EBADF).
. "$(dirname "$0")/lib.sh"
. "$IT_DIR/proxy_lib.sh"
lab_up
shim_present
CLOSEALL=$BUILD/tests/closeall
srv_start farudp --udp $FAR4:5353
start_dante dante 1081 none $FAR4
ULOG=$T/farudp.log

BLOCK=$(write_conf block <<EOF
[app all]
match = *
route = port:8081 -> block
EOF
)
UDP=$(proxy_conf udp socks5 $B4_SRV:1081 <<<'connect_timeout = 3s')

for how in closefrom range loop; do
    case_begin "log file, $how: the program's file holds its own bytes, the log its lines"
    rm -f "$T/mine" "$T/shim.log"
    out=$(in_cli timeout "$CTMO" env LD_PRELOAD="$SHIM" DIALSHIM_CONFIG="$BLOCK" \
        DIALSHIM_LOG=info DIALSHIM_LOG_FILE="$T/shim.log" \
        "$CLOSEALL" log $how "$T/mine" $FAR4 8081 2>&1)
    note "$(printf '%s' "$out" | tr '\n' '|')"
    assert_eq "$(kv "$out" write)" ok "the program's write"
    assert_eq "$(cat "$T/mine" 2>/dev/null)" mine "the program's file"
    assert_eq "$(grep -c "$FAR4:8081.*result=ECONNREFUSED" "$T/shim.log" 2>/dev/null)" 2 \
        "blocked-connect lines in the log file"
done

for how in range loop; do
    case_begin "UDP association, $how: keeps working, its cleanup leaves the program's file"
    rm -f "$T/mine"
    run_shim "$UDP" "$CLOSEALL" udp $how "$T/mine" $FAR4 5353
    assert_eq "$(kv "$OUT" first)" "you are $FAR4" "first reply (through the proxy)"
    assert_eq "$(kv "$OUT" second)" "you are $FAR4" "second reply, after the close-all"
    assert_eq "$(kv "$OUT" write)" ok "the program's write after closing the socket"
    assert_eq "$(cat "$T/mine" 2>/dev/null)" mine "the program's file"
    assert_eq "$(peers "$ULOG" | sort -u | tr '\n' ' ')" "$FAR4 " "far server saw only the proxy"
    : >"$ULOG"
done

finish
