# shellcheck shell=bash
# Sourced by t_nb_*.sh after lib.sh and proxy_lib.sh: the non-blocking dial tests.
#
# nb_proxy.py (see its header) in the server namespace: a SOCKS5 proxy that holds its
# answers until N requests are pending at once (--barrier N) or until a file exists
# (--release FILE), and a far server for thousands of connections. A barrier of N
# turns "the program had N dials pending at the same moment" into something the
# proxy sees and logs (`BARRIER N`), with no clock involved: a shim that completes
# each dial inside connect() can never fill it (its first dial waits for an answer
# that never comes, until the proxy's fail-safe answers REP 1 and logs GIVEUP).

NB_PROXY=$IT_DIR/nb_proxy.py
NB_CLIENT=$IT_DIR/nb_client.py
NBPROBE=${NBPROBE:-$BUILD/tests/nbprobe}

# nbp_start NAME socks5|far ADDR:PORT [nb_proxy options]: log $T/NAME.log, bounded
# wait until it listens. Runs with a descriptor limit of 8192.
nbp_start() {
    local name=$1 mode=$2 addr=$3
    shift 3
    local ready=$T/$name.ready i pid
    rm -f "$ready"
    : >"$T/$name.log"
    in_srv timeout "$PLIFE" bash -c 'ulimit -n 8192; exec "$@"' nbp "$PY" "$NB_PROXY" "$mode" \
        --log "$T/$name.log" --ready "$ready" --life $((PLIFE - 5)) "$@" "$addr" 2>"$T/$name.err" &
    pid=$!
    BG_PIDS+=($pid)
    for i in $(seq 1 100); do
        [ -e "$ready" ] && return 0
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    fail "nb_proxy $name did not start: $(cat "$T/$name.err")"
    return 1
}

# plog_count NAME WORD: lines of $T/NAME.log starting with WORD.
plog_count() { grep -c "^$2 " "$T/$1.log" 2>/dev/null || true; }

# wait_plog NAME WORD N: bounded wait (5 s) until $T/NAME.log has N lines WORD.
wait_plog() {
    local i
    for i in $(seq 1 100); do
        [ "$(plog_count "$1" "$2")" -ge "$3" ] && return 0
        sleep 0.05
    done
    return 1
}
