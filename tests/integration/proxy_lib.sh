# shellcheck shell=bash
# Sourced by tests/integration/t_proxy_*.sh after lib.sh: real proxies (microsocks,
# dante, tinyproxy) and scripted ones (proxy_fake.py) in the SERVER namespace, and
# a client runner that keeps the shim's log. Everything started here is recorded in
# BG_PIDS (killed by lib.sh's trap; lab_down also kills whatever is left in the
# namespaces) and runs under `timeout`.
#
# How a proxied connection is told from a direct one: every proxy connects to the far
# address from inside the server namespace, bound (dante `external`, tinyproxy `Bind`,
# microsocks `-b`) to an address of the server, so the far server logs that address,
# never the client's 192.0.2.1 / 198.51.100.1 / 2001:db8:a::1 / 2001:db8:b::1.

PROXY_FAKE=$IT_DIR/proxy_fake.py
PROXY_CLIENT=$IT_DIR/proxy_client.py
PLIFE=${PLIFE:-90} # seconds any proxy may live
DANTE_USER=dsproxy
DANTE_PASS=s3cret-pw

for _p in microsocks danted tinyproxy; do
    command -v "$_p" >/dev/null 2>&1 || {
        echo "FAIL - proxies: $_p not installed (make deps: microsocks dante-server tinyproxy)"
        exit 1
    }
done

# start_microsocks NAME ADDR PORT [microsocks options]: log (stdout+stderr) in $T/NAME.log.
# microsocks logs `client[N] <client ip>: connected to <dst>:<port>`.
start_microsocks() {
    local name=$1 addr=$2 port=$3
    shift 3
    : >"$T/$name.log"
    in_srv timeout "$PLIFE" microsocks -i "$addr" -p "$port" "$@" >>"$T/$name.log" 2>&1 &
    BG_PIDS+=($!)
    wait_listen "$SRV" tcp "$addr" "$port"
}

# start_dante NAME PORT METHOD EXTERNAL... : danted listening on 198.51.100.2:PORT and
# [2001:db8:b::2]:PORT, connecting out from the EXTERNAL addresses; METHOD none or
# username. For username a throwaway user ($DANTE_USER / $DANTE_PASS) exists only
# in a private copy of /etc/passwd and /etc/shadow, bind-mounted in the mount
# namespace that `ip netns exec` gives danted alone: the system's files are never
# touched. Log: $T/NAME.log (dante logs `tcp/connect [: [username%USER@]CLIENT.PORT
# PROXY.PORT -> EXT.PORT DST.PORT`).
start_dante() {
    local name=$1 port=$2 method=$3 ext
    shift 3
    {
        echo "logoutput: $T/$name.log"
        echo "internal: $B4_SRV port = $port"
        echo "internal: $B6_SRV port = $port"
        for ext in "$@"; do echo "external: $ext"; done
        echo "clientmethod: none"
        echo "socksmethod: $method"
        echo "user.privileged: root"
        echo "user.unprivileged: nobody"
        echo "client pass { from: 0/0 to: 0/0 log: connect disconnect error }"
        echo "socks pass { from: 0/0 to: 0/0 log: connect disconnect error }"
    } >"$T/$name.conf"
    : >"$T/$name.log"
    local pre=""
    if [ "$method" = username ]; then
        cp /etc/passwd "$T/$name.passwd"
        cp /etc/shadow "$T/$name.shadow"
        echo "$DANTE_USER:x:4242:4242::/nonexistent:/usr/sbin/nologin" >>"$T/$name.passwd"
        echo "$DANTE_USER:$(openssl passwd -6 -salt dialshimtest "$DANTE_PASS"):19000:0:99999:7:::" \
            >>"$T/$name.shadow"
        chmod 600 "$T/$name.shadow"
        pre="mount --bind $T/$name.passwd /etc/passwd && mount --bind $T/$name.shadow /etc/shadow && "
    fi
    in_srv timeout "$PLIFE" sh -c "${pre}exec danted -f $T/$name.conf -N 1 -p $T/$name.pid" \
        >"$T/$name.out" 2>&1 &
    BG_PIDS+=($!)
    wait_listen "$SRV" tcp "$B4_SRV" "$port" || note "danted: $(cat "$T/$name.out")"
}

# start_tinyproxy NAME ADDR PORT BIND CONNECTPORT...: tinyproxy in the foreground on
# ADDR:PORT, connecting out from BIND, CONNECT allowed to the given ports, plus the
# lines in $TP_EXTRA (e.g. `BasicAuth user pass`). Log
# $T/NAME.log: `Connect (file descriptor N): <client ip>`, `Request ...: CONNECT h:p`.
start_tinyproxy() {
    local name=$1 addr=$2 port=$3 bind=$4 p
    shift 4
    {
        echo "Port $port"
        echo "Listen $addr"
        echo "Bind $bind"
        echo "Timeout 30"
        echo "Allow 0.0.0.0/0"
        echo "Allow ::/0"
        for p in "$@"; do echo "ConnectPort $p"; done
        echo "LogLevel Info"
        echo "LogFile \"$T/$name.log\""
        echo "PidFile \"$T/$name.pid\""
        echo "MaxClients 64"
        [ -n "${TP_EXTRA:-}" ] && echo "$TP_EXTRA"
    } >"$T/$name.conf"
    : >"$T/$name.log"
    in_srv timeout "$PLIFE" tinyproxy -d -c "$T/$name.conf" >"$T/$name.out" 2>&1 &
    BG_PIDS+=($!)
    wait_listen "$SRV" tcp "$addr" "$port"
}

# start_fake NAME MODE ADDR:PORT [proxy_fake options]: proxy_fake.py, log $T/NAME.log.
start_fake() {
    local name=$1 mode=$2 addr=$3
    shift 3
    local ready=$T/$name.ready i pid
    rm -f "$ready"
    : >"$T/$name.log"
    in_srv timeout "$PLIFE" "$PY" "$PROXY_FAKE" "$mode" --log "$T/$name.log" --ready "$ready" \
        --life $((PLIFE - 5)) "$@" "$addr" 2>"$T/$name.err" &
    pid=$!
    BG_PIDS+=($pid)
    for i in $(seq 1 100); do
        [ -e "$ready" ] && return 0
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    fail "fake proxy $name did not start: $(cat "$T/$name.err")"
    return 1
}

# run_shim CONF CMD...: runs CMD in the client namespace through the shim with
# DIALSHIM_LOG=debug. Sets RC, OUT (stdout) and ERR (stderr: the shim's log);
# the log goes to the diagnostics (VERBOSE=1) as well.
run_shim() {
    local conf=$1
    shift
    in_cli timeout "$CTMO" env LD_PRELOAD="$SHIM" DIALSHIM_CONFIG="$conf" DIALSHIM_LOG=debug \
        "$@" >"$T/run.out" 2>"$T/run.err"
    RC=$?
    OUT=$(cat "$T/run.out")
    ERR=$(cat "$T/run.err")
    note "\$ $*  -> rc=$RC"
    [ -n "$OUT" ] && note "stdout: $(printf '%s' "$OUT" | tr '\n' '|')"
    [ -n "$ERR" ] && printf '%s\n' "$ERR" | head -n 20 | sed 's/^/    #   log: /' >&2
    return 0
}

# run_bare CMD...: the same without the shim (for the bare check inside a case).
run_bare() {
    in_cli timeout "$CTMO" "$@" >"$T/run.out" 2>"$T/run.err"
    RC=$?
    OUT=$(cat "$T/run.out")
    ERR=$(cat "$T/run.err")
}

# socks_conf NAME TYPE SERVER [key = value lines on stdin]: one proxy dialer `p`
# used for every program; prints the path.
proxy_conf() {
    local name=$1 type=$2 server=$3 extra
    extra=$(cat)
    write_conf "$name" <<EOF
[dialer p]
type = $type
server = $server
$extra

[app all]
match = *
dialer = p
EOF
}

# count_lines FILE ERE: how many lines of FILE match.
count_lines() { grep -Ec -- "$2" "$1" 2>/dev/null || true; }
