#!/bin/bash
# UDP that must not travel: `udp = block` (and SOCKS4/HTTP dialers, which carry TCP
# only) fail every send with EPERM and the far server sees nothing; a proxy that is
# down fails the send and nothing goes direct; a control connection that ends
# mid-flow (`ss -K` in the server namespace, or dante killed) makes every later send
# fail with ECONNRESET, and the far server receives nothing from the client, ever.
# Verified to fail without the shim (SHIM=/nonexistent): every send succeeds and the
# far server logs the client's own address.
. "$(dirname "$0")/lib.sh"
. "$IT_DIR/proxy_lib.sh"
lab_up
shim_present
srv_start far --udp --echo $FAR4:5353 "[$FAR6]:5353"
start_dante dante 1081 none $FAR4 $FAR6
LOG=$T/far.log DL=$T/dante.log
UDPC=$IT_DIR/udp_client.py

BLOCK=$(proxy_conf block socks5 $B4_SRV:1081 <<<'udp = block')
S4=$(proxy_conf s4 socks4 $B4_SRV:1081 </dev/null)
HTTP=$(proxy_conf http http $B4_SRV:1081 </dev/null)
DOWN=$(proxy_conf down socks5 $B4_SRV:1099 <<<'connect_timeout = 2s')

# far_got_nothing WHAT: no datagram reached the far server at all (a direct one
# would carry a client address; one through the proxy is just as wrong here).
far_got_nothing() {
    assert_saw_nothing "$LOG" "$1"
}

case_begin "udp = block: sendto, sendmsg and connect fail with EPERM, nothing reaches anyone"
run_bare $PY $UDPC echo $FAR4 5353
assert_eq "$(kv "$OUT" seen)" $A4_CLI "bare run (lab sanity)"
: >"$LOG"
for how in "" --sendmsg --connect; do
    run_shim "$BLOCK" $PY $UDPC echo $FAR4 5353 $how
    assert_eq "$RC" 3 "client exit status ($how)"
    assert_eq "$(kv "$OUT" errno)" EPERM "errno ($how)"
done
run_shim "$BLOCK" $PY $UDPC echo $FAR6 5353
assert_eq "$(kv "$OUT" errno)" EPERM "errno (IPv6)"
assert_match "$ERR" "result=EPERM UDP blocked by the proxy dialer p \(udp = block\)" "the shim's log line"
far_got_nothing "far server"
assert_no_match "$(cat "$DL")" "udpassociate" "dante log"

case_begin "socks4 and http dialers carry no UDP: EPERM, nothing sent"
for conf in "$S4" "$HTTP"; do
    run_shim "$conf" $PY $UDPC echo $FAR4 5353
    assert_eq "$(kv "$OUT" errno)" EPERM "$(basename "$conf" .ini): errno"
done
far_got_nothing "far server"

case_begin "the proxy is down: the send fails (ECONNREFUSED), again on retry, nothing goes direct"
run_shim "$DOWN" $PY $UDPC echo $FAR4 5353 --count=3
assert_eq "$RC" 3 "client exit status"
assert_eq "$(kv "$OUT" errno)" ECONNREFUSED "errno"
assert_match "$OUT" "sent=0 " "datagrams sent"
run_shim "$DOWN" $PY $UDPC echo $FAR4 5353 --connect
assert_eq "$(kv "$OUT" errno)" ECONNREFUSED "connect errno"
far_got_nothing "far server"

# kill_case WHAT HOW [udp_client options]: 5 datagrams through the proxy, then the
# control connection ends (HOW: a command run while the client waits), then three
# more sends, which must all fail with ECONNRESET and reach nobody.
kill_case() {
    local what=$1 how=$2 i
    shift 2
    rm -f "$T/pause.ready" "$T/pause.go"
    in_cli timeout "$CTMO" env LD_PRELOAD="$SHIM" DIALSHIM_CONFIG="$CONF" DIALSHIM_LOG=info \
        $PY $UDPC echo $FAR4 5353 --count=5 --pause="$T/pause" --after=3 "$@" \
        >"$T/kill.out" 2>"$T/kill.err" &
    local pid=$!
    for i in $(seq 1 100); do
        [ -e "$T/pause.ready" ] && break
        sleep 0.05
    done
    [ -e "$T/pause.ready" ] || fail "$what: the client never got its first replies"
    far_saw_only "$what: before" $FAR4
    eval "$how"
    touch "$T/pause.go"
    wait "$pid"
    OUT=$(cat "$T/kill.out")
    note "$what: $(tr '\n' '|' <"$T/kill.out")"
    note "$what log: $(tr '\n' '|' <"$T/kill.err")"
    assert_match "$OUT" "ok=5" "$what: the first datagrams went through the proxy"
    assert_eq "$(kv "$OUT" after)" "ECONNRESET,ECONNRESET,ECONNRESET" "$what: sends after the drop"
    assert_match "$(cat "$T/kill.err")" "udp association via p dropped" "$what: the shim's log line"
    far_got_nothing "$what: after the drop"
}

# far_saw_only WHAT IP: every datagram so far came from IP; clears the log.
far_saw_only() {
    local got
    got=$(peers "$LOG" | sort -u | tr '\n' ' ' | sed 's/ $//')
    [ "$got" = "$2" ] || fail "$1: far server saw '${got:-nothing}', expected '$2'"
    : >"$LOG"
}

# The control connections dante holds for this client, cut from dante's side.
cut_control() { in_srv ss -K -tn state established "( sport = :$1 )" >/dev/null; }

case_begin "the control connection is cut mid-flow (ss -K): later sends fail with ECONNRESET, nothing goes direct"
start_dante dk1 1091 none $FAR4 $FAR6
CONF=$(proxy_conf p socks5 $B4_SRV:1091 <<<'connect_timeout = 2s')
kill_case "unconnected" "cut_control 1091"
start_dante dk2 1092 none $FAR4 $FAR6
CONF=$(proxy_conf p socks5 $B4_SRV:1092 <<<'connect_timeout = 2s')
kill_case "connected" "cut_control 1092" --connect

case_begin "dante dies mid-flow: later sends fail with ECONNRESET, nothing goes direct"
start_dante dk3 1093 none $FAR4 $FAR6
CONF=$(proxy_conf p socks5 $B4_SRV:1093 <<<'connect_timeout = 2s')
# this dante's process group (its `timeout`, the mother and the children holding the
# sessions: killing the mother alone leaves them running)
kill_dante() {
    local pg
    pg=$(ps -o pgid= -p "$(cat "$T/dk3.pid")" | tr -d ' ')
    [ -n "$pg" ] && kill -TERM -- "-$pg"
    sleep 0.3
}
kill_case "killed" kill_dante --sendmsg

finish
