#!/bin/bash
# Real clients through the shim with bind_interface = vb: curl against python's
# http.server on the far address (its access log names the client), nc
# (netcat-openbsd) against the line server, TCP and UDP.
# Verified to fail without the shim (SHIM=/nonexistent): the logs show link A.
. "$(dirname "$0")/lib.sh"
lab_up
shim_present
mkdir -p "$T/www"
: >"$T/http4.log"
: >"$T/http6.log"
echo "hello from far" >"$T/www/page.txt"
in_srv timeout 200 $PY -m http.server --bind $FAR4 --directory "$T/www" 8080 \
    >>"$T/http4.log" 2>&1 & # append mode: the log is truncated between cases
BG_PIDS+=($!)
in_srv timeout 200 $PY -m http.server --bind $FAR6 --directory "$T/www" 8080 \
    >>"$T/http6.log" 2>&1 &
BG_PIDS+=($!)
wait_listen "$SRV" tcp $FAR4 8080
wait_listen "$SRV" tcp "[$FAR6]" 8080
srv_start far $FAR4:8081
srv_start udp --udp $FAR4:5353

CFG=$(write_conf vb <<'EOF'
[dialer viab]
type = direct
bind_interface = vb

[app all]
match = *
dialer = viab
EOF
)

# http.server's access log: "ADDR - - [date] "GET ..." 200 -"
http_clients() { grep -a '"GET ' "$1" | awk '{ print $1 }' | tr '\n' ' '; : >"$1"; }

case_begin "curl through bind_interface = vb gets the page; http.server logs link B (IPv4)"
out=$(bare curl -sS --max-time 5 "http://$FAR4:8080/page.txt")
assert_eq "$(http_clients "$T/http4.log")" "$A4_CLI " "bare run: http.server saw"
out=$(shim "$CFG" curl -sS --max-time 5 "http://$FAR4:8080/page.txt")
assert_eq "$?" 0 "curl exit status"
assert_eq "$out" "hello from far" "page"
assert_eq "$(http_clients "$T/http4.log")" "$B4_CLI " "http.server saw"

case_begin "curl through bind_interface = vb (IPv6)"
out=$(shim "$CFG" curl -sS --max-time 5 -g "http://[$FAR6]:8080/page.txt")
assert_eq "$?" 0 "curl exit status"
assert_eq "$out" "hello from far" "page"
assert_eq "$(http_clients "$T/http6.log")" "$B6_CLI " "http.server saw"

case_begin "nc through bind_interface = vb: TCP"
out=$(printf 'hi\n' | bare nc -N -w 5 $FAR4 8081)
assert_saw "$T/far.log" $A4_CLI "bare run"
out=$(printf 'hi\n' | shim "$CFG" nc -N -w 5 $FAR4 8081)
assert_eq "$?" 0 "nc exit status"
assert_eq "$(echo "$out" | head -n 1)" "you are $B4_CLI" "reply"
assert_saw "$T/far.log" $B4_CLI "server"

case_begin "nc -u through bind_interface = vb: UDP (connect + write)"
out=$(printf 'hi\n' | shim "$CFG" nc -u -w 1 $FAR4 5353)
assert_eq "$(echo "$out" | head -n 1)" "you are $B4_CLI" "reply"
assert_saw "$T/udp.log" $B4_CLI "server"

finish
