#!/bin/bash
# dialshim import: a proxychains.conf (strict_chain, proxy_dns, a socks5 entry with
# credentials to Dante) and a torsocks.conf (a SOCKS5 server on 127.0.0.1:9050, as
# Tor is) become INI files that `dialshim check` accepts and that carry curl through
# those proxies: the web server sees the proxy's address, the proxy logs the client
# (Dante: the user name). The torsocks file's AllowOutboundLocalhost 0 refuses a
# loopback destination (the loopback server sees nothing) while the proxy itself,
# on loopback too, is still reached. A round_robin_chain of two proxies with
# chain_len 2 becomes two groups: four connects of one process take rr1>rr2, rr2>rr1,
# rr1>rr2, rr2>rr1 (each proxy's log).
# Verified to fail with the tool before `import` existed (DIALSHIM=<old build>):
# no output, check fails, every curl case fails.
. "$(dirname "$0")/lib.sh"
. "$IT_DIR/proxy_lib.sh"
lab_up
shim_present
srv_start web --http $FAR4:8080
start_dante dauth 1083 username $FAR4
WLOG=$T/web.log DA=$T/dauth.log
CURL="curl -sS --max-time 5 -o /dev/null -w %{http_code}"

# import NAME: imports $T/NAME.conf into $T/NAME.ini (mode 600, it may hold a
# password); sets IRC (import's status) and CHECK (dialshim check's output)
import() {
    in_cli timeout 10 "$DIALSHIM" import "$T/$1.conf" >"$T/$1.ini" 2>"$T/$1.import.err"
    IRC=$?
    chmod 600 "$T/$1.ini"
    CHECK=$(in_cli timeout 10 "$DIALSHIM" check -c "$T/$1.ini" 2>&1)
    note "import $1 -> $IRC: $(tr '\n' '|' <"$T/$1.import.err"); check: $CHECK"
    [ -n "${VERBOSE:-}" ] && sed 's/^/    #   ini: /' "$T/$1.ini" >&2
    return 0
}

case_begin "proxychains.conf: strict_chain, socks5 with credentials to Dante: check accepts it, curl goes through Dante"
cat >"$T/pc.conf" <<EOF
# proxychains.conf written by the test
strict_chain
proxy_dns
remote_dns_subnet 224
tcp_read_time_out 15000
tcp_connect_time_out 8000
localnet 127.0.0.0/255.0.0.0
dnat 192.0.2.10 192.0.2.11
[ProxyList]
socks5 $B4_SRV 1083 $DANTE_USER $DANTE_PASS
EOF
import pc
assert_eq "$IRC" 0 "import's exit status"
assert_eq "$CHECK" "ok: 1 dialers, 1 apps" "dialshim check on the output"
assert_match "$(cat "$T/pc.ini")" "^; line 8: dnat: left out" "the comment on the line without an equivalent"
code=$(in_cli timeout 10 "$DIALSHIM" -c "$T/pc.ini" -- $CURL http://$FAR4:8080/ 2>"$T/run.err")
assert_eq "$code" 200 "curl's answer ($(head -c 200 "$T/run.err"))"
assert_saw "$WLOG" "$FAR4" "web server (Dante's external address, not the client's)"
assert_match "$(cat "$DA")" "username%$DANTE_USER@$B4_CLI" "Dante's log: the client with the user name"

case_begin "torsocks.conf: a SOCKS5 server at 127.0.0.1:9050: check accepts it, curl goes through it"
# microsocks in the client namespace on loopback, as Tor would be, leaving by link B
: >"$T/tor.log"
in_cli timeout "$PLIFE" microsocks -i 127.0.0.1 -p 9050 -b $B4_CLI >>"$T/tor.log" 2>&1 &
BG_PIDS+=($!)
wait_listen "$CLI" tcp 127.0.0.1 9050
ns_server_start "$CLI" loop 127.0.0.1:8099
cat >"$T/ts.conf" <<EOF
# torsocks.conf written by the test
TorAddress 127.0.0.1
TorPort 9050
OnionAddrRange 127.42.42.0/24
AllowOutboundLocalhost 0
IsolatePID 0
EOF
import ts
assert_eq "$IRC" 0 "import's exit status"
assert_eq "$CHECK" "ok: 1 dialers, 1 apps" "dialshim check on the output"
code=$(in_cli timeout 10 "$DIALSHIM" -c "$T/ts.ini" -- $CURL http://$FAR4:8080/ 2>"$T/run.err")
assert_eq "$code" 200 "curl's answer ($(head -c 200 "$T/run.err"))"
assert_saw "$WLOG" "$B4_CLI" "web server (the proxy's link B address, not link A's)"
assert_match "$(cat "$T/tor.log")" "127.0.0.1: connected to $FAR4:8080" "the proxy's log"

case_begin "torsocks.conf, AllowOutboundLocalhost 0: a loopback destination is refused, its server sees nothing"
code=$(in_cli timeout 10 "$DIALSHIM" -c "$T/ts.ini" -- $CURL http://127.0.0.1:8099/ 2>"$T/run.err")
assert_eq "$code" 000 "curl's answer"
assert_saw_nothing "$T/loop.log" "the loopback server"

case_begin "proxychains.conf: round_robin_chain, chain_len 2: each connect takes two consecutive proxies from a moving start"
start_dante rr1 1101 none $FAR4
start_dante rr2 1102 none $FAR4
srv_start far $FAR4:8081
cat >"$T/rr.conf" <<EOF
round_robin_chain
chain_len = 2
[ProxyList]
socks5 $B4_SRV 1101
socks5 $B4_SRV 1102
EOF
import rr
assert_eq "$IRC" 0 "import's exit status"
assert_eq "$CHECK" "ok: 6 dialers, 1 apps" "dialshim check on the output"
# one process, four connects (proxychains-ng's rotation is per process too)
out=$(in_cli timeout 20 "$DIALSHIM" -c "$T/rr.ini" -- $PY -c '
import socket
for i in range(4):
    s = socket.create_connection(("203.0.113.2", 8081), timeout=5)
    print("got%d=%r" % (i, s.recv(64)))
    s.close()' 2>"$T/run.err")
note "$(printf '%s' "$out" | tr '\n' '|') $(head -c 300 "$T/run.err")"
assert_eq "$(kv "$out" got3)" "b'you are 203.0.113.2\\n'" "the fourth connect's answer"
# dante logs "tcp/connect [: CLIENT.PORT PROXY.PORT -> EXT.PORT DST.PORT" when it
# connects ("]:" when the session ends)
for p in rr1 rr2; do
    assert_eq "$(count_lines "$T/$p.log" "tcp/connect \\[: .* -> .* 203\.0\.113\.2\.8081")" 2 "$p as the last hop"
done
assert_eq "$(count_lines "$T/rr1.log" "tcp/connect \\[: 198\.51\.100\.1\.[0-9]+ 198\.51\.100\.2\.1101 -> .* 198\.51\.100\.2\.1102")" 2 "rr1 first, then rr2"
assert_eq "$(count_lines "$T/rr2.log" "tcp/connect \\[: 198\.51\.100\.1\.[0-9]+ 198\.51\.100\.2\.1102 -> .* 198\.51\.100\.2\.1101")" 2 "rr2 first, then rr1"

case_begin "proxychains.conf, an http proxy whose user name holds ':' (Basic authentication cannot carry it): left out with a comment, check accepts the output, curl is refused and the web server sees nothing"
cat >"$T/colon.conf" <<EOF
strict_chain
[ProxyList]
http $B4_SRV 3128 us:er secret
EOF
: >"$WLOG.before"
cp "$WLOG" "$WLOG.before"
import colon
assert_eq "$IRC" 0 "import's exit status"
assert_eq "$CHECK" "ok: 0 dialers, 1 apps" "dialshim check on the output"
assert_match "$(cat "$T/colon.ini")" "^; line 3: http proxy .*: a user name with ':' cannot be sent" "the comment"
code=$(in_cli timeout 10 "$DIALSHIM" -c "$T/colon.ini" -- $CURL http://$FAR4:8080/ 2>"$T/run.err")
assert_eq "$code" 000 "curl's answer"
assert_eq "$(wc -l <"$WLOG")" "$(wc -l <"$WLOG.before")" "lines in the web server's log"

case_begin "a file of neither format: exit 2, nothing on stdout, FILE:0 on stderr"
printf 'hello world\n' >"$T/neither.conf"
out=$(in_cli timeout 10 "$DIALSHIM" import "$T/neither.conf" 2>"$T/neither.err")
assert_eq "$?" 2 "exit status"
assert_eq "$out" "" "stdout"
assert_match "$(cat "$T/neither.err")" "neither.conf:0: neither a proxychains.conf nor a torsocks.conf" "stderr"
finish
