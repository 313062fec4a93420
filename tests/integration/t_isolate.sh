#!/bin/bash
# isolate on a SOCKS5 dialer (Tor's IsolateSOCKSAuth, torsocks's IsolatePID): with
# `process` every process sends a username of its own (dialshim-PID-STARTTIME,
# the same for all its connections), with `app` every process of one [app] sends
# the same one. A SOCKS5 server that takes any credentials logs each username it
# received (AUTH lines). Refused together with username/password (FILE:LINE).
# Verified to fail before isolate existed (the old libdialshim.so refuses the
# configuration: nothing reaches the proxy).
. "$(dirname "$0")/lib.sh"
. "$IT_DIR/proxy_lib.sh"
lab_up
shim_present
start_fake any socks5 $B4_SRV:1130 --auth '*'
PLOG=$T/any.log
PROC=$(proxy_conf proc socks5 $B4_SRV:1130 <<<'isolate = process
connect_timeout = 3s')
APP=$(proxy_conf app socks5 $B4_SRV:1130 <<<'isolate = app
handshake = lockstep
connect_timeout = 3s')
# two connects in one process, each reading the proxy's banner line
TWO='
import socket
for i in range(2):
    s = socket.create_connection(("203.0.113.2", 8080))
    print("reply%d=%s" % (i, s.makefile().readline().strip()))
    s.close()
'
users() { sed -n 's/^AUTH \([^ ]*\) ok$/\1/p' "$PLOG"; }

case_begin "isolate = process: two processes send two usernames, each its own for all its connects"
: >"$PLOG"
out1=$(shim "$PROC" $PY -c "$TWO")
rc1=$?
out2=$(shim "$PROC" $PY -c "$TWO")
rc2=$?
assert_eq "$rc1,$rc2" "0,0" "client exit statuses ($out1 / $out2)"
assert_eq "$(kv "$out1" reply1)" "SSH-2.0-test" "the tunnel's first line"
assert_eq "$(users | wc -l)" 4 "authentications at the proxy"
assert_eq "$(users | sort -u | wc -l)" 2 "distinct usernames"
assert_match "$(users | head -n 1)" "^dialshim-[0-9]+-[0-9]+$" "the username's form"
assert_eq "$(users | sed -n 1p)" "$(users | sed -n 2p)" "one process, one username"

case_begin "isolate = app: two processes of one [app] send the same username"
: >"$PLOG"
out1=$(shim "$APP" $PY -c "$TWO")
rc1=$?
out2=$(shim "$APP" $PY -c "$TWO")
rc2=$?
assert_eq "$rc1,$rc2" "0,0" "client exit statuses ($out1 / $out2)"
assert_eq "$(users | wc -l)" 4 "authentications at the proxy"
assert_eq "$(users | sort -u)" "dialshim-app-all" "the one username"
out=$(in_cli timeout 5 "$DIALSHIM" explain -c "$APP" tcp $FAR4 8080 2>&1)
assert_match "$out" "isolate=app: username dialshim-app-APP" "explain"

case_begin "check: isolate with username, and isolate on a non-socks5 dialer, are errors at FILE:LINE"
BAD=$(proxy_conf bad socks5 $B4_SRV:1130 <<<'username = me
isolate = process')
out=$("$DIALSHIM" check -c "$BAD" 2>&1)
assert_eq "$?" 2 "check exit status ($out)"
assert_match "$out" "bad.ini:5:.*isolate = process cannot be combined with username/password" "the line"
BAD=$(proxy_conf bad2 http $B4_SRV:1130 <<<'isolate = app')
out=$("$DIALSHIM" check -c "$BAD" 2>&1)
assert_match "$out" "bad2.ini:4:.*isolate is only allowed for type socks5" "http"

finish
