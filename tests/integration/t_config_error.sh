#!/bin/bash
# A bad configuration never crashes the program: the shim prints one
# `dialshim: FILE:LINE: message` line, and with fail_closed (the default) every
# intercepted network call fails with EACCES; with on_config_error = pass_through
# (set in [global], the error later in the file) the call goes out untouched.
# Verified to fail without the shim (SHIM=/nonexistent): the client connects and no
# `dialshim:` line is printed.
. "$(dirname "$0")/lib.sh"
lab_up
shim_present
srv_start far $FAR4:8080
srv_start udp --udp $FAR4:5353
LOG=$T/far.log ULOG=$T/udp.log

# line 5 has no '=': an inih syntax error
BAD=$(write_conf syntax <<'EOF'
[global]
log_level = warn

[app all]
this line is broken
dialer = direct
EOF
)
# line 7: an unknown key in a later section; [global] asked for pass_through
PT=$(write_conf passthrough <<'EOF'
[global]
on_config_error = pass_through

[dialer viab]
type = direct
bind_interface = vb
no_such_key = 1

[app all]
match = *
dialer = viab
EOF
)
# the same error (line 6) without pass_through
CLOSED=$(write_conf closed <<'EOF'
[global]

[dialer viab]
type = direct
bind_interface = vb
no_such_key = 1

[app all]
match = *
dialer = viab
EOF
)

case_begin "syntax error: connect fails with EACCES, exit status is the program's, one FILE:LINE line"
out=$(shim "$BAD" $PY $PYCLIENT tcp $FAR4 8080 2>"$T/err")
rc=$?
err=$(cat "$T/err")
assert_eq "$rc" 3 "python3's own exit status for a failed connect ($out)"
assert_eq "$(kv "$out" errno)" EACCES "errno"
assert_match "$err" "^dialshim: ([^ ]*/)?syntax\\.ini:5: ." "stderr"
assert_eq "$(grep -c 'syntax\.ini:5:' "$T/err")" 1 "FILE:LINE lines on stderr"
assert_saw_nothing "$LOG" "server"

case_begin "syntax error: UDP sendto fails with EACCES, the C client exits normally"
out=$(shim "$BAD" $PY $PYCLIENT udp $FAR4 5353 2>/dev/null)
assert_eq "$(kv "$out" errno)" EACCES "UDP errno"
assert_saw_nothing "$ULOG" "UDP server"
out=$(shim "$BAD" "$TCPINFO" $FAR4 8080 2>"$T/err")
rc=$?
case $rc in 2 | 3) ;; *) fail "tcpinfo exit status $rc (2 or 3 expected: a failed lookup or connect, not a crash)" ;; esac
assert_saw_nothing "$LOG" "server"

case_begin "unknown key, fail_closed (default): EACCES and FILE:LINE"
out=$(shim "$CLOSED" $PY $PYCLIENT tcp $FAR4 8080 2>"$T/err")
assert_eq "$?" 3 "client exit status ($out)"
assert_eq "$(kv "$out" errno)" EACCES "errno"
assert_match "$(cat "$T/err")" "^dialshim: ([^ ]*/)?closed\\.ini:6: ." "stderr"
assert_saw_nothing "$LOG" "server"

case_begin "unknown key, on_config_error = pass_through: the connection goes out untouched"
out=$(shim "$PT" $PY $PYCLIENT tcp $FAR4 8080 2>"$T/err")
assert_eq "$?" 0 "client exit status ($out)"
assert_eq "$(kv "$out" reply)" "you are $A4_CLI" "reply"
assert_match "$(cat "$T/err")" "^dialshim: ([^ ]*/)?passthrough\\.ini:7: ." "stderr"
assert_saw "$LOG" $A4_CLI "server (link A: the broken file's dialer is not used)"

# Broken files whose [global] mentions pass_through only outside the value of
# on_config_error (a comment, another key's value, a longer word): fail closed.
# Each has an unknown key at line 6, after a [global] of three lines.
n=0
for g in 'on_config_error = fail_closed ; not pass_through' \
    'on_config_error = fail_closed # pass_through' \
    'on_config_error = pass_through_not' \
    'on_config_error = "pass_through"'; do
    n=$((n + 1))
    F=$(printf '[global]\n%s\nlog_level = warn # pass_through\n[dialer viab]\ntype = direct\nno_such_key = 1\n[app all]\nmatch = *\ndialer = viab\n' "$g" |
        write_conf "comment$n")
    case_begin "broken file, [global] has '$g': connect fails with EACCES, the listener saw nothing"
    out=$(shim "$F" $PY $PYCLIENT tcp $FAR4 8080 2>"$T/err")
    assert_eq "$?" 3 "client exit status ($out)"
    assert_eq "$(kv "$out" errno)" EACCES "errno"
    assert_match "$(cat "$T/err")" "comment$n\\.ini:6: " "stderr"
    assert_match "$(cat "$T/err")" "fail with EACCES" "stderr"
    assert_saw_nothing "$LOG" "server"
done

# The key's own value token counts, read as the parser reads it: blanks in the
# header, "key: value", a comment after the value.
PT2=$(write_conf passthrough2 <<'EOF'
[ global ]
log_level = warn ; on_config_error = fail_closed
on_config_error: pass_through   # the value token, a comment after it
[dialer viab]
type = direct
no_such_key = 1
EOF
)
case_begin "broken file, on_config_error: pass_through with a comment after it: passes through"
out=$(shim "$PT2" $PY $PYCLIENT tcp $FAR4 8080 2>"$T/err")
assert_eq "$?" 0 "client exit status ($out)"
assert_eq "$(kv "$out" reply)" "you are $A4_CLI" "reply"
assert_match "$(cat "$T/err")" "passthrough2\\.ini:6: " "stderr"
assert_match "$(cat "$T/err")" "pass through untouched" "stderr"
assert_saw "$LOG" $A4_CLI "server"

case_begin "DIALSHIM_CONFIG names a missing file: fail closed (EACCES) with a dialshim: line"
out=$(shim "$T/missing.ini" $PY $PYCLIENT tcp $FAR4 8080 2>"$T/err")
assert_eq "$?" 3 "client exit status ($out)"
assert_eq "$(kv "$out" errno)" EACCES "errno"
assert_match "$(cat "$T/err")" "^dialshim: .*missing\.ini" "stderr"
assert_saw_nothing "$LOG" "server"

case_begin "no configuration anywhere: the program runs as without the shim"
if [ -e /etc/dialshim.ini ]; then
    note "/etc/dialshim.ini exists on this machine: case not meaningful, skipped"
else
    mkdir -p "$T/empty"
    out=$(in_cli timeout "$CTMO" env -u DIALSHIM_CONFIG HOME="$T/empty" XDG_CONFIG_HOME="$T/empty" \
        LD_PRELOAD="$SHIM" $PY $PYCLIENT tcp $FAR4 8080 2>"$T/err")
    assert_eq "$?" 0 "client exit status ($out)"
    assert_eq "$(kv "$out" reply)" "you are $A4_CLI" "reply"
    assert_saw "$LOG" $A4_CLI "server"
fi

finish
