#!/bin/bash
# DNS fault injection (issue 6): the shim's resolver ([resolver], c-ares) pointed at
# a dead server, a slow one, one that answers malformed packets, and one that answers
# SERVFAIL / NXDOMAIN / REFUSED. Real clients (python3 socket.getaddrinfo, getent
# ahosts, curl) must get the documented EAI code (dialshim(1) ERRORS: unknown name EAI_NONAME,
# server failure or timeout EAI_AGAIN) within the resolver's budget (timeout x
# attempts x servers + 250 ms slack, here 200ms x 2 + 250 = 650 ms), with a log line,
# no crash and no leaked descriptor; a program that connects to a name that did not
# resolve must send nothing anywhere, in mode real and in mode fake_ip.
#
# The peer is tests/integration/dns_fault.py (the first label of the name picks the
# fault). Where the manual pages are silent (a malformed reply) the code is compared with what
# glibc 2.36 gives for the very same server, measured by hand (see the notes below).
#
# The leak detector: the client namespace's own hosts file (/etc/netns/NAME/hosts,
# bind-mounted by ip netns exec) maps every *-leak.example name to the far host,
# and the resolver here has hosts_file empty. A shim that fell back to the libc
# resolver after a failure would reach the far host, whose listener ([::]:8080 HTTP,
# [::]:8081 plain) also accepts anything sent to the fake ranges, which are routed
# to the server namespace here. Nothing may show up there.
#
# Verified to fail without the shim (SHIM=/nonexistent): lookups then go to the dead
# resolv.conf (EAI_AGAIN after 2 s, too slow, and no log line), the *-leak names
# resolve from the hosts file and curl/python reach the far host; only the lab guard
# case passes bare.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/names_lib.sh"
names_lab_up
shim_present

FAULT_LOG=$T/fault.log
SHIM_LOG=$T/shim.log
CLIENT=$IT_DIR/dns_fault_client.py
# the fake ranges, inside 203.0.113.0/24 and 2001:db8:f::/48 (routed to the server by
# the lab), so a connect that went direct to a fake address would be seen there
FAKE4_RANGE=203.0.113.128/25 FAKE6_RANGE=2001:db8:f:4000::/50
FAKE4_ADDR=203.0.113.129

# the scripted server on 192.0.2.2:53 and [2001:db8:a::2]:53; nothing on TCP 53 and
# nothing at all on port 5399 (the kernel answers ICMP port unreachable)
in_srv timeout 150 "$PY" "$IT_DIR/dns_fault.py" --log "$FAULT_LOG" --ready "$T/fault.ready" \
    --life 140 192.0.2.2:53 "[2001:db8:a::2]:53" 2>"$T/fault.err" &
BG_PIDS+=($!)
for _ in $(seq 1 100); do
    [ -e "$T/fault.ready" ] && break
    sleep 0.05
done
[ -e "$T/fault.ready" ] || { echo "FAIL - dns fault server did not start: $(cat "$T/fault.err")"; exit 1; }
ip -n "$SRV" route add local $FAKE4_RANGE dev lo
ip -n "$SRV" -6 route add local $FAKE6_RANGE dev lo
srv_start web --http 0.0.0.0:8080 "[::]:8080"
srv_start far 0.0.0.0:8081 "[::]:8081"
WLOG=$T/web.log FLOG=$T/far.log
printf '%s\n' "$FAR4 drop-leak.example servfail-leak.example nxdomain-leak.example" \
    "$FAR4 refused-leak.example ancount-leak.example tc-leak.example garbage-leak.example" \
    >"$NETNS_ETC/hosts"

conf_for() { # NAME SERVERS MODE
    write_conf "$1" <<EOF
[global]
log_level = info
log_file = $SHIM_LOG
fake_ip_range = $FAKE4_RANGE
fake_ip6_range = $FAKE6_RANGE

[resolver fl]
servers = $2
timeout = 200ms
attempts = 2
hosts_file =
mode = $3

[dialer main]
type = direct
domain_resolver = fl
connect_timeout = 3s

[app all]
match = *
dialer = main
EOF
}
CFG=$(conf_for real 192.0.2.2 real)
FAKE=$(conf_for fake 192.0.2.2 fake_ip)
BUDGET=650          # ms: 200ms x 2 attempts x 1 server + 250 ms slack (common/dns.c)
WAITED_MIN=380      # ms: a timeout case waited for both attempts at least
PY_MAX=1000         # ms: the budget, and room for a loaded machine, inside python
PROC_MAX=1500       # ms: the same for a whole getent/curl process (startup included)
FAST_MAX=300        # ms: an answer that needs no timeout (two round trips at most)

# run CONF CMD...: CMD under the shim in the client namespace; sets RC, OUT and MS
# (wall-clock milliseconds of the whole process).
run() {
    local conf=$1 t0
    shift
    t0=$(date +%s%N)
    OUT=$(shim "$conf" "$@" 2>"$T/run.err")
    RC=$?
    MS=$((($(date +%s%N) - t0) / 1000000))
    note "\$ $*  -> rc=$RC ${MS}ms $(printf '%s' "$OUT" | tr '\n' ' ' | head -c 300)"
}

# gai CONF NAME: python3 socket.getaddrinfo; sets RC OUT MS and CODE, EL (its elapsed_ms).
gai() {
    run "$1" "$PY" "$CLIENT" gai "$2"
    CODE=$(kv "$OUT" rc) EL=$(kv "$OUT" elapsed_ms)
}

# logged NAME EAI: the shim's log has the getaddrinfo line for NAME with result EAI.
logged() {
    assert_match "$(grep -F " getaddrinfo $1 " "$SHIM_LOG" 2>/dev/null)" \
        "dialshim: [a-z0-9]+\[[0-9]+\] getaddrinfo $1 app=all .*resolver=fl .*result=$2" \
        "the shim's log line for $1"
}

# asked MODE NAME: the fault server saw a query for NAME.
asked() { assert_match "$(cat "$FAULT_LOG")" "^Q $1 $2 A+ " "the DNS server saw the query for $2"; }

# not_crashed: python's own exit statuses only (a signal would be 128+N).
not_crashed() { [ "$RC" -le 4 ] || fail "the client died (status $RC): $(head -c 300 "$T/run.err")"; }

case_begin "lab guard: the *-leak names resolve from the client's hosts file and reach the far host bare (passes bare)"
out=$(bare getent ahosts servfail-leak.example)
assert_match "$out" "^$FAR4 " "bare getent via the hosts file"
out=$(bare curl -sS --max-time 5 http://servfail-leak.example:8080/ 2>&1)
assert_match "$out" "you are $A4_CLI" "bare curl reaches the far host"
assert_saw "$WLOG" $A4_CLI "far host (HTTP)"
out=$(bare "$PY" "$CLIENT" dial $FAKE4_ADDR 8081)
assert_match "$(kv "$out" reply)" "you are $A4_CLI" "a direct connect to a fake address is seen"
assert_saw "$FLOG" $A4_CLI "far host (plain, fake address)"

case_begin "control: a good answer from the same server resolves (ok-1.example)"
gai "$CFG" ok-1.example
assert_eq "$CODE" 0 "getaddrinfo rc ($OUT)"
assert_eq "$(kv "$OUT" addrs)" "$FAR4,$FAR6" "addresses"
asked ok ok-1.example
logged ok-1.example ok

# ---------------------------------------------------------------- (a) dead server

case_begin "dead server that gets the queries and never answers: EAI_AGAIN (-3) within the budget"
gai "$CFG" drop-1.example
not_crashed
assert_eq "$CODE" -3 "getaddrinfo rc"
assert_le "$EL" $PY_MAX "elapsed ms (budget $BUDGET)"
assert_ge "$EL" $WAITED_MIN "elapsed ms (both attempts waited for)"
asked drop drop-1.example
logged drop-1.example EAI_AGAIN

case_begin "dead server at an address that routes nowhere (blackholed, no ICMP): EAI_AGAIN within the budget"
gai "$(conf_for silent $SILENT4 real)" drop-2.example
assert_eq "$CODE" -3 "getaddrinfo rc"
assert_le "$EL" $PY_MAX "elapsed ms (budget $BUDGET)"
assert_ge "$EL" $WAITED_MIN "elapsed ms (both attempts waited for)"
logged drop-2.example EAI_AGAIN

case_begin "dead server, nothing listening (ICMP port unreachable, IPv4 and IPv6): EAI_AGAIN at once"
gai "$(conf_for closed 192.0.2.2:5399 real)" ok-3.example
assert_eq "$CODE" -3 "getaddrinfo rc (IPv4 server)"
assert_le "$EL" $FAST_MAX "elapsed ms (IPv4 server)"
logged ok-3.example EAI_AGAIN
gai "$(conf_for closed6 "[2001:db8:a::2]:5399" real)" ok-4.example
assert_eq "$CODE" -3 "getaddrinfo rc (IPv6 server)"
assert_le "$EL" $FAST_MAX "elapsed ms (IPv6 server)"
logged ok-4.example EAI_AGAIN

case_begin "dead server: getent ahosts exits 2 and curl exits 6 within the budget, the far host sees nothing"
run "$CFG" getent ahosts drop-5.example
assert_eq "$RC" 2 "getent exit status ($OUT)"
assert_le "$MS" $PROC_MAX "getent ms"
logged drop-5.example EAI_AGAIN
run "$CFG" curl -sS --max-time 5 http://drop-leak.example:8080/
assert_eq "$RC" 6 "curl exit status (6: could not resolve host)"
assert_le "$MS" $PROC_MAX "curl ms"
logged drop-leak.example EAI_AGAIN
assert_saw_nothing "$WLOG" "far host"

# ---------------------------------------------------------------- (b) slow server

case_begin "slow server answering after the whole budget (3 s): EAI_AGAIN within the budget"
gai "$CFG" slow3000-1.example
assert_eq "$CODE" -3 "getaddrinfo rc"
assert_le "$EL" $PY_MAX "elapsed ms (budget $BUDGET)"
assert_ge "$EL" $WAITED_MIN "elapsed ms"
logged slow3000-1.example EAI_AGAIN

case_begin "slow server answering within the timeout (100 ms): the answer, after 100 ms"
gai "$CFG" slow100-1.example
assert_eq "$CODE" 0 "getaddrinfo rc"
assert_eq "$(kv "$OUT" addrs)" "$FAR4,$FAR6" "addresses"
assert_ge "$EL" 95 "elapsed ms"
assert_le "$EL" 190 "elapsed ms (below one attempt's timeout)"

case_begin "slow server answering after the first attempt's timeout, within the budget (300 ms): the late answer counts"
gai "$CFG" slow300-1.example
assert_eq "$CODE" 0 "getaddrinfo rc"
assert_ge "$EL" 290 "elapsed ms"
assert_le "$EL" $BUDGET "elapsed ms"
assert_eq "$(grep -c '^Q slow300 slow300-1\.example A ' "$FAULT_LOG")" 2 "A queries (one retry after 200 ms)"

# ---------------------------------------------------------------- (c) malformed answers

# mode  expected-rc  timing(fast|timeout)  what glibc 2.36 gives bare for the same server
# trunchdr and wrongid and garbage: c-ares drops a reply it cannot match to the query
# and waits for a good one, so they end as a timeout (glibc: EAI_AGAIN too; for the
# truncated header at once). ancount/ptrloop: c-ares reports a bad response, which
# common/dns.c maps to EAI_FAIL; glibc 2.36 says EAI_NONAME (-2). dialshim(1) says nothing on
# malformed replies; either is a definite, immediate failure, which is what is
# asserted. shorta: an A record of the wrong size is skipped (glibc: the same,
# EAI_NONAME). tc: c-ares retries over TCP, which is refused: EAI_AGAIN (glibc too).
while read -r mode want timing what; do
    case_begin "malformed answer, $what: $([ "$want" = -4/-2 ] && echo "EAI_FAIL or EAI_NONAME" || echo "rc $want") ($timing)"
    gai "$CFG" "$mode-1.example"
    not_crashed
    if [ "$want" = -4/-2 ]; then
        assert_match "$CODE" '^-(4|2)$' "getaddrinfo rc"
        logged "$mode-1.example" "EAI_(FAIL|NONAME)"
    else
        assert_eq "$CODE" "$want" "getaddrinfo rc"
        logged "$mode-1.example" "$([ "$want" = -2 ] && echo EAI_NONAME || echo EAI_AGAIN)"
    fi
    if [ "$timing" = fast ]; then
        assert_le "$EL" $FAST_MAX "elapsed ms"
    else
        assert_le "$EL" $PY_MAX "elapsed ms (budget $BUDGET)"
        assert_ge "$EL" $WAITED_MIN "elapsed ms"
    fi
    asked "$mode" "$mode-1.example"
done <<'EOF'
trunchdr -3 timeout 7 bytes, shorter than a DNS header
wrongid -3 timeout another message ID
ancount -4/-2 fast ANCOUNT 4 with one record
ptrloop -4/-2 fast a compression pointer to itself
shorta -2 fast an A record with a 3-byte RDATA
tc -3 fast TC bit set and nothing on TCP
garbage -3 timeout 80 random bytes
EOF

case_begin "malformed answers: getent exits 2 and curl cannot resolve (no crash, the far host sees nothing)"
for mode in ancount tc garbage; do
    run "$CFG" getent ahosts "$mode-2.example"
    assert_eq "$RC" 2 "getent exit status ($mode)"
    assert_le "$MS" $PROC_MAX "getent ms ($mode)"
    run "$CFG" curl -sS --max-time 5 "http://$mode-leak.example:8080/"
    assert_eq "$RC" 6 "curl exit status ($mode)"
    assert_le "$MS" $PROC_MAX "curl ms ($mode)"
done
assert_saw_nothing "$WLOG" "far host"

# ---------------------------------------------------------------- (d) RCODEs

while read -r mode want eai; do
    case_begin "$mode: $eai ($want) at once, getent exits 2, curl exits 6, the far host sees nothing"
    gai "$CFG" "$mode-1.example"
    assert_eq "$CODE" "$want" "getaddrinfo rc"
    assert_le "$EL" $FAST_MAX "elapsed ms"
    logged "$mode-1.example" "$eai"
    asked "$mode" "$mode-1.example"
    run "$CFG" getent ahosts "$mode-2.example"
    assert_eq "$RC" 2 "getent exit status"
    assert_le "$MS" $PROC_MAX "getent ms"
    run "$CFG" curl -sS --max-time 5 "http://$mode-leak.example:8080/"
    assert_eq "$RC" 6 "curl exit status"
    assert_le "$MS" $PROC_MAX "curl ms"
    logged "$mode-leak.example" "$eai"
    assert_saw_nothing "$WLOG" "far host"
done <<'EOF'
servfail -3 EAI_AGAIN
nxdomain -2 EAI_NONAME
refused -3 EAI_AGAIN
EOF

# ---------------------------------------------------------------- descriptors

case_begin "one python3 process, 100 lookups of every kind (90 failing): no descriptor leaked, every one in time"
# 10 rounds: each fast kind every round, each kind that times out every other round
# (names unique per round, so the cache answers none of them)
CTMO=25 run "$CFG" "$PY" "$CLIENT" many 10 servfail-m%d.example nxdomain-m%d.example \
    refused-m%d.example ancount-m%d.example ptrloop-m%d.example shorta-m%d.example \
    tc-m%d.example ok-m%d.example drop-m%d.example/2 garbage-m%d.example/2 \
    trunchdr-m%d.example/2 wrongid-m%d.example/2
assert_eq "$RC" 0 "client exit status"
assert_eq "$(kv "$OUT" lookups)" 100 "lookups"
assert_eq "$(kv "$OUT" fd_delta)" 0 "descriptors left open ($(kv "$OUT" fds_before) before)"
assert_le "$(kv "$OUT" max_ms)" $PY_MAX "slowest lookup ms"
# 10 x ok; servfail refused tc (30) and drop garbage trunchdr wrongid (4 x 5):
# EAI_AGAIN; nxdomain shorta: EAI_NONAME; ancount ptrloop: EAI_FAIL (or EAI_NONAME,
# see above)
assert_match "$(kv "$OUT" codes)" '^(-4:20,-3:50,-2:20,0:10|-3:50,-2:40,0:10)$' "codes (CODE:COUNT)"

# ---------------------------------------------------------------- connecting

case_begin "mode real: python connects to names that failed: the gaierror, nothing sent, no descriptor left"
for name in servfail-leak.example nxdomain-leak.example drop-leak.example; do
    run "$CFG" "$PY" "$CLIENT" dial $name 8081
    assert_eq "$RC" 2 "client exit status ($name: a lookup failure)"
    assert_le "$(kv "$OUT" elapsed_ms)" $PY_MAX "elapsed ms ($name)"
done
assert_saw_nothing "$FLOG" "far host"

while read -r mode want max; do
    case_begin "fake_ip: connect to the fake address of a name whose resolution then fails ($mode): $want, nothing goes direct"
    run "$FAKE" "$PY" "$CLIENT" dial $mode-leak.example 8081
    not_crashed
    assert_eq "$RC" 3 "client exit status (3: the connect failed)"
    assert_eq "$(kv "$OUT" errno)" "$want" "errno"
    # python tries the fake IPv4 address, then the fake IPv6 one: two resolutions
    assert_le "$(kv "$OUT" elapsed_ms)" "$max" "elapsed ms"
    assert_eq "$(kv "$OUT" fd_delta)" 0 "descriptors left open"
    assert_match "$(grep -F "name=$mode-leak.example " "$SHIM_LOG")" \
        "tcp $FAKE4_ADDR:8081 name=$mode-leak\.example app=all rule=default chain=main result=$want" \
        "the shim's log line for the connect"
    asked "$mode" "$mode-leak.example"
    assert_saw_nothing "$FLOG" "far host (direct to the fake or the real address)"
done <<'EOF'
servfail ETIMEDOUT 600
nxdomain EHOSTUNREACH 600
drop ETIMEDOUT 2000
ancount EHOSTUNREACH 600
EOF

case_begin "fake_ip: curl to names whose resolution fails: exit 7 (EHOSTUNREACH) / 28 (ETIMEDOUT) at once, nothing goes direct"
run "$FAKE" curl -sS --max-time 5 http://nxdomain-leak.example:8080/
assert_eq "$RC" 7 "curl exit status, nxdomain (7: could not connect)"
assert_le "$MS" $PROC_MAX "curl ms"
assert_match "$(grep -F "name=nxdomain-leak.example " "$SHIM_LOG")" "result=EHOSTUNREACH" "the shim's log line"
# curl reports a connect that failed with ETIMEDOUT as its own timeout (28), but
# well before its --max-time
run "$FAKE" curl -sS --max-time 5 http://refused-leak.example:8080/
assert_eq "$RC" 28 "curl exit status, refused (28: timed out)"
assert_le "$MS" $PROC_MAX "curl ms"
assert_match "$(grep -F "name=refused-leak.example " "$SHIM_LOG")" "result=ETIMEDOUT" "the shim's log line"
assert_saw_nothing "$WLOG" "far host"

finish
