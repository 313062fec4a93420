#!/bin/bash
# Bench part: emulated round-trip time (tundelay) and RTT counts through a remote
# SOCKS5 proxy. Prints markdown rows (and <!-- comments -->) on stdout, details on
# stderr. Called by run.sh; `bash tests/bench/rtt.sh` runs it alone (root).
#
# The lab is lib.sh's delay lab: client bc-$$ ── router br-$$ (tundelay: DELAY ms
# each way) ── proxy bp-$$ (198.51.100.1: danted :1080 no auth, :1081 username,
# connecting out from 203.0.113.1) ── far bf-$$ (203.0.113.2: ttfb server :8080).
# The client has no route to 203.0.113.0/24: only a proxy reaches the far server,
# and the far server logs the proxy's 203.0.113.1 as its peer.
#
# Variants of the RTT count (time from connect() to the first byte of the answer
# to a request, divided by the RTT measured with ping):
#   proxychains-ng    proxychains4 -f CONF ttfb client ...       (lockstep)
#   curl --socks5     curl's own SOCKS5 client                    (lockstep)
#   dialshim          handshake = lockstep | pipelined | pipelined + tcp_fast_open
#                     (TFO: net.ipv4.tcp_fastopen = 3 in the client; 0x403 in the
#                     proxy namespace, which makes every listener, danted's too,
#                     accept data in the SYN without setting TCP_FASTOPEN itself;
#                     one run first fetches the cookie)
# each without and with username/password (danted, a throwaway user that exists only
# in a bind-mounted copy of /etc/passwd and /etc/shadow in danted's mount namespace).
set -u
. "$(dirname "$0")/lib.sh"

DELAY=${BENCH_DELAY_MS:-25}
RUNS=${BENCH_RTT_RUNS:-5} # rounds; each variant makes 3 connections a round
USER_=dsbench PASS_=bench-pw-$$

for p in danted proxychains4 curl openssl; do
    command -v $p >/dev/null || { echo "<!-- rtt: $p missing (make deps) -->"; exit 1; }
done
cc -O2 -Wall -Wextra -Werror -o "$B/ttfb" "$BENCH_DIR/ttfb.c" || exit 1

# ------------------------------------------------------------------ the lab
delay_lab_up "$DELAY" || { echo "<!-- rtt: the delay lab did not come up: $(cat "$BT/tundelay.out") -->"; exit 1; }
ip netns exec $C sysctl -qw net.ipv4.tcp_fastopen=3 >/dev/null
ip netns exec $P sysctl -qw net.ipv4.tcp_fastopen=1027 >/dev/null # 0x403: see above
ip netns exec $F sysctl -qw net.ipv4.tcp_fastopen=3 >/dev/null

# ------------------------------------------------------------------ servers
bg $F "$BT/far.log" "$B/ttfb" server $FAR 8080 "$LIFE"
dante_conf() { # PORT METHOD
    cat <<EOF
logoutput: $BT/dante$1.log
internal: $PROXY port = $1
external: $PROXY_EXT
clientmethod: none
socksmethod: $2
user.privileged: root
user.unprivileged: nobody
client pass { from: 0/0 to: 0/0 }
socks pass { from: 0/0 to: 0/0 }
EOF
}
dante_conf 1080 none >"$BT/dante1080.conf"
dante_conf 1081 username >"$BT/dante1081.conf"
cp /etc/passwd "$BT/passwd"
cp /etc/shadow "$BT/shadow"
echo "$USER_:x:4243:4243::/nonexistent:/usr/sbin/nologin" >>"$BT/passwd"
echo "$USER_:$(openssl passwd -6 -salt dsbench "$PASS_"):19000:0:99999:7:::" >>"$BT/shadow"
chmod 600 "$BT/shadow"
bg $P "$BT/dante1080.out" danted -f "$BT/dante1080.conf" -N 1 -p "$BT/dante1080.pid"
bg $P "$BT/dante1081.out" sh -c "mount --bind $BT/passwd /etc/passwd && \
    mount --bind $BT/shadow /etc/shadow && exec danted -f $BT/dante1081.conf -N 1 -p $BT/dante1081.pid"
for port in 1080 1081; do wait_listen $P $port || exit 1; done
wait_listen $F 8080 || exit 1

# ------------------------------------------------------------------ 1. the RTT
lab_rtt || { echo "<!-- rtt: no RTT measured: $(tr '\n' ' ' <"$BT/ping") -->"; exit 1; }
echo "bench rtt: $RTT_HOW through tundelay ($DELAY ms each way): median $RTT ms; $(tail -n 1 "$BT/ping")" >&2
row "emulated round-trip time: $RTT_HOW over the TUN delay loop (one-way $DELAY ms; median of 40)" \
    "$(calc "%.1f ms" "2 * $DELAY") (2 x delay)" "$RTT ms" "$(calc "$RTT / (2 * $DELAY)")" \
    "report" "yes"

# ------------------------------------------------------------------ 2. RTT counts
direct=$(ip netns exec $C timeout 3 "$B/ttfb" client $FAR 8080 1 0 2>&1 | head -n 1)
echo "bench rtt: a direct connection to the far server from the client: $direct" >&2
CHECKS=""
case $direct in *unreachable*) ;; *) CHECKS=" client-reaches-far-directly" ;; esac

pc_conf() { # PORT [USER PASS]
    printf 'strict_chain\nquiet_mode\ntcp_read_time_out 15000\ntcp_connect_time_out 8000\n'
    printf '[ProxyList]\nsocks5 %s %s %s\n' $PROXY "$1" "${2:+$2 $3}"
}
pc_conf 1080 >"$BT/pc-none.conf"
pc_conf 1081 $USER_ "$PASS_" >"$BT/pc-auth.conf"

ds_conf() { # AUTH HANDSHAKE TFO
    local port=1080
    [ "$1" = auth ] && port=1081
    {
        echo "[dialer p]"
        echo "type = socks5"
        echo "server = $PROXY:$port"
        echo "handshake = $2"
        echo "connect_timeout = 10s"
        [ "$1" = auth ] && printf 'username = %s\npassword = %s\n' $USER_ "$PASS_"
        if [ "$3" = tfo ]; then
            printf 'detour = fast\n\n[dialer fast]\ntype = direct\ntcp_fast_open = true\n'
        fi
        printf '\n[app all]\nmatch = *\ndialer = p\n'
    } >"$BT/ds-$1-$2-$3.ini"
    chmod 600 "$BT/ds-$1-$2-$3.ini"
}
for auth in none auth; do
    for hs in lockstep pipelined; do ds_conf $auth $hs notfo; done
    ds_conf $auth pipelined tfo
done

# sample AUTH VARIANT: one client process, PER connections; appends ttfb_ms values to
# $BT/AUTH-VARIANT.ms and the replies to $BT/AUTH-VARIANT.replies
PER=3
sample() {
    local auth=$1 v=$2 port=1080 cred="" i
    [ "$auth" = auth ] && port=1081 cred=$USER_:$PASS_@
    case $v in
    pc) ip netns exec $C timeout 30 proxychains4 -q -f "$BT/pc-$auth.conf" \
        "$B/ttfb" client $FAR 8080 $PER 10 ;;
    curl) for i in $(seq 1 $PER); do
        ip netns exec $C timeout 10 curl -s --max-time 8 -w '\nttfb_s=%{time_starttransfer}\n' \
            -x "socks5://$cred$PROXY:$port" "http://$FAR:8080/"
        sleep 0.01
    done | awk -F= '/^ttfb_s=/ { printf "ttfb_ms=%.3f\n", $2 * 1000; next }
                    /^you are/ { print "reply=" $0; next }' ;;
    lockstep | pipelined) ip netns exec $C timeout 30 env LD_PRELOAD="$SHIM" \
        DIALSHIM_CONFIG="$BT/ds-$auth-$v-notfo.ini" "$B/ttfb" client $FAR 8080 $PER 10 ;;
    tfo) ip netns exec $C timeout 30 env LD_PRELOAD="$SHIM" \
        DIALSHIM_CONFIG="$BT/ds-$auth-pipelined-tfo.ini" "$B/ttfb" client $FAR 8080 $PER 10 ;;
    esac >"$BT/out" 2>"$BT/err"
    sed -n 's/^ttfb_ms=//p' "$BT/out" >>"$BT/$auth-$v.ms"
    sed -n 's/^reply=//p' "$BT/out" >>"$BT/$auth-$v.replies"
    [ -s "$BT/err" ] && head -c 300 "$BT/err" | sed "s/^/bench rtt: $auth-$v: /" >&2
    return 0
}

VARIANTS="pc curl lockstep pipelined tfo"
declare -A M N TFO_ACTIVE
for auth in none auth; do
    # the TFO cookie: fetched by a first connection that is not counted
    ip netns exec $C timeout 20 env LD_PRELOAD="$SHIM" DIALSHIM_CONFIG="$BT/ds-$auth-pipelined-tfo.ini" \
        "$B/ttfb" client $FAR 8080 1 0 >/dev/null 2>&1
    a0=$(kcounter $C TcpExtTCPFastOpenActive)
    for r in $(seq 1 "$RUNS"); do
        for v in $VARIANTS; do sample $auth $v; done
    done
    a1=$(kcounter $C TcpExtTCPFastOpenActive)
    TFO_ACTIVE[$auth]=$((a1 - a0))
    for v in $VARIANTS; do
        M[$auth-$v]=$(median <"$BT/$auth-$v.ms")
        N[$auth-$v]=n/a
        [ -n "${M[$auth-$v]}" ] && N[$auth-$v]=$(calc "%.2f" "${M[$auth-$v]} / $RTT")
        got=$(sort "$BT/$auth-$v.replies" | uniq -c | tr -s ' ' | tr '\n' ';')
        echo "bench rtt: $auth $v: $(wc -l <"$BT/$auth-$v.ms") connections, median ${M[$auth-$v]:-none} ms = ${N[$auth-$v]} RTT; replies:$got" >&2
        if [ "$(wc -l <"$BT/$auth-$v.ms")" != $((RUNS * PER)) ] ||
            [ "$(sort -u "$BT/$auth-$v.replies")" != "you are $PROXY_EXT" ]; then
            CHECKS="$CHECKS $auth-$v"
        fi
    done
    echo "bench rtt: TFO ($auth): TcpExtTCPFastOpenActive in the client +${TFO_ACTIVE[$auth]} for $((RUNS * PER)) connections" >&2
done

peers=$(awk '$1 == "PEER" { print $2 }' "$BT/far.log" | sort | uniq -c | tr -s ' ' | tr '\n' ';')
echo "bench rtt: the far server's peers:$peers" >&2
[ -z "$(awk -v p=$PROXY_EXT '$1 == "PEER" && $2 != p' "$BT/far.log")" ] || CHECKS="$CHECKS far-saw-other-peer"

# rows: dialshim variant vs a baseline; a target of N RTT is met when the count < N + 0.5
rttrow() { # WHAT BASEKEY KEY TARGET_RTTS
    local base=${M[$2]:-} ours=${M[$3]:-} ratio=n/a met=NO
    if [ -n "$base" ] && [ -n "$ours" ]; then
        ratio=$(calc "$ours / $base")
        met=$(yesno "${N[$3]} < $4 + 0.5")
    fi
    row "$1" "${N[$2]} RTT (${base:-failed} ms)" "${N[$3]} RTT (${ours:-failed} ms)" "$ratio" \
        "<= $4 RTT" "$met"
}
for auth in none auth; do
    if [ $auth = none ]; then a="no auth"; x=0; else a="username/password"; x=1; fi
    rttrow "RTT count, connect to first answer byte via a remote SOCKS5 proxy (danted), $a: proxychains-ng vs dialshim handshake=lockstep" $auth-pc $auth-lockstep $((4 + x))
    rttrow "RTT count, $a: curl --socks5 (its own SOCKS5) vs dialshim lockstep" $auth-curl $auth-lockstep $((4 + x))
    rttrow "RTT count, $a: proxychains-ng vs dialshim handshake=pipelined" $auth-pc $auth-pipelined 3
    rttrow "RTT count, $a: proxychains-ng vs dialshim pipelined + tcp_fast_open (cookie cached; data in SYN: ${TFO_ACTIVE[$auth]} of $((RUNS * PER)))" $auth-pc $auth-tfo 2
done
[ -z "$CHECKS" ] || echo "<!-- rtt: CHECKS FAILED:$CHECKS (see stderr) -->"
echo "<!-- rtt: unit = median RTT by $RTT_HOW, $RTT ms; each count is the median of $((RUNS * PER)) connections in $RUNS alternating rounds; proxy really used (the client has no route to $FAR, every answer and the far server's log name $PROXY_EXT): $([ -z "$CHECKS" ] && echo yes || echo NO); TFO accepted by danted through net.ipv4.tcp_fastopen=0x403 in its namespace -->"
