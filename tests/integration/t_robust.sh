#!/bin/bash
# Direct dialing under stress of the process model: many threads at once, fork
# (parent before and after, child alone), a socket at descriptor 3000 (above
# FD_SETSIZE: a select()-based wait would overflow), each through a dialer the
# server can tell apart (bind_interface = vb, link B).
# Verified to fail without the shim (SHIM=/nonexistent): the server sees link A and
# the connect to the silent address does not time out within 3 s.
. "$(dirname "$0")/lib.sh"
lab_up
shim_present
srv_start far $FAR4:8080
LOG=$T/far.log

CFG=$(write_conf vb <<'EOF'
[dialer viab]
type = direct
bind_interface = vb
connect_timeout = 1s

[app all]
match = *
dialer = viab
EOF
)

case_begin "32 threads connect at once: every one by link B"
out=$(shim "$CFG" $PY $PYCLIENT threads $FAR4 8080 32)
assert_eq "$?" 0 "client exit status ($(echo "$out" | grep -v "you are $B4_CLI" | head -3 | tr '\n' ' '))"
assert_eq "$(echo "$out" | grep -c "^reply=you are $B4_CLI\$")" 32 "replies from link B"
assert_eq "$(peers "$LOG" | sort | uniq -c | awk '{ print $1, $2 }')" "32 $B4_CLI" "server saw"
: >"$LOG"

case_begin "fork: parent, child and parent again all by link B"
out=$(shim "$CFG" $PY $PYCLIENT fork $FAR4 8080)
assert_eq "$?" 0 "client exit status ($out)"
assert_eq "$(kv "$out" child_status)" 0 "child's wait status"
assert_eq "$(echo "$out" | grep -c "^reply=you are $B4_CLI\$")" 3 "replies from link B ($(echo "$out" | tr '\n' ' '))"
assert_eq "$(peers "$LOG" | tr '\n' ' ')" "$B4_CLI $B4_CLI $B4_CLI " "server saw"
: >"$LOG"

case_begin "descriptor 3000: connects by link B; connect_timeout still works"
out=$(shim "$CFG" $PY $PYCLIENT highfd $FAR4 8080)
assert_eq "$?" 0 "client exit status ($out)"
assert_eq "$(kv "$out" reply)" "you are $B4_CLI" "reply"
assert_saw "$LOG" $B4_CLI "server"
out=$(shim "$CFG" $PY $PYCLIENT highfd $SILENT4 8080)
assert_eq "$?" 3 "silent address: client exit status ($out)"
assert_eq "$(kv "$out" errno)" ETIMEDOUT "silent address: errno"
assert_le "$(kv "$out" elapsed)" 3 "silent address: seconds in connect"

finish
