#!/bin/bash
# Defaults that never hang: without connect_timeout, a dial the shim performs
# itself is bounded by the one default (10 s), while a direct connect to a literal
# address keeps the kernel's own timing (about two minutes for a silent address).
# dead.example's only address is the silent one (its SYNs vanish).
# Verified to fail before the default existed (the old libdialshim.so): the
# blocking connect to the fake address was still waiting when the 30 s harness
# limit killed the client (exit 124).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/names_lib.sh"
CTMO=30
names_lab_up
shim_present
dns_start --address=/dead.example/$SILENT4

CFG=$(write_conf fake <<'EOF2'
[resolver fk]
servers = 192.0.2.2
mode = fake_ip
timeout = 1s

[dialer main]
type = direct
domain_resolver = fk

[app all]
match = *
dialer = main
EOF2
)
# A blocking connect to the first address getaddrinfo gives, no socket timeout.
CONNECT='
import errno, socket, sys, time
ai = socket.getaddrinfo(sys.argv[1], 8080, socket.AF_INET, socket.SOCK_STREAM)[0]
print("addr=%s" % ai[4][0])
s = socket.socket(ai[0], socket.SOCK_STREAM)
try:
    s.connect(ai[4])
except OSError as e:
    print("errno=%s" % errno.errorcode.get(e.errno, e.errno))
    sys.exit(3)
print("connected")
'

case_begin "a blocking connect to a fake address whose addresses are all dead: ETIMEDOUT (the default bound), not the kernel's two minutes"
: >"$DNS_LOG"
out=$(shim "$CFG" $PY -c "$CONNECT" dead.example)
rc=$?
assert_eq "$rc" 3 "client exit status (124: still in connect when the ${CTMO}s harness limit killed it) ($out)"
assert_match "$(kv "$out" addr)" '^198\.1[89]\.' "getaddrinfo gave a fake address"
assert_eq "$(kv "$out" errno)" ETIMEDOUT "errno"
assert_match "$(dns_queries)" "query\[A\] dead\.example" "the name was resolved at connect"

case_begin "explain shows the default bound in force, and that a literal address keeps the kernel's"
out=$(in_cli timeout 5 "$DIALSHIM" explain -c "$CFG" tcp $FAR4 8080 2>&1)
assert_eq "$?" 0 "explain exit status ($out)"
assert_match "$out" "connect_timeout=10000ms\(default; a literal address without a race: the kernel's\)" "the bound"

case_begin "a direct connect to a literal silent address keeps the kernel's timing (no connect_timeout)"
out=$(in_cli timeout 12 env LD_PRELOAD="$SHIM" DIALSHIM_CONFIG="$CFG" $PY $PYCLIENT tcp $SILENT4 8080)
assert_eq "$?" 124 "still in connect when the 12 s limit killed it ($out)"
finish
