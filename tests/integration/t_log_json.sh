#!/bin/bash
# log_format = json: each decision line is one JSON object that python's json module
# parses, with the fields of the text line matching a real decision: a connect through
# microsocks (the proxy saw it) gives prog, pid (the client's own), net, dst, app, rule,
# chain, result ok and a number of ms; a refused one result and why; the lookup line
# of a name holding a quote, a backslash and a control byte (refused: not a host
# name) gives the name back exactly (escaping).
# The default stays text. Verified to fail before (main's libdialshim.so and tool:
# the file is refused, log_format is an unknown key).
. "$(dirname "$0")/lib.sh"
. "$IT_DIR/proxy_lib.sh"
lab_up
shim_present
srv_start far $FAR4:8081
start_microsocks ms $B4_SRV 1080
LOG=$T/far.log MS=$T/ms.log
JSON=$(proxy_conf json socks5 $B4_SRV:1080 <<'EOF'
connect_timeout = 3s
remote_dns = true

[global]
log_format = json
log_level = info
EOF
)
TEXT=$(proxy_conf text socks5 $B4_SRV:1080 <<'EOF'
connect_timeout = 3s

[global]
log_level = info
EOF
)
# python3 connects to far, then to a closed port through the proxy, then looks up a
# strange name; prints its pid and what it got
CLIENT='
import os, socket
print("pid=%d" % os.getpid())
s = socket.create_connection(("203.0.113.2", 8081), timeout=5)
print("got=%r" % s.recv(64))
s.close()
try:
    socket.create_connection(("203.0.113.2", 9), timeout=5)
    print("closed=connected")
except OSError as e:
    print("closed=%s" % e.errno)
name = "we\"ird\\\x01name.example"
try:
    print("lookup=%s" % socket.getaddrinfo(name, 80, socket.AF_INET)[0][4][0])
except socket.gaierror as e:
    print("lookup=%d" % e.errno)
'
# check.py LOG PID NAME: every line parses; prints the decisions it finds as key=value
CHECK='
import json, sys
log, pid, name = sys.argv[1], int(sys.argv[2]), sys.argv[3]
objs = []
for line in open(log, encoding="ascii"):
    objs.append(json.loads(line))
print("lines=%d" % len(objs))
ok = [o for o in objs if o.get("dst") == "203.0.113.2:8081"]
if ok:
    o = ok[0]
    print("ok_fields=" + ",".join(sorted(o)))
    print("ok=%s|%s|%s|%s|%s|%s|%s|%s" % (o["level"], o["prog"], o["pid"] == pid, o["net"],
          o["app"], o["rule"], o["chain"], o["result"]))
    print("ok_ms_number=%s" % (isinstance(o["ms"], float) and o["ms"] >= 0))
bad = [o for o in objs if o.get("dst") == "203.0.113.2:9"]
if bad:
    print("bad=%s|%s" % (bad[0]["result"], "why" in bad[0] and len(bad[0]["why"]) > 0))
look = [o for o in objs if o.get("call") == "getaddrinfo"]
if look:
    print("lookup_name_exact=%s" % (look[0]["name"] == name))
    print("lookup=%s|%s|%s" % (look[0]["mode"], look[0]["dialer"], look[0]["result"].split()[0]))
'
WEIRD=$(printf 'we"ird\\\001name.example')

case_begin "log_format = json: a connect through the proxy is one JSON line whose fields match the decision"
in_cli timeout "$CTMO" env LD_PRELOAD="$SHIM" DIALSHIM_CONFIG="$JSON" \
    DIALSHIM_LOG_FILE="$T/json.log" $PY -c "$CLIENT" >"$T/client.out" 2>"$T/client.err"
note "client: $(tr '\n' '|' <"$T/client.out") $(head -c 300 "$T/client.err")"
[ -n "${VERBOSE:-}" ] && sed 's/^/    #   log: /' "$T/json.log" >&2
out=$(cat "$T/client.out")
assert_eq "$(kv "$out" got)" "b'you are 203.0.113.2\\n'" "what the far server answered"
assert_saw "$LOG" "$FAR4" "far server (the proxy's address)"
assert_match "$(cat "$MS")" "$B4_CLI: connected to $FAR4:8081" "microsocks log"
got=$($PY -c "$CHECK" "$T/json.log" "$(kv "$out" pid)" "$WEIRD" 2>&1)
note "$(printf '%s' "$got" | tr '\n' '|')"
assert_eq "$(kv "$got" ok)" "info|python3|True|tcp|all|default|p|ok" "the decision's fields"
assert_eq "$(kv "$got" ok_fields)" "app,chain,dst,level,ms,net,pid,prog,result,rule" "its members"
assert_eq "$(kv "$got" ok_ms_number)" True "ms is a number"

case_begin "log_format = json: a refused connect carries result and why"
assert_eq "$(kv "$out" closed)" 111 "the client's errno (ECONNREFUSED)"
assert_eq "$(kv "$got" bad)" "ECONNREFUSED|True" "result and why"

case_begin "log_format = json: a name with a quote, a backslash and a control byte comes back exactly"
assert_eq "$(kv "$out" lookup)" -2 "what python got (EAI_NONAME: not a host name)"
assert_eq "$(kv "$got" lookup_name_exact)" True "the name in the lookup line"
assert_eq "$(kv "$got" lookup)" "fake_ip|p|EAI_NONAME" "mode, dialer, result"

case_begin "the default stays text"
: >"$MS"
in_cli timeout "$CTMO" env LD_PRELOAD="$SHIM" DIALSHIM_CONFIG="$TEXT" \
    DIALSHIM_LOG_FILE="$T/text.log" $PY -c "$CLIENT" >"$T/client.out" 2>"$T/client.err"
out=$(cat "$T/client.out")
assert_match "$(cat "$T/text.log")" "^dialshim: python3\[$(kv "$out" pid)\] tcp $FAR4:8081 app=all rule=default chain=p result=ok [0-9.]+ms$" "the text line"
assert_saw "$LOG" "$FAR4" "far server"
finish
