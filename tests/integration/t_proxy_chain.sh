#!/bin/bash
# Chains of proxies of different types (`detour = OTHER`). Each proxy connects out
# from its own address of the server namespace, so every log shows who really talked
# to whom:
#   dante      socks5  198.51.100.2:1081  out from 203.0.113.2
#   tinyproxy  http    192.0.2.2:8888     out from 192.0.2.2
#   tinyproxy  http    198.51.100.2:8890  out from 203.0.113.2
#   microsocks socks5  203.0.113.2:1080   out from 198.51.100.2
#   microsocks socks5  192.0.2.2:1082     out from 192.0.2.2
# The LAST proxy must log the previous proxy's outbound address as its client (never
# the client's 192.0.2.1 / 198.51.100.1), and the far server must see the last proxy.
# `dialshim explain` must print every hop, in order.
# Verified to fail without the shim (SHIM=/nonexistent DIALSHIM=/nonexistent): the
# clients reach the far server directly (192.0.2.1), no proxy logs anything, and
# explain does not run.
. "$(dirname "$0")/lib.sh"
. "$IT_DIR/proxy_lib.sh"
lab_up
shim_present
srv_start far $FAR4:8081
srv_start web --http $FAR4:8080
start_dante dante 1081 none $FAR4
start_tinyproxy tpa $A4_SRV 8888 $A4_SRV 8080 8081 1080
start_tinyproxy tpb $B4_SRV 8890 $FAR4 1082
start_microsocks msf $FAR4 1080 -b $B4_SRV
start_microsocks msa $A4_SRV 1082 -b $A4_SRV
LOG=$T/far.log WLOG=$T/web.log DL=$T/dante.log

SOCKS_HTTP=$(write_conf socks_http <<EOF
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
HTTP_SOCKS=$(write_conf http_socks <<EOF
[dialer first]
type = http
server = $B4_SRV:8890

[dialer second]
type = socks5
server = $A4_SRV:1082
handshake = lockstep
detour = first
connect_timeout = 4s

[app all]
match = *
dialer = second
EOF
)
THREE=$(write_conf three <<EOF
[dialer one]
type = socks5
server = $B4_SRV:1081

[dialer two]
type = http
server = $A4_SRV:8888
detour = one

[dialer three]
type = socks5
server = $FAR4:1080
handshake = lockstep
detour = two
connect_timeout = 4s

[app all]
match = *
dialer = three
EOF
)
BROKEN=$(write_conf broken <<EOF
[dialer first]
type = socks5
server = $B4_SRV:1081

[dialer second]
type = http
server = $A4_SRV:8899
detour = first
connect_timeout = 4s

[app all]
match = *
dialer = second
EOF
)

case_begin "chain socks5 (dante) -> http (tinyproxy): python3; tinyproxy's client is dante, far sees tinyproxy"
run_bare $PY $PROXY_CLIENT $FAR4 8081
assert_saw "$LOG" $A4_CLI "bare run (lab sanity)"
run_shim "$SOCKS_HTTP" $PY $PROXY_CLIENT $FAR4 8081
assert_eq "$RC" 0 "client exit status"
assert_eq "$(kv "$OUT" reply)" "you are $A4_SRV" "reply"
assert_saw "$LOG" $A4_SRV "far server"
assert_match "$(cat "$T/tpa.log")" "Connect \(file descriptor [0-9]+\): $FAR4\$" "tinyproxy log: its client is dante's external address"
assert_no_match "$(cat "$T/tpa.log")" "Connect \(file descriptor [0-9]+\): ($A4_CLI|$B4_CLI)" "tinyproxy log: the client itself"
assert_match "$(cat "$T/tpa.log")" "CONNECT $FAR4:8081 HTTP" "tinyproxy log: the request"
assert_match "$(cat "$DL")" "tcp/connect \[: $B4_CLI\.[0-9]+ $B4_SRV\.1081 -> $FAR4\.[0-9]+ $A4_SRV\.8888" "dante log: asked for tinyproxy"
: >"$T/tpa.log"
: >"$DL"

case_begin "chain socks5 -> http: curl gets the page"
run_shim "$SOCKS_HTTP" curl -sS --max-time 5 http://$FAR4:8080/
assert_eq "$RC" 0 "curl exit status"
assert_eq "$OUT" "you are $A4_SRV" "page"
assert_saw "$WLOG" $A4_SRV "web server"
assert_match "$(cat "$T/tpa.log")" "Connect \(file descriptor [0-9]+\): $FAR4\$" "tinyproxy log"
: >"$T/tpa.log"
: >"$DL"

case_begin "chain http (tinyproxy) -> socks5 (microsocks): microsocks' client is tinyproxy, far sees microsocks"
run_shim "$HTTP_SOCKS" $PY $PROXY_CLIENT $FAR4 8081
assert_eq "$RC" 0 "client exit status"
assert_eq "$(kv "$OUT" reply)" "you are $A4_SRV" "reply"
assert_saw "$LOG" $A4_SRV "far server"
assert_match "$(cat "$T/msa.log")" "client\[[0-9]+\] $FAR4: connected to $FAR4:8081" "microsocks log: its client is tinyproxy's Bind address"
assert_match "$(cat "$T/tpb.log")" "Connect \(file descriptor [0-9]+\): $B4_CLI" "first tinyproxy: the client"
assert_match "$(cat "$T/tpb.log")" "CONNECT $A4_SRV:1082 HTTP" "first tinyproxy: asked for microsocks"
: >"$T/msa.log"
: >"$T/tpb.log"

case_begin "chain of three (socks5 -> http -> socks5): each proxy sees the one before it"
run_shim "$THREE" $PY $PROXY_CLIENT $FAR4 8081
assert_eq "$RC" 0 "client exit status"
assert_eq "$(kv "$OUT" reply)" "you are $B4_SRV" "reply"
assert_saw "$LOG" $B4_SRV "far server (the third proxy's -b address)"
assert_match "$(cat "$DL")" "tcp/connect \[: $B4_CLI\.[0-9]+ $B4_SRV\.1081 -> $FAR4\.[0-9]+ $A4_SRV\.8888" "dante: client, asked for tinyproxy"
assert_match "$(cat "$T/tpa.log")" "Connect \(file descriptor [0-9]+\): $FAR4\$" "tinyproxy: its client is dante"
assert_match "$(cat "$T/tpa.log")" "CONNECT $FAR4:1080 HTTP" "tinyproxy: asked for microsocks"
assert_match "$(cat "$T/msf.log")" "client\[[0-9]+\] $A4_SRV: connected to $FAR4:8081" "microsocks: its client is tinyproxy"
: >"$DL"
: >"$T/tpa.log"

case_begin "chain socks5 (dante) -> socks5 (microsocks, handshake = auto): the retry redoes the whole chain"
AUTO2=$(write_conf auto2 <<EOF
[dialer first]
type = socks5
server = $B4_SRV:1081

[dialer second]
type = socks5
server = $A4_SRV:1082
detour = first
connect_timeout = 4s

[app all]
match = *
dialer = second
EOF
)
run_shim "$AUTO2" $PY $PROXY_CLIENT $FAR4 8081 --count=2
assert_eq "$RC" 0 "client exit status"
assert_eq "$(kv "$OUT" reply1)" "you are $A4_SRV" "first connection's reply"
assert_eq "$(kv "$OUT" reply2)" "you are $A4_SRV" "second connection's reply"
assert_saw "$LOG" "$A4_SRV $A4_SRV" "far server"
assert_match "$(cat "$T/msa.log")" "client\[[0-9]+\] $FAR4: connected to $FAR4:8081" "microsocks log: its client is dante"
assert_no_match "$(cat "$T/msa.log")" "client\[[0-9]+\] ($A4_CLI|$B4_CLI):" "microsocks log: the client itself"
: >"$T/msa.log"
: >"$DL"

case_begin "chain of two microsocks (handshake = auto, neither pipelines): each hop learns lockstep in turn"
AUTO3=$(write_conf auto3 <<EOF
[dialer first]
type = socks5
server = $FAR4:1080

[dialer second]
type = socks5
server = $A4_SRV:1082
detour = first
connect_timeout = 8s

[app all]
match = *
dialer = second
EOF
)
: >"$LOG"
: >"$T/msf.log"
: >"$T/msa.log"
run_shim "$AUTO3" $PY $PROXY_CLIENT $FAR4 8081 --count=2
assert_eq "$RC" 0 "client exit status"
assert_eq "$(kv "$OUT" reply1)" "you are $A4_SRV" "first connection's reply"
assert_eq "$(kv "$OUT" reply2)" "you are $A4_SRV" "second connection's reply"
assert_saw "$LOG" "$A4_SRV $A4_SRV" "far server"
assert_match "$(cat "$T/msa.log")" "client\[[0-9]+\] $B4_SRV: connected to $FAR4:8081" "second microsocks: its client is the first"
: >"$T/msf.log"
: >"$T/msa.log"

case_begin "chain whose second proxy is down: the first proxy's refusal fails the connect, nothing direct"
run_shim "$BROKEN" $PY $PROXY_CLIENT $FAR4 8081 --fds
assert_eq "$RC" 3 "client exit status"
assert_match "$(kv "$OUT" errno)" "^(ECONNREFUSED|EHOSTUNREACH|ENETUNREACH)$" "errno"
assert_eq "$(kv "$OUT" fd_delta)" 0 "descriptors left open"
assert_match "$ERR" "dialshim: .*chain=first>second result=E[A-Z]+ .*first" "the log line names the failing hop"
assert_saw_nothing "$LOG" "far server"

case_begin "the first hop's connect_timeout bounds the connect to the first proxy (as explain shows it)"
# first's server is the silent address: its SYNs vanish. explain lists
# `connect_timeout=1000ms` among hop 1's options; the last dialer sets none.
SLOW=$(write_conf slow <<EOF
[dialer first]
type = socks5
server = $SILENT4:1080
connect_timeout = 1s

[dialer second]
type = http
server = $A4_SRV:8888
detour = first

[app all]
match = *
dialer = second
EOF
)
in_cli timeout "$CTMO" "$DIALSHIM" explain -c "$SLOW" tcp $FAR4 8081 >"$T/explain.out" 2>&1
note "explain: $(tr '\n' '|' <"$T/explain.out")"
run_shim "$SLOW" $PY $PROXY_CLIENT $FAR4 8081
assert_eq "$RC" 3 "client exit status (124: still in connect when the ${CTMO}s limit killed it)"
assert_eq "$(kv "$OUT" errno)" ETIMEDOUT "errno"
assert_le "$(kv "$OUT" elapsed)" 3 "seconds in connect"
assert_saw_nothing "$LOG" "far server"

case_begin "dialshim explain prints every hop of a chain, first to last"
in_cli timeout "$CTMO" "$DIALSHIM" explain -c "$THREE" tcp $FAR4 8081 >"$T/explain.out" 2>&1
assert_eq "$?" 0 "explain exit status"
EXP=$(cat "$T/explain.out")
note "explain: $(tr '\n' '|' <<<"$EXP")"
assert_match "$EXP" "one.*two.*three" "the chain in order on one line"
assert_match "$EXP" "one.*$B4_SRV:1081" "hop one and its server"
assert_match "$EXP" "two.*$A4_SRV:8888" "hop two and its server"
assert_match "$EXP" "three.*$FAR4:1080" "hop three and its server"
assert_match "$EXP" "$FAR4:8081" "the destination"
n1=$(grep -n "$B4_SRV:1081" <<<"$EXP" | head -n 1 | cut -d: -f1)
n3=$(grep -n "$FAR4:1080" <<<"$EXP" | head -n 1 | cut -d: -f1)
assert_le "${n1:-99}" "${n3:-0}" "line of hop one before the line of hop three"
assert_saw_nothing "$LOG" "far server (explain opens no connection)"

case_begin "a detour cycle is a configuration error (check exits 2 with FILE:LINE) and fails closed"
CYCLE=$(write_conf cycle <<EOF
[dialer a]
type = socks5
server = $B4_SRV:1081
detour = b

[dialer b]
type = http
server = $A4_SRV:8888
detour = a

[app all]
match = *
dialer = b
EOF
)
in_cli timeout "$CTMO" "$DIALSHIM" check -c "$CYCLE" >"$T/check.out" 2>&1
assert_eq "$?" 2 "check exit status"
assert_match "$(cat "$T/check.out")" "cycle.ini:[0-9]+: .*(cycle|loop)" "check's message"
run_shim "$CYCLE" $PY $PROXY_CLIENT $FAR4 8081
assert_eq "$RC" 3 "client exit status"
assert_eq "$(kv "$OUT" errno)" EACCES "errno (fail_closed)"
assert_saw_nothing "$LOG" "far server"

finish
