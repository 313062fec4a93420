#!/bin/bash
# sing-box's keep-alive and transparent fields: tcp_keep_alive / _interval /
# disable_tcp_keep_alive, read back by the program with getsockopt after a connect
# through the shim (and untouched when no key is set); ip_transparent lets
# inet4_bind_address be an address the client host does not have (the far server
# sees it), refused without CAP_NET_ADMIN with the reason named.
# Verified to fail before the keys existed (the old libdialshim.so refuses the
# configuration: every connect fails with EACCES).
. "$(dirname "$0")/lib.sh"
lab_up
shim_present
srv_start far $FAR4:8080
LOG=$T/far.log
chmod 711 "$T"
mkdir -m 755 "$T/pub"
conf() { # NAME: the [dialer d] keys on stdin
    {
        echo "[dialer d]"
        echo "type = direct"
        cat
        printf '\n[app all]\nmatch = *\ndialer = d\n'
    } >"$T/pub/$1.ini"
    chmod 644 "$T/pub/$1.ini"
    echo "$T/pub/$1.ini"
}
# KA PRESET: a blocking connect to FAR4:8080 after the program set SO_KEEPALIVE=1
# and TCP_KEEPIDLE=123 itself (PRESET=1) or nothing; then what getsockopt says.
KA='
import socket, sys
s = socket.socket()
if sys.argv[1] == "1":
    s.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 123)
s.settimeout(None)
s.connect(("203.0.113.2", 8080))
print("reply=%s" % s.makefile().readline().strip())
print("keepalive=%d" % s.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE))
print("idle=%d" % s.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE))
print("intvl=%d" % s.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL))
'
KEEP=$(conf keep <<<'tcp_keep_alive = 5m
tcp_keep_alive_interval = 45s')
OFF=$(conf off <<<'disable_tcp_keep_alive = true')
OTHER=$(conf other <<<'bind_interface = vb')

case_begin "tcp_keep_alive = 5m, tcp_keep_alive_interval = 45s: the program reads them back"
out=$(bare $PY -c "$KA" 0)
assert_eq "$(kv "$out" keepalive),$(kv "$out" idle),$(kv "$out" intvl)" "0,7200,75" "bare: the kernel's defaults"
out=$(shim "$KEEP" $PY -c "$KA" 0)
assert_eq "$?" 0 "client exit status ($out)"
assert_eq "$(kv "$out" keepalive)" 1 "SO_KEEPALIVE"
assert_eq "$(kv "$out" idle)" 300 "TCP_KEEPIDLE"
assert_eq "$(kv "$out" intvl)" 45 "TCP_KEEPINTVL"

case_begin "no keep-alive key: the program's own keep-alive is untouched (set, and not set)"
out=$(shim "$OTHER" $PY -c "$KA" 1)
assert_eq "$(kv "$out" reply)" "you are $B4_CLI" "the dialer's other option took effect"
assert_eq "$(kv "$out" keepalive),$(kv "$out" idle),$(kv "$out" intvl)" "1,123,75" "the program's values"
out=$(shim "$OTHER" $PY -c "$KA" 0)
assert_eq "$(kv "$out" keepalive),$(kv "$out" idle)" "0,7200" "nothing switched on"

case_begin "disable_tcp_keep_alive = true: SO_KEEPALIVE off even though the program set it"
out=$(shim "$OFF" $PY -c "$KA" 1)
assert_eq "$?" 0 "client exit status ($out)"
assert_eq "$(kv "$out" keepalive)" 0 "SO_KEEPALIVE"

case_begin "check: disable_tcp_keep_alive with tcp_keep_alive, and a keep-alive of 1500ms, are errors at FILE:LINE"
BAD=$(conf bad <<<'tcp_keep_alive = 1500ms
disable_tcp_keep_alive = true
tcp_keep_alive_interval = 10s')
out=$("$DIALSHIM" check -c "$BAD" 2>&1)
assert_eq "$?" 2 "check exit status ($out)"
assert_match "$out" "bad.ini:3:.*tcp_keep_alive.*whole seconds" "the duration's line"
assert_match "$out" "bad.ini:4:.*disable_tcp_keep_alive = true contradicts" "the contradiction's line"

# Transparent: 198.51.100.77 is nobody's address. The server routes it back over
# link B, and the client delivers it locally (table 102, the usual TPROXY routing)
# without owning it.
NL=198.51.100.77
ip -n "$SRV" route add $NL/32 via $B4_CLI dev vb
ip -n "$CLI" rule add to $NL/32 table 102 priority 50
ip -n "$CLI" route add local $NL/32 dev lo table 102
TP=$(conf tp <<<"inet4_bind_address = $NL
ip_transparent = true")
NOTP=$(conf notp <<<"inet4_bind_address = $NL")

case_begin "ip_transparent = true: bound to a non-local address, the far server sees it"
: >"$LOG"
out=$(shim "$TP" $PY $PYCLIENT tcp $FAR4 8080)
assert_eq "$?" 0 "client exit status ($out)"
assert_eq "$(kv "$out" reply)" "you are $NL" "reply"
assert_saw "$LOG" $NL "far server"

case_begin "without ip_transparent the bind fails, the log names the option, nothing reaches the server"
: >"$LOG"
out=$(shim "$NOTP" $PY $PYCLIENT tcp $FAR4 8080 2>"$T/err")
assert_eq "$?" 3 "client exit status ($out)"
assert_eq "$(kv "$out" errno)" EADDRNOTAVAIL "errno"
assert_match "$(cat "$T/err")" "inet4_bind_address \(not an address of this host; ip_transparent = true allows that\)" "log"
assert_saw_nothing "$LOG" "far server"

case_begin "ip_transparent without CAP_NET_ADMIN: EPERM, the log says the capability, nothing sent"
: >"$LOG"
out=$(in_cli timeout "$CTMO" setpriv --reuid=nobody --regid=nogroup --clear-groups \
    --inh-caps=-all --bounding-set=-all \
    env LD_PRELOAD="$SHIM" DIALSHIM_CONFIG="$TP" $PY $PYCLIENT tcp $FAR4 8080 2>"$T/err")
assert_eq "$?" 3 "client exit status ($out)"
assert_eq "$(kv "$out" errno)" EPERM "errno"
assert_match "$(cat "$T/err")" "ip_transparent \(IP_TRANSPARENT needs CAP_NET_ADMIN\)" "log"
assert_saw_nothing "$LOG" "far server"

case_begin "explain shows the new options"
out=$(in_cli timeout 5 "$DIALSHIM" explain -c "$KEEP" tcp $FAR4 8080 2>&1)
assert_match "$out" "tcp_keep_alive=300s tcp_keep_alive_interval=45s" "keep-alive"
out=$(in_cli timeout 5 "$DIALSHIM" explain -c "$TP" tcp $FAR4 8080 2>&1)
assert_match "$out" "ip_transparent" "ip_transparent"

finish
