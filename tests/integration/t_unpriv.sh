#!/bin/bash
# An unprivileged program (uid nobody, no capabilities) in the client namespace.
# SO_BINDTODEVICE needs no privilege (Linux >= 5.7): bind_interface must still work.
# SO_MARK needs CAP_NET_ADMIN: the kernel refuses routing_mark, and the shim must
# then fail the connect (the kernel's errno) with one log line naming the option,
# never connect silently without the mark.
# Verified to fail without the shim (SHIM=/nonexistent): link A for bind_interface,
# and the routing_mark client connects.
. "$(dirname "$0")/lib.sh"
lab_up
shim_present
srv_start far $FAR4:8080
LOG=$T/far.log

# files the unprivileged user can read
chmod 711 "$T"
mkdir -m 755 "$T/pub"
pub_conf() { # NAME OPTION
    cat >"$T/pub/$1.ini" <<EOF
[dialer d]
type = direct
$2

[app all]
match = *
dialer = d
EOF
    chmod 644 "$T/pub/$1.ini"
    echo "$T/pub/$1.ini"
}
VB=$(pub_conf vb 'bind_interface = vb')
MARK=$(pub_conf mark 'routing_mark = 0x64')

# nobody CONF CMD...: as uid/gid nobody with no capabilities at all, through the shim
nobody() {
    local conf=$1
    shift
    in_cli timeout "$CTMO" setpriv --reuid=nobody --regid=nogroup --clear-groups \
        --inh-caps=-all --bounding-set=-all \
        env LD_PRELOAD="$SHIM" DIALSHIM_CONFIG="$conf" "$@"
}

case_begin "unprivileged program: bind_interface = vb still takes link B"
out=$(in_cli timeout "$CTMO" setpriv --reuid=nobody --regid=nogroup --clear-groups \
    --inh-caps=-all --bounding-set=-all $PY $PYCLIENT tcp $FAR4 8080)
assert_eq "$(kv "$out" reply)" "you are $A4_CLI" "bare run as nobody"
assert_saw "$LOG" $A4_CLI "bare run as nobody"
out=$(nobody "$VB" $PY $PYCLIENT tcp $FAR4 8080)
assert_eq "$?" 0 "client exit status ($out)"
assert_eq "$(kv "$out" reply)" "you are $B4_CLI" "reply"
assert_saw "$LOG" $B4_CLI "server"

case_begin "unprivileged program: routing_mark is refused by the kernel, so the connect fails (EPERM), no silent fallback"
out=$(nobody "$MARK" $PY $PYCLIENT tcp $FAR4 8080 2>"$T/err")
assert_eq "$?" 3 "client exit status ($out)"
assert_eq "$(kv "$out" errno)" EPERM "errno (the kernel's)"
assert_match "$(cat "$T/err")" 'routing_mark' "a log line naming the option"
assert_eq "$(grep -c 'routing_mark' "$T/err")" 1 "log lines naming the option"
assert_saw_nothing "$LOG" "server"

case_begin "unprivileged program: a refused routing_mark on UDP fails the sendto, nothing sent"
srv_start udp --udp $FAR4:5353
out=$(nobody "$MARK" $PY $PYCLIENT udp $FAR4 5353 2>/dev/null)
assert_eq "$?" 3 "client exit status ($out)"
assert_eq "$(kv "$out" errno)" EPERM "errno"
assert_saw_nothing "$T/udp.log" "UDP server"

finish
