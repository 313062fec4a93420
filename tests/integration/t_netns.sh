#!/bin/bash
# netns = NAME (or a path): the dialer's sockets are made in that network
# namespace (a helper thread enters it; the socket takes the program's
# descriptor). A third namespace, made here and linked to the server's
# (203.0.113.65 <-> .66), reaches the far server: the far side sees .65 for TCP
# and UDP, and dnsmasq for the dialer's DNS queries. Without CAP_SYS_ADMIN: EPERM, the log names the option and the
# capability, nothing reaches the server.
# Verified to fail before netns existed (the old libdialshim.so refuses the
# configuration: EACCES, and the server sees nothing).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/names_lib.sh"
NS=dsx-$$
ns_down() {
    local rc=$?
    ip netns del "$NS" 2>/dev/null
    (exit "$rc")
    names_down
}
names_lab_up
trap ns_down EXIT
shim_present
ip netns add "$NS"
lab_sysctls "$NS"
ip -n "$NS" link set lo up
ip -n "$NS" link add vx type veth peer name vx netns "$SRV"
ip -n "$NS" addr add 203.0.113.65/30 dev vx
ip -n "$SRV" addr add 203.0.113.66/30 dev vx
ip -n "$NS" link set vx up
ip -n "$SRV" link set vx up
ip -n "$NS" route add 203.0.113.2/32 via 203.0.113.66 dev vx
NSADDR=203.0.113.65
srv_start far $FAR4:8080
srv_start udp --udp $FAR4:5353
LOG=$T/far.log ULOG=$T/udp.log
chmod 711 "$T"
mkdir -m 755 "$T/pub"
conf() { # NAME NETNS
    printf '[dialer d]\ntype = direct\nnetns = %s\n\n[app all]\nmatch = *\ndialer = d\n' "$2" >"$T/pub/$1.ini"
    chmod 644 "$T/pub/$1.ini"
    echo "$T/pub/$1.ini"
}
BYNAME=$(conf byname "$NS")
BYPATH=$(conf bypath "/run/netns/$NS")
NONE=$(conf none "dsx-missing-$$")

dns_start
DNSCONF=$(write_conf dns <<EOF
[resolver r]
servers = 203.0.113.2
timeout = 1s

[dialer d]
type = direct
netns = $NS
domain_resolver = r

[app all]
match = *
dialer = d
EOF
)

# the namespace's link is up once a bare probe from inside it is answered
for i in $(seq 1 100); do
    ip netns exec "$NS" timeout 2 $PY $PYCLIENT tcp $FAR4 8080 >/dev/null 2>&1 && break
    sleep 0.05
done

case_begin "netns = NAME: the TCP connection leaves from the other namespace"
: >"$LOG"
out=$(bare $PY $PYCLIENT tcp $FAR4 8080)
assert_eq "$(kv "$out" reply)" "you are $A4_CLI" "bare: the client namespace"
: >"$LOG"
out=$(shim "$BYNAME" $PY $PYCLIENT tcp $FAR4 8080)
assert_eq "$?" 0 "client exit status ($out)"
assert_eq "$(kv "$out" reply)" "you are $NSADDR" "reply"
assert_saw "$LOG" $NSADDR "far server"

case_begin "netns = NAME on a non-blocking connect (asyncio): the far side sees the namespace's address"
: >"$LOG"
out=$(shim "$BYNAME" $PY $PYCLIENT asyncio $FAR4 8080)
assert_eq "$?" 0 "client exit status ($out)"
assert_eq "$(kv "$out" reply)" "you are $NSADDR" "reply"
assert_saw "$LOG" $NSADDR "far server"

case_begin "netns = NAME under an nginx-style loop (epoll, edge-triggered, registered before connect): the registration follows the namespace's socket"
EPOLLCLIENT='import select, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setblocking(False)
ep = select.epoll()
ep.register(s.fileno(), select.EPOLLIN | select.EPOLLOUT | select.EPOLLET)
try:
    s.connect((sys.argv[1], int(sys.argv[2])))
except BlockingIOError:
    pass
got, sent = b"", False
for _ in range(40):
    for fd, ev in ep.poll(0.2):
        if ev & select.EPOLLOUT and not sent:
            s.send(b"hello\n")
            sent = True
        if ev & select.EPOLLIN:
            try:
                got += s.recv(100)
            except BlockingIOError:
                pass
    if b"\n" in got:
        break
print("sent=%d\nreply=%s" % (sent, got.decode().strip()))'
: >"$LOG"
out=$(shim "$BYNAME" $PY -c "$EPOLLCLIENT" $FAR4 8080)
assert_eq "$(kv "$out" sent)" 1 "the program saw the socket writable"
assert_match "$out" "reply=you are $NSADDR" "the reply (the namespace's address)"
assert_saw "$LOG" $NSADDR "far server"

case_begin "netns = /run/netns/NAME: UDP datagrams leave from the other namespace too"
: >"$ULOG"
out=$(shim "$BYPATH" $PY $PYCLIENT udp $FAR4 5353)
assert_eq "$?" 0 "client exit status ($out)"
assert_match "$(kv "$out" reply)" "$NSADDR" "reply"
assert_saw "$ULOG" $NSADDR "udp server"

case_begin "the DNS queries for the dialer's names leave from the other namespace too"
: >"$DNS_LOG"
out=$(names "$DNSCONF" gai www.example 8080)
assert_eq "$?" 0 "client exit status ($out)"
assert_match "$(dns_queries)" "www\\.example from $NSADDR" "dnsmasq saw the namespace's address"
assert_no_match "$(dns_queries)" "from $A4_CLI" "nothing from the client namespace"

case_begin "netns without CAP_SYS_ADMIN: EPERM, the log names the option and the capability, nothing sent"
: >"$LOG"
out=$(in_cli timeout "$CTMO" setpriv --reuid=nobody --regid=nogroup --clear-groups \
    --inh-caps=-all --bounding-set=-all \
    env LD_PRELOAD="$SHIM" DIALSHIM_CONFIG="$BYNAME" $PY $PYCLIENT tcp $FAR4 8080 2>"$T/err")
assert_eq "$?" 3 "client exit status ($out)"
assert_eq "$(kv "$out" errno)" EPERM "errno"
assert_match "$(cat "$T/err")" "netns \(setns needs CAP_SYS_ADMIN\)" "log"
assert_saw_nothing "$LOG" "far server"

case_begin "a namespace that does not exist: ENOENT named in the log, nothing sent"
: >"$LOG"
out=$(shim "$NONE" $PY $PYCLIENT tcp $FAR4 8080 2>"$T/err")
assert_eq "$?" 3 "client exit status ($out)"
assert_match "$(cat "$T/err")" "netns \(no such namespace\)" "log"
assert_saw_nothing "$LOG" "far server"

case_begin "explain shows netns; check refuses a relative path at FILE:LINE"
out=$(in_cli timeout 5 "$DIALSHIM" explain -c "$BYNAME" tcp $FAR4 8080 2>&1)
assert_match "$out" "netns=/run/netns/$NS" "explain"
BAD=$(conf bad "a/b")
out=$("$DIALSHIM" check -c "$BAD" 2>&1)
assert_eq "$?" 2 "check exit status ($out)"
assert_match "$out" "bad.ini:3:.*netns" "the line"

finish
