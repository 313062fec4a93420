#!/bin/bash
# The program's own descriptor survives a direct dial: TCP_NODELAY, SO_KEEPALIVE and
# FD_CLOEXEC set before connect are still set after it; with O_NONBLOCK the
# connect gives the real EINPROGRESS and an epoll registration made BEFORE connect
# reports writability; the data arrives. The dialer binds to vb, so the server
# must see link B.
# Verified: without the shim (SHIM=/nonexistent) the link-B assertions fail. The
# descriptor assertions were checked by hand against a deliberately wrong preload
# that connects a fresh socket and dup2()s it over the program's fd (as
# proxychains-ng does): with it, the epoll wait times out ("lost=epoll_registration"),
# and in the blocking variant TCP_NODELAY, SO_KEEPALIVE and FD_CLOEXEC are lost.
. "$(dirname "$0")/lib.sh"
lab_up
shim_present
srv_start far $FAR4:8080 "[$FAR6]:8080"
LOG=$T/far.log

CFG=$(write_conf vb <<'EOF'
[dialer viab]
type = direct
bind_interface = vb

[app all]
match = *
dialer = viab
EOF
)

TMO=$(write_conf tmo <<'EOF'
[dialer viab]
type = direct
bind_interface = vb
connect_timeout = 2s

[app all]
match = *
dialer = viab
EOF
)

case_begin "blocking socket: TCP_NODELAY, SO_KEEPALIVE, FD_CLOEXEC kept across connect"
out=$(shim "$CFG" $PY $PYCLIENT opts $FAR4 8080)
assert_eq "$?" 0 "client exit status ($out)"
assert_no_match "$out" '^lost=' "options lost"
assert_eq "$(kv "$out" reply)" "you are $B4_CLI" "reply"
assert_saw "$LOG" $B4_CLI "server"

case_begin "O_NONBLOCK + epoll registered before connect: EINPROGRESS, epoll wakes, options kept"
out=$(shim "$CFG" $PY $PYCLIENT opts $FAR4 8080 --nonblock)
assert_eq "$?" 0 "client exit status ($out)"
assert_eq "$(kv "$out" connect)" EINPROGRESS "connect's result"
assert_no_match "$out" '^lost=' "options lost"
assert_eq "$(kv "$out" reply)" "you are $B4_CLI" "reply"
assert_saw "$LOG" $B4_CLI "server"

case_begin "O_NONBLOCK + epoll, FD_CLOEXEC cleared: stays cleared (IPv6)"
out=$(shim "$CFG" $PY $PYCLIENT opts $FAR6 8080 --nonblock --inheritable)
assert_eq "$?" 0 "client exit status ($out)"
assert_eq "$(kv "$out" connect)" EINPROGRESS "connect's result"
assert_no_match "$out" '^lost=' "options lost"
assert_match "$out" 'cloexec=0' "FD_CLOEXEC"
assert_eq "$(kv "$out" reply)" "you are $B6_CLI" "reply"
assert_saw "$LOG" $B6_CLI "server"

case_begin "connect_timeout set, blocking socket: still blocking after connect, options kept"
out=$(shim "$TMO" $PY $PYCLIENT opts $FAR4 8080)
assert_eq "$?" 0 "client exit status ($out)"
assert_no_match "$out" '^lost=' "options or flags lost"
assert_match "$out" 'nonblock=0' "O_NONBLOCK after connect"
assert_eq "$(kv "$out" reply)" "you are $B4_CLI" "reply"
assert_saw "$LOG" $B4_CLI "server"

case_begin "connect_timeout set, O_NONBLOCK + epoll: still the real EINPROGRESS"
out=$(shim "$TMO" $PY $PYCLIENT opts $FAR4 8080 --nonblock)
assert_eq "$?" 0 "client exit status ($out)"
assert_eq "$(kv "$out" connect)" EINPROGRESS "connect's result"
assert_no_match "$out" '^lost=' "options or flags lost"
assert_eq "$(kv "$out" reply)" "you are $B4_CLI" "reply"
assert_saw "$LOG" $B4_CLI "server"

case_begin "a socket the program bound itself (0.0.0.0:0) still gets bind_interface"
out=$(shim "$CFG" $PY $PYCLIENT tcp $FAR4 8080 --src=0.0.0.0)
assert_eq "$?" 0 "client exit status ($out)"
assert_eq "$(kv "$out" reply)" "you are $B4_CLI" "reply"
assert_saw "$LOG" $B4_CLI "server"

finish
