#!/bin/bash
# SOCKS5 credentials go only to a proxy that asked for them. Under the default
# `handshake = auto`, a dialer with username/password waits for the method reply
# on first contact: a proxy that chooses "no auth" or "no acceptable methods"
# never receives the RFC 1929 sub-negotiation (the fake proxy logs every byte it
# got, RECV <hex>). Once the proxy has chosen username/password, later connects
# pipeline (the fake proxy sees the request bytes before its method reply: EARLY
# N > 0). `handshake = pipelined`, set explicitly, still sends them at once.
# Verified to fail before the change: auto pipelined the credentials on first
# contact (the no-auth proxy's RECV held the username and password).
. "$(dirname "$0")/lib.sh"
. "$IT_DIR/proxy_lib.sh"
lab_up
shim_present
srv_start far $FAR4:8081
LOG=$T/far.log
start_fake noauth socks5 $B4_SRV:1120 --early
start_fake noneok socks5 $B4_SRV:1121 --method 255
start_fake up socks5 $B4_SRV:1122 --early --auth "$DANTE_USER:$DANTE_PASS"
USER_HEX=$(printf '%s' "$DANTE_USER" | od -An -tx1 | tr -d ' \n')
PASS_HEX=$(printf '%s' "$DANTE_PASS" | od -An -tx1 | tr -d ' \n')

creds_conf() { # NAME PORT [handshake]
    proxy_conf "$1" socks5 $B4_SRV:$2 <<EOF
username = $DANTE_USER
password = $DANTE_PASS
connect_timeout = 3s
${3:+handshake = $3}
EOF
}

# no_creds_in FAKE WHAT: what reached the fake proxy (RECV: read; EARLY: arrived
# before its method reply) holds neither username nor password
no_creds_in() {
    local got
    got=$(grep -E '^(RECV|EARLY) ' "$T/$1.log")
    assert_match "$got" "^RECV 05" "$2: the proxy logged what it got"
    assert_no_match "$got" "$USER_HEX|$PASS_HEX" "$2: credentials in what the proxy received"
}

case_begin "auto with a password, the proxy chooses no auth: the connects succeed, the proxy never gets the credentials"
run_shim "$(creds_conf noauth 1120)" $PY $PROXY_CLIENT $FAR4 8081 --first --count=2
assert_eq "$RC" 0 "client exit status ($OUT)"
assert_eq "$(kv "$OUT" first1)" "b'SSH-2.0-test\\r\\n'" "first connection's first bytes"
assert_eq "$(kv "$OUT" first2)" "b'SSH-2.0-test\\r\\n'" "second connection's first bytes"
assert_eq "$(count_lines "$T/noauth.log" '^REQ 203\.0\.113\.2 8081 cmd=1$')" 2 "CONNECTs the proxy got"
no_creds_in noauth "no auth"
assert_eq "$(count_lines "$T/noauth.log" '^EARLY 0 $')" 2 "connects that waited for the method reply"
assert_saw_nothing "$LOG" "far server (the fake proxy connects nowhere)"

case_begin "auto with a password, the proxy accepts no method: EACCES, the proxy never gets the credentials"
run_shim "$(creds_conf noneok 1121)" $PY $PROXY_CLIENT $FAR4 8081 --fds
assert_eq "$RC" 3 "client exit status"
assert_eq "$(kv "$OUT" errno)" EACCES "errno"
assert_eq "$(kv "$OUT" fd_delta)" 0 "descriptors left open"
no_creds_in noneok "no acceptable method"
assert_saw_nothing "$LOG" "far server"

case_begin "auto, the proxy chooses username/password: first contact lockstep, later connects pipelined"
: >"$T/up.log"
run_shim "$(creds_conf up 1122)" $PY $PROXY_CLIENT $FAR4 8081 --first --count=3
assert_eq "$RC" 0 "client exit status ($OUT)"
for k in 1 2 3; do
    assert_eq "$(kv "$OUT" first$k)" "b'SSH-2.0-test\\r\\n'" "connection $k's first bytes"
done
assert_eq "$(count_lines "$T/up.log" "^AUTH $DANTE_USER ok$")" 3 "good RFC 1929 exchanges"
assert_eq "$(grep '^EARLY ' "$T/up.log" | cut -d' ' -f2 | tr '\n' ' ')" "0 29 29 " \
    "bytes before the method reply: none on first contact, then credentials (19 bytes) and CONNECT (10)"

case_begin "handshake = pipelined set explicitly: the credentials go with the greeting (the no-auth proxy gets them)"
: >"$T/noauth.log"
run_shim "$(creds_conf noauthp 1120 pipelined)" $PY $PROXY_CLIENT $FAR4 8081
assert_match "$(grep '^EARLY ' "$T/noauth.log")" "^EARLY [1-9][0-9]* 01[0-9a-f]{2}$USER_HEX" \
    "RFC 1929 before the method reply (the test can see credentials)"

finish
