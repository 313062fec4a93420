# shellcheck shell=bash
# The cases of t_stress_conns.sh, run again by t_stress_san.sh with the ASan/UBSan
# shim: sourced after lib.sh, proxy_lib.sh, names_lib.sh and tests/stress/lib.sh, with
# the lab, dnsmasq, the echo server "echo" on $FAR4:9000 and microsocks "ms" on
# $B4_SRV:1080 up. Runs everything through $SHIM (a sanitized one gets its runtime
# preloaded by run_with). STRESS_THREADS (64) x STRESS_PER (500) connections a case.
N=${STRESS_THREADS:-64} PER=${STRESS_PER:-500}
TOTAL=$((N * PER))
LEAKS=leaks

# handshake = auto (the default) probes a proxy with a pipelined handshake on first
# contact and learns; the bulk case uses lockstep so that a first-contact problem shows
# in the burst case alone.
AUTO=$(proxy_conf stress-auto socks5 $B4_SRV:1080 <<<'connect_timeout = 5s')
PROXY=$(proxy_conf stress-proxy socks5 $B4_SRV:1080 <<<'connect_timeout = 5s
handshake = lockstep')
MARKED=$(write_conf stress-direct <<'EOF'
[dialer d]
type = direct
routing_mark = 0x64

[app all]
match = *
dialer = d
EOF
)
FAKE=$(write_conf stress-fake <<'EOF'
[resolver fk]
servers = 192.0.2.2
mode = fake_ip
timeout = 1s
attempts = 2

[dialer d]
type = direct
domain_resolver = fk
connect_timeout = 5s

[app all]
match = *
dialer = d
EOF
)

# check_conns: the common assertions on $OUT after a `stress conns` run.
check_conns() {
    assert_eq "$RC" 0 "stress exit status ($(kv "$OUT" first_error))"
    assert_eq "$(kv "$OUT" ok)" "$TOTAL" "connections that worked"
    assert_eq "$(kv "$OUT" fail)" 0 "failures ($(kv "$OUT" errnos))"
    assert_eq "$(kv "$OUT" fd_after)" "$(kv "$OUT" fd_before)" "open descriptors after the run"
    assert_eq "$(san_reports)" 0 "sanitizer reports"
    note "$(kv "$OUT" rate) conn/s, slowest connect $(kv "$OUT" max_connect_ms) ms, $(kv "$OUT" elapsed) s"
}

case_begin "first contact, handshake = auto: $N threads connect through microsocks at the same moment, all work"
run_with "$SHIM" "$AUTO" $LEAKS -- "$STRESS" conns --threads "$N" --per 1 --expect $FAR4 $FAR4 9000
assert_eq "$RC" 0 "stress exit status ($(kv "$OUT" first_error))"
assert_eq "$(kv "$OUT" ok)" "$N" "connections that worked"
assert_eq "$(kv "$OUT" fail)" 0 "failures ($(kv "$OUT" errnos))"
assert_eq "$(kv "$OUT" fd_after)" "$(kv "$OUT" fd_before)" "open descriptors after the run"
assert_eq "$(san_reports)" 0 "sanitizer reports"
assert_no_match "$ERR" "result=" "a failed connect in the log"

case_begin "$N threads x $PER connections through microsocks (lockstep): all work, far side sees only the proxy, fds back to start"
t0=$(stats_get echo total)
run_with "$SHIM" "$PROXY" $LEAKS -- "$STRESS" conns --threads "$N" --per "$PER" --expect $FAR4 $FAR4 9000
check_conns
assert_eq "$(($(stats_get echo total) - t0))" "$TOTAL" "connections the far side saw"
assert_eq "$(stats_get echo peer $A4_CLI)" 0 "connections from the client itself (direct)"
assert_ge "$(count_lines "$T/ms.log" "client\[[0-9]+\] $B4_CLI: connected to $FAR4:9000")" "$TOTAL" "connections microsocks made for the client"
note "proxy: $(kv "$OUT" rate) connections/s"

case_begin "$N threads x $PER direct connections (routing_mark 0x64): all work and all take link B, fds back to start"
t0=$(stats_get echo total)
b0=$(stats_get echo peer $B4_CLI)
run_with "$SHIM" "$MARKED" $LEAKS -- "$STRESS" conns --threads "$N" --per "$PER" --expect $B4_CLI $FAR4 9000
check_conns
assert_eq "$(($(stats_get echo peer $B4_CLI) - b0))" "$TOTAL" "connections the far side saw from link B"
assert_eq "$(stats_get echo peer $A4_CLI)" 0 "connections from link A (the mark was not applied)"

case_begin "fake-IP mode: $N threads resolve 64 names at once (same name -> same address, getnameinfo gives it back), 1 in 10 connects"
: >"$DNS_LOG"
run_with "$SHIM" "$FAKE" $LEAKS -- "$STRESS" names --threads "$N" --per 200 --names 64 --connect-every 10 --expect $A4_CLI www.example 9000
assert_eq "$RC" 0 "stress exit status ($(kv "$OUT" first_error))"
assert_eq "$(kv "$OUT" fail)" 0 "failures ($(kv "$OUT" errnos))"
assert_eq "$(kv "$OUT" ok)" "$((N * 200))" "lookups that worked"
assert_eq "$(kv "$OUT" shared_addresses)" 0 "names sharing a fake address"
assert_eq "$(kv "$OUT" fd_after)" "$(kv "$OUT" fd_before)" "open descriptors after the run"
assert_eq "$(san_reports)" 0 "sanitizer reports"
assert_le "$(dns_queries | grep -c "query\[A\] h[0-9]*\.www\.example")" "$((N * 20 + 64))" "DNS queries (only at connect time)"
note "names: $(kv "$OUT" rate) lookups/s, $(kv "$OUT" connects) connects, $(kv "$OUT" elapsed) s"

