#!/bin/bash
# Per-app policies: two programs under one configuration (and one shell, itself
# under the shim) take two different paths. The server on 8080 speaks HTTP (curl),
# the one on 8081 the plain line protocol (python3).
# Verified to fail without the shim (SHIM=/nonexistent): every program goes by link A,
# so each case's link-B expectation fails; the link-A expectations guard against a
# shim that applies one app to every program.
. "$(dirname "$0")/lib.sh"
lab_up
shim_present
srv_start http --http $FAR4:8080
srv_start far $FAR4:8081
HLOG=$T/http.log LOG=$T/far.log

CURL="curl -sS --max-time 5 http://$FAR4:8080/"
PYTCP="$PY $PYCLIENT tcp $FAR4 8081"

DIALERS='[dialer viaa]
type = direct
bind_interface = va

[dialer viab]
type = direct
bind_interface = vb
'

case_begin "app match = curl: curl by link B, python3 (default app) by link A, in one run"
CFG=$(write_conf apps <<EOF
$DIALERS
[app c]
match = curl
dialer = viab
EOF
)
out=$(shim "$CFG" sh -c "$CURL; $PYTCP")
assert_eq "$?" 0 "exit status ($out)"
assert_match "$out" "^you are $B4_CLI\$" "curl's page"
assert_eq "$(kv "$out" reply)" "you are $A4_CLI" "python3's reply"
assert_saw "$HLOG" $B4_CLI "HTTP server (curl)"
assert_saw "$LOG" $A4_CLI "line server (python3)"

# The second: the constructor reads /proc/self/exe only when a match line names
# a path; its scan must find one after a name on an indented line.
glob_case() { # WHAT NAME MATCH-LINE
    case_begin "$1: python3 by link B, curl not"
    CFG=$(write_conf "$2" <<EOF
$DIALERS
[app py]
$3
dialer = viab
EOF
)
    out=$(shim "$CFG" sh -c "$CURL; $PYTCP")
    assert_eq "$?" 0 "exit status ($out)"
    assert_saw "$HLOG" $A4_CLI "HTTP server (curl)"
    assert_saw "$LOG" $B4_CLI "line server (python3)"
}
glob_case "app match = /usr/bin/python3* (path glob of /proc/self/exe)" glob \
    "match = /usr/bin/python3*"
glob_case "a path glob after a name on an indented match line" glob2 \
    "    match = nosuchprogram, /usr/bin/python3*"

case_begin "apps are matched in file order: the first match wins"
CFG=$(write_conf order <<EOF
$DIALERS
[app one]
match = python3
dialer = viab

[app two]
match = *
dialer = viaa
EOF
)
out=$(shim "$CFG" sh -c "$CURL; $PYTCP")
assert_eq "$?" 0 "exit status ($out)"
assert_saw "$HLOG" $A4_CLI "HTTP server (curl: app two)"
assert_saw "$LOG" $B4_CLI "line server (python3: app one)"

case_begin "[global] default_app names the app for unmatched programs"
CFG=$(write_conf dflt <<EOF
[global]
default_app = fallback

$DIALERS
[app c]
match = curl
dialer = viaa

[app fallback]
dialer = viab
EOF
)
out=$(shim "$CFG" sh -c "$CURL; $PYTCP")
assert_eq "$?" 0 "exit status ($out)"
assert_saw "$HLOG" $A4_CLI "HTTP server (curl: app c)"
assert_saw "$LOG" $B4_CLI "line server (python3: default app)"

case_begin "DIALSHIM_APP forces an app whatever the program"
CFG=$(write_conf force <<EOF
$DIALERS
[app c]
match = curl
dialer = viab
EOF
)
out=$(in_cli timeout "$CTMO" env LD_PRELOAD="$SHIM" DIALSHIM_CONFIG="$CFG" DIALSHIM_APP=c $PYTCP)
assert_eq "$?" 0 "exit status ($out)"
assert_saw "$LOG" $B4_CLI "python3 forced into app c"

finish
