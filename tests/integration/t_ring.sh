#!/bin/bash
# io_uring carries connects and sends past every hook (IORING_OP_CONNECT is no
# connect(2) call). The shim refuses to make a ring (io_uring_setup: ENOSYS, as a
# kernel without io_uring, and a log line) unless every destination of the app goes
# direct with no option to set; programs that try a ring first then fall back to
# plain calls, which are routed. The probe (ringconnect.c) sets up its ring with
# syscall(SYS_io_uring_setup), as liburing and libuv do.
# Verified to fail on the library before the refusal: the ring was made and its
# connect reached the far server from link A, past the block rule and past the
# dialer's interface.
. "$(dirname "$0")/lib.sh"
lab_up
shim_present
srv_start far $FAR4:8080 $FAR4:8081
LOG=$T/far.log
RING=$BUILD/tests/ringconnect

BLOCK=$(write_conf block <<'EOF2'
[global]
log_file = LOGFILE

[app all]
match = *
route = port:8081 -> block
EOF2
)
sed -i "s|LOGFILE|$T/block.log|" "$BLOCK"
VIAB=$(write_conf viab <<'EOF2'
[dialer viab]
type = direct
bind_interface = vb

[app all]
match = *
dialer = viab
EOF2
)
PLAIN=$(write_conf plain <<'EOF2'
[app all]
match = *
route = port:8081 -> direct
EOF2
)

case_begin "a ring under a policy with a block rule: io_uring_setup ENOSYS and a log line, nothing arrives"
out=$(bare "$RING" $FAR4 8081)
assert_eq "$(kv "$out" connect)" ok "bare ring connect ($out)"
assert_saw "$LOG" $A4_CLI "bare run"
out=$(shim "$BLOCK" "$RING" $FAR4 8081)
assert_eq "$(kv "$out" setup)" ENOSYS "ring setup ($out)"
assert_match "$(cat "$T/block.log" 2>/dev/null)" 'io_uring_setup .*result=ENOSYS' "log line"
assert_saw_nothing "$LOG" "far server"

case_begin "a ring under a direct dialer with an interface: refused (its connects would skip SO_BINDTODEVICE), nothing arrives"
out=$(shim "$VIAB" "$RING" $FAR4 8080)
assert_eq "$(kv "$out" setup)" ENOSYS "ring setup ($out)"
assert_saw_nothing "$LOG" "far server"

case_begin "guard: a ring under an all-direct policy with no options is made and connects (link A)"
out=$(shim "$PLAIN" "$RING" $FAR4 8080)
assert_eq "$(kv "$out" setup)" ok "ring setup ($out)"
assert_eq "$(kv "$out" connect)" ok "ring connect ($out)"
assert_saw "$LOG" $A4_CLI "far server"

finish
