#!/bin/bash
# Bench part: an event loop opening many connections at once through a remote
# SOCKS5 proxy (non-blocking dials). Prints markdown rows (and <!-- comments -->) on
# stdout, details on stderr. Called by run.sh; `bash tests/bench/nb.sh` runs it alone.
#
# The lab is lib.sh's delay lab: client bc-$$ ── router br-$$ (tundelay: DELAY ms
# each way, RTT 2 x DELAY) ── proxy bp-$$ (198.51.100.1: danted :1081 with
# username/password, connecting out from 203.0.113.1; and an nbclient.py server on
# :8080, the "direct" destination, as far as the proxy) ── far bf-$$ (203.0.113.2:
# nbclient.py server :8080, which the client can reach only through the proxy).
#
# One python asyncio program (nbclient.py run) opens N connections with
# asyncio.gather, each writes a line and reads the one-line answer; it measures from
# before the first connect to the last answer. Variants, in turning order each round:
#   direct        bare, to 198.51.100.1:8080 (no proxy: the floor, 2 RTT)
#   native        bare, the program speaks SOCKS5 over asyncio itself (lockstep with
#                 a password: 5 RTT): the yardstick
#   dialshim      plain connects under the shim, one socks5 dialer, default handshake
#   proxychains   plain connects under proxychains4 (proxychains-ng)
# Targets (issue "non-blocking dials"): dialshim <= 1.2 x native and <= 8 RTT.
set -u
. "$(dirname "$0")/lib.sh"

DELAY=${BENCH_NB_DELAY_MS:-10}
CONNS=${BENCH_NB_CONNS:-50}
ROUNDS=${BENCH_NB_ROUNDS:-5}
USER_=dsbench PASS_=bench-pw-$$
NBC=$BENCH_DIR/nbclient.py
PY=/usr/bin/python3

for p in danted proxychains4 openssl $PY; do
    command -v $p >/dev/null || { echo "<!-- nb: $p missing (make deps) -->"; exit 1; }
done

delay_lab_up "$DELAY" || { echo "<!-- nb: the delay lab did not come up: $(cat "$BT/tundelay.out") -->"; exit 1; }
bg $F "$BT/far.log" $PY "$NBC" server $FAR 8080 "$LIFE"
bg $P "$BT/near.log" $PY "$NBC" server $PROXY 8080 "$LIFE"
cat >"$BT/dante.conf" <<EOF
logoutput: $BT/dante.log
internal: $PROXY port = 1081
external: $PROXY_EXT
clientmethod: none
socksmethod: username
user.privileged: root
user.unprivileged: nobody
client pass { from: 0/0 to: 0/0 }
socks pass { from: 0/0 to: 0/0 }
EOF
cp /etc/passwd "$BT/passwd"
cp /etc/shadow "$BT/shadow"
echo "$USER_:x:4243:4243::/nonexistent:/usr/sbin/nologin" >>"$BT/passwd"
# The password's hash is MD5-crypt (about 0.3 ms of danted's CPU per login), not
# the system default SHA-512-crypt (5000 rounds, 3-6 ms per login here): 50 of
# those on this 2-core machine take longer than the round trips being counted, so
# the rows measured the proxy's hashing, for every variant alike (native 9.3 RTT,
# dialshim 9.4 on a quiet machine). BENCH_NB_HASH=-6 measures that way.
echo "$USER_:$(openssl passwd ${BENCH_NB_HASH:--1} -salt dsbench "$PASS_"):19000:0:99999:7:::" >>"$BT/shadow"
chmod 600 "$BT/shadow"
bg $P "$BT/dante.out" sh -c "mount --bind $BT/passwd /etc/passwd && \
    mount --bind $BT/shadow /etc/shadow && exec danted -f $BT/dante.conf -N 1 -p $BT/dante.pid"
wait_listen $P 1081 || exit 1
wait_listen $P 8080 || exit 1
wait_listen $F 8080 || exit 1

lab_rtt || { echo "<!-- nb: no RTT measured: $(tr '\n' ' ' <"$BT/ping") -->"; exit 1; }
echo "bench nb: $RTT_HOW through tundelay ($DELAY ms each way): median $RTT ms" >&2

cat >"$BT/ds.ini" <<EOF
[dialer p]
type = socks5
server = $PROXY:1081
username = $USER_
password = $PASS_
connect_timeout = 20s

[app all]
match = *
dialer = p
EOF
chmod 600 "$BT/ds.ini"
printf 'strict_chain\nquiet_mode\ntcp_read_time_out 15000\ntcp_connect_time_out 8000\n[ProxyList]\nsocks5 %s 1081 %s %s\n' \
    $PROXY $USER_ "$PASS_" >"$BT/pc.conf"

# sample VARIANT: one program run; appends elapsed_ms to $BT/VARIANT.ms and its
# answers to $BT/VARIANT.replies (a run where not every connection answered counts
# as failed: its time is not kept)
sample() {
    local v=$1
    case $v in
    direct) ip netns exec $C timeout 60 $PY "$NBC" run $PROXY 8080 "$CONNS" ;;
    native) ip netns exec $C timeout 60 $PY "$NBC" run $FAR 8080 "$CONNS" \
        --socks $PROXY:1081 --user $USER_ --password "$PASS_" ;;
    dialshim) ip netns exec $C timeout 60 env LD_PRELOAD="$SHIM" DIALSHIM_CONFIG="$BT/ds.ini" \
        $PY "$NBC" run $FAR 8080 "$CONNS" ;;
    proxychains) ip netns exec $C timeout 60 proxychains4 -q -f "$BT/pc.conf" \
        $PY "$NBC" run $FAR 8080 "$CONNS" ;;
    esac >"$BT/out" 2>"$BT/err"
    echo "bench nb: $v: $(tr '\n' ' ' <"$BT/out" | head -c 300)" >&2
    [ -s "$BT/err" ] && head -c 300 "$BT/err" | sed "s/^/bench nb: $v: /" >&2
    sed -n 's/^reply=//p' "$BT/out" >>"$BT/$v.replies"
    if [ "$(sed -n 's/^ok=//p' "$BT/out")" = "$CONNS" ]; then
        sed -n 's/^elapsed_ms=//p' "$BT/out" >>"$BT/$v.ms"
    else
        echo "$v" >>"$BT/failed"
    fi
    return 0
}

VARIANTS=(direct native dialshim proxychains)
sample dialshim # warm up (page cache, danted's first children): not counted
for v in "${VARIANTS[@]}"; do : >"$BT/$v.ms"; : >"$BT/$v.replies"; done
: >"$BT/failed"
for r in $(seq 1 "$ROUNDS"); do
    n=${#VARIANTS[@]}
    for i in $(seq 0 $((n - 1))); do sample "${VARIANTS[$(((i + r) % n))]}"; done
done

declare -A M X
for v in "${VARIANTS[@]}"; do
    M[$v]=$(median <"$BT/$v.ms")
    X[$v]=n/a
    [ -n "${M[$v]}" ] && X[$v]=$(calc "%.2f" "${M[$v]} / $RTT")
    echo "bench nb: $v: $(wc -l <"$BT/$v.ms") of $ROUNDS runs complete, median ${M[$v]:-none} ms = ${X[$v]} RTT" >&2
done
CHECKS=""
[ -s "$BT/failed" ] && CHECKS=" incomplete-runs:$(sort "$BT/failed" | uniq -c | tr -s ' ' | tr '\n' ',')"
for v in native dialshim proxychains; do
    [ "$(sort -u "$BT/$v.replies")" = "you are $PROXY_EXT" ] || CHECKS="$CHECKS $v-answers"
done
[ -z "$(awk -v p=$PROXY_EXT '$1 == "PEER" && $2 != p' "$BT/far.log")" ] || CHECKS="$CHECKS far-saw-other-peer"

cell() { # VARIANT
    if [ -n "${M[$1]}" ]; then echo "${X[$1]} RTT ($(calc "%.0f" "${M[$1]}") ms)"; else echo failed; fi
}
ratio() { # A B: A / B
    if [ -n "${M[$1]}" ] && [ -n "${M[$2]}" ]; then calc "${M[$1]} / ${M[$2]}"; else echo n/a; fi
}
what="python asyncio, $CONNS connections opened at once via a remote SOCKS5 proxy (danted, username/password, MD5-crypt hash), $(calc "%.0f" "2 * $DELAY") ms RTT"
met_ratio=NO met_rtt=NO
if [ -n "${M[dialshim]}" ] && [ -n "${M[native]}" ]; then
    met_ratio=$(yesno "${M[dialshim]} <= 1.2 * ${M[native]}")
fi
[ -n "${M[dialshim]}" ] && met_rtt=$(yesno "${X[dialshim]} < 8 + 0.5")
row "$what: a native asyncio SOCKS5 client (lockstep) vs dialshim" "$(cell native)" "$(cell dialshim)" \
    "$(ratio dialshim native)" "<= 1.2" "$met_ratio"
row "$what: RTT count, direct (no proxy: the floor) vs dialshim" "$(cell direct)" "$(cell dialshim)" \
    "$(ratio dialshim direct)" "<= 8 RTT" "$met_rtt"
row "$what: proxychains-ng vs dialshim" "$(cell proxychains)" "$(cell dialshim)" \
    "$(ratio dialshim proxychains)" "report" "yes"
[ -z "$CHECKS" ] || echo "<!-- nb: CHECKS FAILED:$CHECKS (see stderr) -->"
echo "<!-- nb: unit = median RTT by $RTT_HOW, $RTT ms; each time is the median of $ROUNDS runs (variants in turning order), from before the first connect to the last answer; proxy really used (the client has no route to $FAR, every answer names $PROXY_EXT): $([ -z "$CHECKS" ] && echo yes || echo NO); direct takes 2 RTT on an idle machine, so its count here shows what CPU load adds to every variant -->"
