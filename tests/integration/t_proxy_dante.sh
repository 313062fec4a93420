#!/bin/bash
# Dante: SOCKS5 with username/password (RFC 1929, checked by dante against a user that
# exists only in a private passwd/shadow copy, see proxy_lib.sh) and SOCKS4.
# The far server must see the proxy's external address (203.0.113.2), dante's log the
# client and, for SOCKS5 with a password, the user name. A wrong password must fail
# with EACCES and nothing reaches the far server. Passwords never appear in the
# shim's log (trace level), and a world-readable file holding one draws a warning.
# Verified to fail without the shim (SHIM=/nonexistent): every client reaches the far
# server directly (it sees 192.0.2.1) and no connect fails.
. "$(dirname "$0")/lib.sh"
. "$IT_DIR/proxy_lib.sh"
lab_up
shim_present
srv_start far $FAR4:8081 "[$FAR6]:8081"
srv_start web --http $FAR4:8080
start_dante dauth 1083 username $FAR4 $FAR6
start_dante dnone 1081 none $FAR4 $FAR6
start_microsocks msauth $B4_SRV 1082 -u "$DANTE_USER" -P "$DANTE_PASS"
LOG=$T/far.log WLOG=$T/web.log DA=$T/dauth.log DN=$T/dnone.log
WRONG=wr0ng-pw-xyz

AUTH=$(proxy_conf auth socks5 $B4_SRV:1083 <<EOF
username = $DANTE_USER
password = $DANTE_PASS
connect_timeout = 3s
EOF
)
BAD=$(proxy_conf bad socks5 $B4_SRV:1083 <<EOF
username = $DANTE_USER
password = $WRONG
connect_timeout = 3s
EOF
)
MSAUTH=$(proxy_conf msauth socks5 $B4_SRV:1082 <<EOF
username = $DANTE_USER
password = $DANTE_PASS
handshake = lockstep
connect_timeout = 3s
EOF
)
S4=$(proxy_conf s4 socks4 $B4_SRV:1081 <<<'connect_timeout = 3s')

case_begin "socks5 user/pass via dante: python3 succeeds, dante logs the user, far sees the proxy"
run_bare $PY $PROXY_CLIENT $FAR4 8081
assert_saw "$LOG" $A4_CLI "bare run (lab sanity)"
run_shim "$AUTH" $PY $PROXY_CLIENT $FAR4 8081
assert_eq "$RC" 0 "client exit status"
assert_eq "$(kv "$OUT" reply)" "you are $FAR4" "reply"
assert_saw "$LOG" $FAR4 "far server"
assert_match "$(cat "$DA")" "tcp/connect \[: username%$DANTE_USER@$B4_CLI\.[0-9]+ $B4_SRV\.1083 -> $FAR4\.[0-9]+ $FAR4\.8081" "dante log"
: >"$DA"

case_begin "socks5 user/pass via dante: curl gets the page"
run_shim "$AUTH" curl -sS --max-time 5 http://$FAR4:8080/
assert_eq "$RC" 0 "curl exit status"
assert_eq "$OUT" "you are $FAR4" "page"
assert_saw "$WLOG" $FAR4 "web server"
assert_match "$(cat "$DA")" "username%$DANTE_USER@$B4_CLI" "dante log"
: >"$DA"

case_begin "socks5 wrong password: connect fails with EACCES, far sees nothing"
run_shim "$BAD" $PY $PROXY_CLIENT $FAR4 8081 --fds
assert_eq "$RC" 3 "client exit status"
assert_eq "$(kv "$OUT" errno)" EACCES "errno"
assert_eq "$(kv "$OUT" fd_delta)" 0 "descriptors left open"
assert_saw_nothing "$LOG" "far server"
assert_match "$(cat "$DA")" "password authentication failed for user \"$DANTE_USER\"" "dante log"
assert_match "$ERR" "dialshim: .*EACCES" "the shim's log line"
: >"$DA"

case_begin "passwords never appear in the shim's log (trace level, success and failure)"
for conf in "$AUTH" "$BAD"; do
    in_cli timeout "$CTMO" env LD_PRELOAD="$SHIM" DIALSHIM_CONFIG="$conf" DIALSHIM_LOG=trace \
        $PY $PROXY_CLIENT $FAR4 8081 >"$T/tr.out" 2>"$T/tr.err"
    note "trace log: $(head -c 600 "$T/tr.err" | tr '\n' '|')"
    assert_match "$(cat "$T/tr.err")" "dialshim: " "a trace log was written ($(basename "$conf"))"
    assert_no_match "$(cat "$T/tr.err")" "$DANTE_PASS|$WRONG" "password in the log ($(basename "$conf"))"
done
: >"$LOG"
: >"$DA"

case_begin "a world-readable file holding a password draws a warning (and still works)"
cp "$AUTH" "$T/open.ini"
chmod 644 "$T/open.ini"
run_shim "$T/open.ini" $PY $PROXY_CLIENT $FAR4 8081
assert_eq "$RC" 0 "client exit status"
assert_saw "$LOG" $FAR4 "far server"
assert_match "$ERR" "dialshim: .*(open\.ini|readable|permission|mode)" "warning about the file's mode"
assert_no_match "$ERR" "$DANTE_PASS" "password in the log"
: >"$DA"

case_begin "socks5 user/pass via microsocks (lockstep): python3 succeeds"
run_shim "$MSAUTH" $PY $PROXY_CLIENT $FAR4 8081
assert_eq "$RC" 0 "client exit status"
assert_eq "$(kv "$OUT" reply)" "you are $FAR4" "reply"
assert_saw "$LOG" $FAR4 "far server"
assert_match "$(cat "$T/msauth.log")" "$B4_CLI: connected to $FAR4:8081" "microsocks log"

case_begin "socks4 via dante: python3 and curl succeed, far sees the proxy"
run_shim "$S4" $PY $PROXY_CLIENT $FAR4 8081
assert_eq "$RC" 0 "python client exit status"
assert_eq "$(kv "$OUT" reply)" "you are $FAR4" "reply"
assert_saw "$LOG" $FAR4 "far server (python)"
run_shim "$S4" curl -sS --max-time 5 http://$FAR4:8080/
assert_eq "$RC" 0 "curl exit status"
assert_eq "$OUT" "you are $FAR4" "page"
assert_saw "$WLOG" $FAR4 "web server (curl)"
assert_match "$(cat "$DN")" "tcp/connect \[: $B4_CLI\.[0-9]+ $B4_SRV\.1081 -> $FAR4\.[0-9]+ $FAR4\.8081" "dante log"
: >"$DN"

case_begin "the proxy cannot reach the destination (closed port): socks5 and socks4 give ECONNREFUSED"
for conf in "$S4" "$(proxy_conf s5none socks5 $B4_SRV:1081 <<<'connect_timeout = 3s')"; do
    run_shim "$conf" $PY $PROXY_CLIENT $FAR4 8089 --fds
    assert_eq "$RC" 3 "$(basename "$conf" .ini): client exit status"
    assert_eq "$(kv "$OUT" errno)" ECONNREFUSED "$(basename "$conf" .ini): errno"
    assert_le "$(kv "$OUT" elapsed)" 1 "$(basename "$conf" .ini): seconds in connect"
    assert_eq "$(kv "$OUT" fd_delta)" 0 "$(basename "$conf" .ini): descriptors left open"
done
assert_match "$(cat "$DN")" "$FAR4\.8089" "dante log: it tried the destination"
: >"$DN"

case_begin "socks4 cannot carry an IPv6 destination: the connect fails, nothing goes direct"
run_bare $PY $PROXY_CLIENT $FAR6 8081
assert_saw "$LOG" $A6_CLI "bare run (lab sanity)"
run_shim "$S4" $PY $PROXY_CLIENT $FAR6 8081
assert_eq "$RC" 3 "client exit status"
assert_ne "$(kv "$OUT" errno)" "" "errno"
assert_saw_nothing "$LOG" "far server"

finish
