#!/bin/bash
# protect_path: each socket is handed (SCM_RIGHTS) to a unix socket server, which
# here marks it 0x64 (so the fwmark rule routes it by link B) before answering the
# one byte the shim waits for. The far server must see link B; the protect server
# must have received the socket. A server that never answers, or no server at all,
# fails the connect and nothing is sent.
# Verified to fail without the shim (SHIM=/nonexistent): link A, nothing handed over,
# and the failing cases connect.
. "$(dirname "$0")/lib.sh"
lab_up
shim_present
srv_start far $FAR4:8080 "[$FAR6]:8080"
srv_start udp --udp $FAR4:5353
protect_start prot "$T/protect.sock" --mark 0x64
protect_start mute "$T/mute.sock" --silent
protect_start stall "$T/stall.sock" --stall
LOG=$T/far.log ULOG=$T/udp.log PLOG=$T/prot.log

prot_conf() { # NAME PATH
    write_conf "$1" <<EOF
[dialer prot]
type = direct
protect_path = $2
connect_timeout = 3s

[app all]
match = *
dialer = prot
EOF
}
PROT=$(prot_conf prot "$T/protect.sock")
MUTE=$(prot_conf mute "$T/mute.sock")
NONE=$(prot_conf none "$T/nobody.sock")
STALL=$(prot_conf stall "$T/stall.sock")

case_begin "protect_path: the socket is handed over, marked by the server, and leaves by link B"
bare $PY $PYCLIENT tcp $FAR4 8080 >/dev/null
assert_saw "$LOG" $A4_CLI "bare run"
out=$(shim "$PROT" $PY $PYCLIENT tcp $FAR4 8080)
assert_eq "$?" 0 "client exit status ($out)"
assert_eq "$(kv "$out" reply)" "you are $B4_CLI" "reply"
assert_saw "$LOG" $B4_CLI "far server"
assert_eq "$(grep -c '^PROTECT 2 1$' "$PLOG")" 1 "sockets the protect server got (AF_INET, SOCK_STREAM)"
: >"$PLOG"

case_begin "protect_path: IPv6 TCP and the C client"
out=$(shim "$PROT" "$TCPINFO" $FAR6 8080)
assert_eq "$?" 0 "tcpinfo exit status ($out)"
assert_saw "$LOG" $B6_CLI "far server"
assert_eq "$(grep -c '^PROTECT 10 1$' "$PLOG")" 1 "sockets the protect server got (AF_INET6, SOCK_STREAM)"
: >"$PLOG"

case_begin "protect_path: a UDP socket is handed over on its first sendto"
out=$(shim "$PROT" $PY $PYCLIENT udp $FAR4 5353)
assert_eq "$(kv "$out" reply)" "you are $B4_CLI" "reply"
assert_saw "$ULOG" $B4_CLI "UDP server"
assert_eq "$(grep -c '^PROTECT 2 2$' "$PLOG")" 1 "sockets the protect server got (AF_INET, SOCK_DGRAM)"
: >"$PLOG"

case_begin "protect_path: a server that closes without its byte fails the connect, nothing sent"
out=$(shim "$MUTE" $PY $PYCLIENT tcp $FAR4 8080 2>"$T/err")
assert_eq "$?" 3 "client exit status ($out)"
assert_match "$out" '^errno=E[A-Z]+' "an errno"
assert_le "$(kv "$out" elapsed)" 3.5 "seconds in connect"
assert_saw_nothing "$LOG" "far server"
assert_match "$(cat "$T/mute.log")" '^PROTECT' "the silent server got the socket"

case_begin "protect_path: a server that never answers: the connect fails within connect_timeout (3s)"
out=$(shim "$STALL" $PY $PYCLIENT tcp $FAR4 8080 2>"$T/err")
assert_eq "$?" 3 "client exit status ($out)"
assert_match "$out" '^errno=E[A-Z]+' "an errno"
assert_eq "$(kv "$out" errno)" ETIMEDOUT "errno (a timeout)"
assert_le "$(kv "$out" elapsed)" 4.5 "seconds in connect"
assert_saw_nothing "$LOG" "far server"

case_begin "protect_path: no server at the path fails the connect, nothing sent"
out=$(shim "$NONE" $PY $PYCLIENT tcp $FAR4 8080 2>"$T/err")
assert_eq "$?" 3 "client exit status ($out)"
assert_match "$out" '^errno=E[A-Z]+' "an errno"
assert_saw_nothing "$LOG" "far server"

finish
