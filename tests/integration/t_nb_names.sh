#!/bin/bash
# Non-blocking dials to fake addresses: python's asyncio.wait_for(open_connection(
# NAME), timeout=1) where NAME's only address is dead (203.0.113.99: no answer at
# all), mode = fake_ip, direct dialer, no connect_timeout. getaddrinfo hands out a
# fake address; the connect to it must return EINPROGRESS at once and the dial run
# in the background, so the program's own timeout is honoured: it ends with
# TimeoutError by itself, well inside the harness's 20 s. A live name of the same
# table, through the same loop, connects and reads.
# Fails on the code before non-blocking dials: the connect resolves and dials inside
# connect() on the loop's thread, so the loop stops for the kernel's SYN retries
# (over a minute) and the harness kills the program.
# Without the shim (SHIM=/nonexistent) the names do not resolve at all (the client
# namespace's resolv.conf names a dead server).
. "$(dirname "$0")/lib.sh"
. "$IT_DIR/names_lib.sh"
. "$IT_DIR/nb_lib.sh"
names_lab_up
shim_present
dns_start --address=/dead.example/$SILENT4
srv_start far $FAR4:8081
CTMO=20

CFG=$(write_conf fake <<EOF
[resolver fk]
servers = $A4_SRV
mode = fake_ip
timeout = 1s

[dialer main]
type = direct
domain_resolver = fk

[app all]
match = *
dialer = main
EOF
)

case_begin "asyncio.wait_for(open_connection(dead name), 1): the program's TimeoutError, by itself"
out=$(shim "$CFG" $PY $NB_CLIENT waitfor dead.example 8081 1)
rc=$?
note "rc=$rc $out"
assert_eq "$rc" 0 "client exit status (124: the harness had to kill it)"
assert_eq "$(kv "$out" result)" TimeoutError "what the program saw"
assert_match "$(kv "$out" gai)" '^198\.1[89]\.[0-9]+\.[0-9]+$' "getaddrinfo gave a fake address"
assert_match "$(dns_queries)" "query\[A\] dead\.example from $A4_CLI" "the shim resolved the name for the connect (dnsmasq)"

case_begin "the same loop and table: a live name connects and reads"
out=$(shim "$CFG" $PY $NB_CLIENT gather www.example 8081 3)
assert_eq "$?" 0 "client exit status"
assert_eq "$(kv "$out" ok)" 3 "connections that read the far server's line"
assert_eq "$(kv "$out" replies)" "you are $A4_CLI" "what the far server answered"
assert_match "$(kv "$out" peers)" '^198\.1[89]\.[0-9]+\.[0-9]+:8081$' "getpeername: the fake address the program connected to"
assert_saw "$T/far.log" "$A4_CLI $A4_CLI $A4_CLI" "far server"

finish
