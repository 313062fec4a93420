#!/bin/bash
# What a proxy says reaches the log only escaped: a SOCKS5 UDP ASSOCIATE reply
# whose relay is a name carrying a newline, a carriage return and terminal escape
# sequences, and an HTTP proxy whose status line carries them. The shim's log file
# (DIALSHIM_LOG_FILE) holds whole `dialshim: ` lines only, one per event, no
# control byte, and the proxy's bytes as \xNN; the program gets an error and the
# far server sees nothing.
# Verified to fail before common/escape.c: the relay name's newline split the log
# line and the ESC bytes were written raw.
. "$(dirname "$0")/lib.sh"
. "$IT_DIR/proxy_lib.sh"
lab_up
shim_present
srv_start far $FAR4:8081
srv_start udp --udp --echo $FAR4:5353
LOG=$T/far.log ULOG=$T/udp.log
UDPC=$IT_DIR/udp_client.py
# the name a fake log line would follow: a newline, a CR, ESC [2J (clear screen)
EVIL='relay\n\rdialshim: FAKE LINE\x1b[2J\x1b]0;title\x07'
start_fake evil socks5 $B4_SRV:1110 --atyp domain --bound-name "$EVIL"
start_fake evilhttp http $B4_SRV:1111 --status 'HTTP/1.1 403 \x1b[31mNo\x1b[0m\rdialshim: FAKE'

# log_bytes_ok FILE WHAT: every line a dialshim: line, no control byte but the newlines
log_bytes_ok() {
    local bad
    bad=$(LC_ALL=C grep -c '[[:cntrl:]]' "$1")
    assert_eq "$bad" 0 "$2: lines holding control bytes ($(od -c "$1" | head -20 | tr '\n' ' '))"
    bad=$(LC_ALL=C grep -vc '^dialshim: ' "$1")
    assert_eq "$bad" 0 "$2: lines that are not dialshim: lines"
    assert_no_match "$(cat "$1")" "^dialshim: FAKE" "$2: a forged line"
}

case_begin "SOCKS5 UDP relay given as a name with control bytes: an error, the log escapes it"
CONF=$(proxy_conf evil socks5 $B4_SRV:1110 <<<"connect_timeout = 3s")
rm -f "$T/shim.log"
in_cli timeout "$CTMO" env LD_PRELOAD="$SHIM" DIALSHIM_CONFIG="$CONF" DIALSHIM_LOG=debug \
    DIALSHIM_LOG_FILE="$T/shim.log" $PY $UDPC echo $FAR4 5353 >"$T/out" 2>&1
assert_match "$(cat "$T/out")" "errno=E" "the client got an error ($(cat "$T/out"))"
assert_match "$(cat "$T/shim.log")" 'gave its relay as a name \(relay\\x0a\\x0ddialshim: FAKE LINE\\x1b\[2J\\x1b\]0;title\\x07\)' "the name, escaped"
log_bytes_ok "$T/shim.log" "socks5 udp"
assert_saw_nothing "$ULOG" "UDP server"

case_begin "HTTP proxy status line with control bytes: ECONNREFUSED, the log holds no raw byte"
CONF=$(proxy_conf evilhttp http $B4_SRV:1111 <<<"connect_timeout = 3s")
rm -f "$T/shim.log"
in_cli timeout "$CTMO" env LD_PRELOAD="$SHIM" DIALSHIM_CONFIG="$CONF" DIALSHIM_LOG=debug \
    DIALSHIM_LOG_FILE="$T/shim.log" $PY $PROXY_CLIENT $FAR4 8081 >"$T/out" 2>&1
assert_eq "$(kv "$(cat "$T/out")" errno)" ECONNREFUSED "errno"
assert_match "$(cat "$T/shim.log")" "result=ECONNREFUSED" "the decision line"
log_bytes_ok "$T/shim.log" "http"
assert_saw_nothing "$LOG" "far server"

finish
