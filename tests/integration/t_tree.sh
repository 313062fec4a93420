#!/bin/bash
# Apps for process trees: a program's children run as /proc/self/exe with argv[0]
# "exe" (Chromium's), or as other programs; they follow the parent's app unless
# they match one of their own (inherit = true, the default), or fall to the
# default app (inherit = false). The line server on 8081 logs which link each
# connection came by: the app's dialer takes link B, the default app link A.
# Verified to fail on the code before [app] inherit and the executable's basename
# (the children went by link A).
. "$(dirname "$0")/lib.sh"
lab_up
shim_present
srv_start far $FAR4:8081
LOG=$T/far.log
TREE=$IT_DIR/tree_client.py
# copies, not links: /proc/self/exe names the copy
cp "$PY" "$T/browser"
cp "$PY" "$T/helper"

tree_conf() { # NAME INHERIT-LINE
    write_conf "$1" <<EOF
[dialer viaa]
type = direct
bind_interface = va

[dialer viab]
type = direct
bind_interface = vb

[global]
default_app = rest

[app br]
match = browser
$2
dialer = viab

[app rest]
dialer = viaa
EOF
}

case_begin "argv[0] exe, /proc/self/exe a matched program: the child matches by the executable's name"
CFG=$(tree_conf exe "")
out=$(shim "$CFG" "$T/browser" "$TREE" parent $FAR4 8081 /proc/self/exe)
assert_eq "$?" 0 "exit status ($out)"
assert_eq "$(kv "$out" parent)" "you are $B4_CLI" "the parent's reply"
assert_eq "$(kv "$out" child)" "you are $B4_CLI" "the child's reply"
assert_eq "$(peers "$LOG" | sort | uniq -c | awk '{print $1, $2}')" "2 $B4_CLI" "server saw"

case_begin "inherit (default): a child that matches nothing follows the parent's app"
: >"$LOG"
out=$(shim "$CFG" "$T/browser" "$TREE" parent $FAR4 8081 "$T/helper")
assert_eq "$?" 0 "exit status ($out)"
assert_eq "$(kv "$out" child)" "you are $B4_CLI" "the child's reply"
assert_eq "$(peers "$LOG" | sort | uniq -c | awk '{print $1, $2}')" "2 $B4_CLI" "server saw"

case_begin "inherit = false: the child falls to the default app"
: >"$LOG"
CFG=$(tree_conf noinh "inherit = false")
out=$(shim "$CFG" "$T/browser" "$TREE" parent $FAR4 8081 "$T/helper")
assert_eq "$?" 0 "exit status ($out)"
assert_eq "$(kv "$out" parent)" "you are $B4_CLI" "the parent's reply"
assert_eq "$(kv "$out" child)" "you are $A4_CLI" "the child's reply"
assert_eq "$(peers "$LOG" | sort | tr '\n' ' ')" "$A4_CLI $B4_CLI " "server saw"

case_begin "a child that matches an app of its own keeps it"
: >"$LOG"
CFG=$(write_conf own <<EOF
[dialer viaa]
type = direct
bind_interface = va

[dialer viab]
type = direct
bind_interface = vb

[app br]
match = browser
dialer = viab

[app hl]
match = helper
dialer = viaa
EOF
)
out=$(shim "$CFG" "$T/browser" "$TREE" parent $FAR4 8081 "$T/helper")
assert_eq "$?" 0 "exit status ($out)"
assert_eq "$(kv "$out" parent)" "you are $B4_CLI" "the parent's reply"
assert_eq "$(kv "$out" child)" "you are $A4_CLI" "the child's reply"

case_begin "explain names the inherited app"
CFG=$(tree_conf exe2 "")
out=$(in_cli env DIALSHIM_PARENT_APP=br "$DIALSHIM" -c "$CFG" explain $FAR4 8081 2>&1)
assert_match "$out" "app: br \\(no match; inherited" "explain"
assert_match "$out" "children: the processes it starts follow this app" "explain, children"
CFG=$(tree_conf noinh2 "inherit = false")
out=$(in_cli "$DIALSHIM" -c "$CFG" -p br explain $FAR4 8081 2>&1)
assert_match "$out" "children: the processes it starts match on their own" "explain, inherit = false"

finish
