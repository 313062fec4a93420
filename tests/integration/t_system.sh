#!/bin/bash
# System-wide mode: /etc/ld.so.preload names the library, /etc/dialshim.ini decides
# per program, no DIALSHIM_CONFIG anywhere. Each client runs in a mount namespace of
# its own (unshare -m, private propagation) whose /etc is an overlay on the real one
# (upper layer in this test's temporary directory) holding the test's ld.so.preload
# and dialshim.ini: every process started there (ip, timeout, env, the client) gets
# the shim, as on a machine so configured. The host's /etc is never written: the
# first case checks that the files exist inside and that the host's
# /etc/ld.so.preload and /etc/dialshim.ini are as they were (and that no overlay
# shows on the host's /etc), before and after the runs.
# The file: 50 [app] sections (system_ini.sh), the last matching curl through
# microsocks; default_app = direct. Verified to fail bare (SHIM=/nonexistent: the
# preload names a missing library, ld.so only warns): curl then goes direct, no
# `dialshim:` line is logged, a fail_closed file blocks nothing.
. "$(dirname "$0")/lib.sh"
. "$IT_DIR/proxy_lib.sh"
. "$IT_DIR/system_ini.sh"
lab_up
shim_present
srv_start web --http $FAR4:8080
start_microsocks ms $B4_SRV 1080
WLOG=$T/web.log MS=$T/ms.log
cp "$(command -v curl)" "$T/fetch" # the same client under a name no app matches

host_state() { # what the host's /etc shows of our two files and its mount
    for f in /etc/ld.so.preload /etc/dialshim.ini; do
        if [ -e "$f" ]; then echo "$f $(sha256sum <"$f")"; else echo "$f absent"; fi
    done
    findmnt -n -o FSTYPE --target /etc
}
HOST_BEFORE=$(host_state)

# sys_run INI CMD...: CMD in the client namespace, in a mount namespace whose /etc
# has ld.so.preload naming $SHIM and dialshim.ini = INI (a file); no DIALSHIM_*,
# HOME without a per-user file. Sets RC, OUT, ERR (stderr: the shim's log lines).
sys_run() {
    local ini=$1 up=$T/etc-up work=$T/etc-work
    shift
    rm -rf "$up" "$work"
    mkdir -p "$up" "$work" "$T/home"
    printf '%s\n' "$SHIM" >"$up/ld.so.preload"
    cp "$ini" "$up/dialshim.ini"
    unshare -m --propagation private sh -c '
        mount -t overlay overlay -o "lowerdir=/etc,upperdir=$1,workdir=$2" /etc || exit 97
        shift 2
        exec "$@"' sh "$up" "$work" \
        ip netns exec "$CLI" timeout "$CTMO" env -u DIALSHIM_CONFIG -u DIALSHIM_APP \
        -u DIALSHIM_LOG -u LD_PRELOAD -u XDG_CONFIG_HOME HOME="$T/home" "$@" \
        >"$T/run.out" 2>"$T/run.err"
    RC=$?
    OUT=$(cat "$T/run.out")
    ERR=$(cat "$T/run.err")
    note "\$ $*  -> rc=$RC"
    [ -n "$ERR" ] && printf '%s\n' "$ERR" | head -n 5 | sed 's/^/    #   log: /' >&2
    return 0
}

SYS50=$T/sys50.ini
system_ini 50 curl "$B4_SRV:1080" >"$SYS50"
BROKEN=$(write_conf broken <<'EOF'
[global]
log_level = warn

[app web]
match = curl
this line is broken
dialer = direct
EOF
)
BROKEN_PT=$(write_conf broken_pt <<'EOF'
[global]
on_config_error = pass_through

[app web]
match = curl
dialer = nosuch
EOF
)

case_begin "the mount namespace has the test's /etc/ld.so.preload and /etc/dialshim.ini, the host does not"
sys_run "$SYS50" sh -c 'cat /etc/ld.so.preload; head -n 1 /etc/dialshim.ini'
assert_eq "$RC" 0 "exit status"
assert_eq "$OUT" "$SHIM
$(head -n 1 "$SYS50")" "the files inside"
assert_eq "$(host_state)" "$HOST_BEFORE" "the host's /etc after a run"
assert_no_match "$(findmnt -n -o FSTYPE --target /etc)" "overlay" "an overlay on the host's /etc"

case_begin "50 apps, matched: curl goes through its app's SOCKS5 proxy"
sys_run "$SYS50" curl -sS --max-time 5 http://$FAR4:8080/
assert_eq "$RC" 0 "curl exit status ($ERR)"
assert_eq "$OUT" "you are $FAR4" "page"
assert_saw "$WLOG" $FAR4 "web server (the proxy's address)"
assert_match "$(cat "$MS")" "$B4_CLI: connected to $FAR4:8080" "microsocks log"
: >"$MS"

case_begin "50 apps, unmatched: the same client under another name goes direct (default_app = direct)"
sys_run "$SYS50" "$T/fetch" -sS --max-time 5 http://$FAR4:8080/
assert_eq "$RC" 0 "fetch exit status ($ERR)"
assert_eq "$OUT" "you are $A4_CLI" "page"
assert_saw "$WLOG" $A4_CLI "web server (the client's own address)"
assert_eq "$(grep -c connected "$MS")" 0 "connections through microsocks"
assert_eq "$ERR" "" "log lines"

case_begin "50 apps, the app is decided per program: the decision log says app a50 for curl, direct for fetch"
sys_run "$SYS50" env DIALSHIM_LOG=info curl -sS --max-time 5 http://$FAR4:8080/
assert_match "$ERR" "curl\[[0-9]+\] tcp $FAR4:8080 app=a50 rule=default chain=last result=ok" "curl's decision"
sys_run "$SYS50" env DIALSHIM_LOG=info "$T/fetch" -sS --max-time 5 http://$FAR4:8080/
assert_match "$ERR" "fetch\[[0-9]+\] tcp $FAR4:8080 app=direct rule=default chain=direct" "fetch's decision"
: >"$WLOG"
: >"$MS"

case_begin "a broken /etc/dialshim.ini (fail_closed): programs start, the network is blocked, with a log line"
sys_run "$BROKEN" sh -c 'echo started'
assert_eq "$RC" 0 "sh exit status"
assert_eq "$OUT" "started" "a program without network runs"
sys_run "$BROKEN" curl -sS --max-time 5 http://$FAR4:8080/
assert_eq "$RC" 7 "curl exit status (7: could not connect)"
assert_match "$ERR" "dialshim: /etc/dialshim.ini:6: .*" "the FILE:LINE line"
assert_match "$ERR" "configuration unusable; network calls fail with EACCES" "the summary"
assert_saw_nothing "$WLOG" "web server"
assert_eq "$(grep -c connected "$MS")" 0 "connections through microsocks"

case_begin "a broken /etc/dialshim.ini with on_config_error = pass_through: the network goes through untouched, with a log line"
sys_run "$BROKEN_PT" curl -sS --max-time 5 http://$FAR4:8080/
assert_eq "$RC" 0 "curl exit status"
assert_eq "$OUT" "you are $A4_CLI" "page (direct)"
assert_saw "$WLOG" $A4_CLI "web server"
assert_match "$ERR" "configuration unusable; network calls pass through untouched" "the summary"

case_begin "after every run: the host's /etc unchanged"
assert_eq "$(host_state)" "$HOST_BEFORE" "the host's /etc"

finish
