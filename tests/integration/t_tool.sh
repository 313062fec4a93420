#!/bin/bash
# The dialshim tool: `check`, and `run` (the default verb): it preloads the shim,
# exports DIALSHIM_CONFIG (absolute), DIALSHIM_APP, DIALSHIM_LOG, keeps an existing
# LD_PRELOAD, returns the command's exit status (127 when not found), and refuses
# to start the command on an invalid configuration (exit 2).
# Verified to fail without the tool/shim (DIALSHIM=/nonexistent SHIM=/nonexistent):
# every case fails (no output, exit 127 from timeout, server sees link A).
. "$(dirname "$0")/lib.sh"
lab_up
shim_present
srv_start far $FAR4:8080
LOG=$T/far.log

GOOD=$(write_conf good <<'EOF'
[dialer viaa]
type = direct
bind_interface = va

[dialer viab]
type = direct
bind_interface = vb

[app all]
match = *
dialer = viab
EOF
)
GOOD2=$(write_conf good2 <<'EOF'
[dialer viaa]
type = direct
bind_interface = va

[dialer viab]
type = direct
bind_interface = vb

[dialer marked]
type = direct
routing_mark = 0x64

[app all]
match = *
dialer = viaa

[app onlyb]
match = no-such-program
dialer = viab
EOF
)
# line 5: no '='
BAD=$(write_conf bad <<'EOF'
[dialer viab]
type = direct
bind_interface = vb

oops
EOF
)
# two problems: line 3 (bad value), line 6 (unknown key)
BAD2=$(write_conf bad2 <<'EOF'
[dialer x]
type = direct
connect_timeout = soon

[app all]
colour = blue
dialer = x
EOF
)

case_begin "dialshim check on a good file: 'ok: N dialers, M apps', exit 0"
out=$(in_cli timeout 5 "$DIALSHIM" check -c "$GOOD" 2>&1)
assert_eq "$?" 0 "exit status"
assert_match "$out" '^ok: [0-9]+ dialers, [0-9]+ apps$' "output"
out2=$(in_cli timeout 5 "$DIALSHIM" check -c "$GOOD2" 2>&1)
assert_eq "$?" 0 "exit status (second file)"
# the second file has one dialer and one app more; built-ins may or may not count
# (the counts are read leniently, singular or plural; the format is checked above)
n1=$(echo "$out" | sed -n 's/^ok: \([0-9]*\) dialers*, \([0-9]*\) apps*$/\1 \2/p')
n2=$(echo "$out2" | sed -n 's/^ok: \([0-9]*\) dialers*, \([0-9]*\) apps*$/\1 \2/p')
assert_eq "$(echo "$n1" | awk '{ print ($1 == 2 || $1 == 4) && ($2 == 1 || $2 == 2) }')" 1 \
    "counts for 2 dialers, 1 app (built-ins may count): '$out'"
assert_eq "$(echo "$n1 $n2" | awk '{ print $3 - $1, $4 - $2 }')" "1 1" "count difference between the files ('$out' vs '$out2')"

case_begin "dialshim check on a bad file: FILE:LINE: message, exit 2"
out=$(in_cli timeout 5 "$DIALSHIM" check -c "$BAD" 2>&1)
assert_eq "$?" 2 "exit status"
assert_match "$out" "^([^ ]*/)?bad\\.ini:5: ." "output"
out=$(in_cli timeout 5 "$DIALSHIM" check -c "$BAD2" 2>&1)
assert_eq "$?" 2 "exit status (two problems)"
assert_match "$out" "^([^ ]*/)?bad2\\.ini:3: ." "first problem"
assert_match "$out" "^([^ ]*/)?bad2\\.ini:6: ." "second problem"

case_begin "dialshim check on a file holding passwords, readable by group or others: one warning FILE:11, still ok"
# the corpus's permission case (tests/unit/fixtures/conf/perm-password-readable.ini):
# passwords at lines 11 and 18; the warning points at the first, names no password
PERM=$T/perm-password-readable.ini
cp "$ROOT/tests/unit/fixtures/conf/perm-password-readable.ini" "$PERM"
for mode in 644 640 604; do
    chmod $mode "$PERM"
    out=$(in_cli timeout 5 "$DIALSHIM" check -c "$PERM" 2>"$T/perm.err")
    assert_eq "$?" 0 "exit status (mode $mode)"
    assert_match "$out" '^ok: [0-9]+ dialers, [0-9]+ apps$' "stdout (mode $mode)"
    assert_eq "$(cat "$T/perm.err")" \
        "$PERM:11: warning: $PERM holds a password and is readable by others (chmod 600)" \
        "stderr (mode $mode)"
done
assert_no_match "$(cat "$T/perm.err")" "secret" "a password in the warning"
out=$(in_cli timeout 5 "$DIALSHIM" -c "$PERM" -- sh -c 'exit 7' 2>"$T/perm.err")
assert_eq "$?" 7 "dialshim -- CMD still runs CMD (its exit status)"
assert_match "$(cat "$T/perm.err")" "^$PERM:11: warning: .* readable by others" "dialshim -- CMD warns"
chmod 600 "$PERM"
out=$(in_cli timeout 5 "$DIALSHIM" check -c "$PERM" 2>"$T/perm.err")
assert_eq "$?" 0 "exit status (mode 600)"
assert_eq "$(cat "$T/perm.err")" "" "stderr (mode 600: no warning)"

case_begin "a resolver's detour naming a proxy: check warns FILE:LINE and stays ok, explain says DNS leaves directly"
RDET=$(write_conf resolver-detour <<'EOF'
[resolver lan]
servers = 192.0.2.53
timeout = 200ms
attempts = 1
detour = tor

[dialer tor]
type = socks5
server = 192.0.2.9:1080

[dialer lan]
type = direct
domain_resolver = lan

[app all]
match = *
dialer = lan
EOF
)
out=$(in_cli timeout 5 "$DIALSHIM" check -c "$RDET" 2>"$T/rdet.err")
assert_eq "$?" 0 "exit status (a warning)"
assert_match "$out" '^ok: 2 dialers, 1 apps$' "stdout"
assert_eq "$(cat "$T/rdet.err")" \
    "$RDET:5: warning: detour 'tor' of [resolver lan] is a socks5 dialer: DNS queries use only its socket options and still leave directly" \
    "stderr"
out=$(in_cli timeout 5 "$DIALSHIM" explain -c "$RDET" -n curl www.example 80 2>"$T/rdet.err")
assert_eq "$?" 0 "explain exit status ($out)"
assert_match "$out" "^resolver detour: tor \\(socks5\\): DNS queries use only its socket options and still leave directly" "explain"
assert_match "$(cat "$T/rdet.err")" "^$RDET:5: warning: detour 'tor'" "explain's stderr"

case_begin "dialshim -c FILE -- CMD runs CMD through the shim"
bare "$TCPINFO" $FAR4 8080 >/dev/null
assert_saw "$LOG" $A4_CLI "bare run"
out=$(tool "$GOOD" "$TCPINFO" $FAR4 8080)
assert_eq "$?" 0 "exit status ($out)"
assert_eq "$(kv "$out" reply)" "you are $B4_CLI" "reply"
assert_saw "$LOG" $B4_CLI "server"

case_begin "dialshim sets LD_PRELOAD (keeping the old one), an absolute DIALSHIM_CONFIG, DIALSHIM_APP, DIALSHIM_LOG"
cp "$GOOD" "$T/rel.ini"
ENVPY='import os; [print(k + "=" + os.environ.get(k, "")) for k in ("LD_PRELOAD", "DIALSHIM_CONFIG", "DIALSHIM_APP", "DIALSHIM_LOG")]'
out=$(cd "$T" && in_cli timeout 5 env LD_PRELOAD=libdl.so.2 "$DIALSHIM" -c rel.ini -p all -l debug -- $PY -c "$ENVPY")
assert_eq "$?" 0 "exit status"
assert_match "$(kv "$out" LD_PRELOAD)" 'libdialshim\.so' "LD_PRELOAD has the shim"
assert_match "$(kv "$out" LD_PRELOAD)" 'libdl\.so\.2' "LD_PRELOAD kept the old entry"
assert_eq "$(kv "$out" DIALSHIM_CONFIG)" "$T/rel.ini" "DIALSHIM_CONFIG"
assert_eq "$(kv "$out" DIALSHIM_APP)" all "DIALSHIM_APP"
assert_eq "$(kv "$out" DIALSHIM_LOG)" debug "DIALSHIM_LOG"

case_begin "dialshim -p APP forces the app"
out=$(in_cli timeout "$CTMO" "$DIALSHIM" -c "$GOOD2" -- $PY $PYCLIENT tcp $FAR4 8080)
assert_eq "$?" 0 "exit status without -p ($out)"
assert_saw "$LOG" $A4_CLI "server, without -p (app all: viaa)"
out=$(in_cli timeout "$CTMO" "$DIALSHIM" -c "$GOOD2" -p onlyb -- $PY $PYCLIENT tcp $FAR4 8080)
assert_eq "$?" 0 "exit status ($out)"
assert_saw "$LOG" $B4_CLI "server"

case_begin "dialshim -- CMD without -c uses \$XDG_CONFIG_HOME/dialshim/dialshim.ini"
mkdir -p "$T/xdg/dialshim"
cp "$GOOD" "$T/xdg/dialshim/dialshim.ini"
out=$(in_cli timeout "$CTMO" env -u DIALSHIM_CONFIG XDG_CONFIG_HOME="$T/xdg" "$DIALSHIM" -- "$TCPINFO" $FAR4 8080)
assert_eq "$?" 0 "exit status ($out)"
assert_saw "$LOG" $B4_CLI "server"

case_begin "dialshim returns the command's exit status, 127 when not found"
in_cli timeout 5 "$DIALSHIM" -c "$GOOD" -- sh -c 'exit 7' 2>/dev/null
assert_eq "$?" 7 "exit status of sh -c 'exit 7'"
in_cli timeout 5 "$DIALSHIM" -c "$GOOD" -- /nonexistent/cmd 2>/dev/null
assert_eq "$?" 127 "exit status for a missing command"

case_begin "dialshim -- FILE with crafted section headers: no crash, the program runs, no false warning"
# A copy of the dynamically linked `true` (the kernel ignores section headers, the
# tool reads them to spot Go): today's crafted offsets crashed the tool (SIGSEGV).
TRUE=$(type -P true)
for how in name-far shoff-wraps shstrndx names-wrap; do
    $PY "$ROOT/tests/integration/elf_craft.py" "$TRUE" "$T/crafted-$how" $how || fail "craft $how"
    chmod 755 "$T/crafted-$how"
    in_cli timeout 5 "$DIALSHIM" -c "$GOOD" -- "$T/crafted-$how" 2>"$T/elf.err"
    assert_eq "$?" 0 "$how: the tool's exit status is the program's ($(cat "$T/elf.err"))"
    assert_eq "$(cat "$T/elf.err")" "" "$how: stderr"
done
$PY "$ROOT/tests/integration/elf_craft.py" "$TRUE" "$T/crafted-go" go || fail "craft go"
chmod 755 "$T/crafted-go"
# A Go program runs under the supervisor (t_supervise*.sh); --no-supervise keeps the warning.
in_cli timeout 5 "$DIALSHIM" -c "$GOOD" --no-supervise -- "$T/crafted-go" 2>"$T/elf.err"
assert_eq "$?" 0 "go: exit status"
assert_match "$(cat "$T/elf.err")" "^dialshim: warning: .*crafted-go is a Go program" "go: the warning"
in_cli timeout 5 "$DIALSHIM" -c "$GOOD" -- "$T/crafted-go" 2>"$T/elf.err"
assert_eq "$?" 0 "go, supervised: exit status ($(cat "$T/elf.err"))"

case_begin "dialshim -c bad.ini -- CMD exits 2 without running CMD"
rm -f "$T/ran"
out=$(in_cli timeout 5 "$DIALSHIM" -c "$BAD" -- touch "$T/ran" 2>&1)
assert_eq "$?" 2 "exit status"
[ -e "$T/ran" ] && fail "the command ran"
assert_match "$out" "bad\\.ini:5: ." "the error"
out=$(in_cli timeout 5 "$DIALSHIM" -c "$BAD" -- true 2>&1)
assert_eq "$?" 2 "exit status with true"

case_begin "dialshim explain opens no connection and names the dialer"
out=$(in_cli timeout 5 "$DIALSHIM" explain -c "$GOOD" -n curl tcp $FAR4 8080 2>&1)
assert_eq "$?" 0 "exit status ($out)"
assert_match "$out" 'viab' "the chosen dialer"
assert_match "$out" 'all' "the chosen app"
assert_saw_nothing "$LOG" "server"

finish
