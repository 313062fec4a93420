#!/bin/bash
# Happy Eyeballs for programs that lack it (mode = fake_ip): a name whose AAAA
# address is silently dropped still connects, for a client that tries addresses one
# at a time (python socket.create_connection), within fallback_delay plus a little.
# Bare, the same client hangs on the dead IPv6 address (the lab's blackhole: no
# RST, no ICMP) until its timeout. Verified to fail with SHIM=/nonexistent.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/names_lib.sh"
names_lab_up
shim_present
# dead6.example: AAAA on the blackholed 2001:db8:f::99, A on the live far address;
# dead4.example: the other way round
dns_start --address=/dead6.example/$SILENT6 --address=/dead6.example/$FAR4 \
    --address=/dead4.example/$SILENT4 --address=/dead4.example/$FAR6
srv_start far $FAR4:8081 "[$FAR6]:8081"
LOG=$T/far.log

CFG=$(write_conf he <<'EOF2'
[resolver fk]
servers = 192.0.2.2
mode = fake_ip
strategy = prefer_ipv6
timeout = 1s

[dialer main]
type = direct
domain_resolver = fk
fallback_delay = 300ms
connect_timeout = 5s

[app all]
match = *
dialer = main
EOF2
)
CLIENT='import socket, sys, time
t0 = time.monotonic()
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=float(sys.argv[3]))
print("peer=%s" % s.getpeername()[0])
print("reply=%s" % s.recv(100).decode().strip())
print("elapsed=%.3f" % (time.monotonic() - t0))'

case_begin "dead AAAA: a one-address-at-a-time client connects by IPv4 after fallback_delay"
out=$(shim "$CFG" $PY -c "$CLIENT" dead6.example 8081 4 2>&1)
assert_eq "$?" 0 "client exit status ($out)"
assert_eq "$(kv "$out" reply)" "you are $A4_CLI" "reply"
assert_saw "$LOG" $A4_CLI "far server (IPv4)"
el=$(kv "$out" elapsed)
assert_ge "$el" 0.28 "the preferred IPv6 attempt got its fallback_delay"
assert_le "$el" 1.2 "IPv4 started at fallback_delay, not after a TCP timeout"

# The program's socket is replaced by the IPv4 racer: a buffer size the program set
# must come along, and one it left alone must stay the kernel's (autotuned, as on a
# plain IPv4 connection), not locked to the old socket's initial value.
BUFCLIENT='import socket, sys
def conn(host, snd, family):
    s = socket.socket(family)
    if snd:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, snd)
    s.settimeout(4)
    s.connect((host, 8081))
    s.recv(100)
    return s.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF)
# an IPv6 socket: its own (dead) attempt loses, the IPv4 racer takes its place
print("set=%d" % conn(sys.argv[1], 65536, socket.AF_INET6))
print("unset=%d" % conn(sys.argv[1], 0, socket.AF_INET6))
print("plain=%d" % conn(sys.argv[2], 0, socket.AF_INET))'
case_begin "dead AAAA: SO_SNDBUF the program set survives the racer swap; one it did not set is the kernel's"
out=$(shim "$CFG" $PY -c "$BUFCLIENT" dead6.example $FAR4 2>&1)
assert_eq "$?" 0 "client exit status ($out)"
assert_eq "$(kv "$out" set)" 131072 "SO_SNDBUF after setting 65536 (the kernel doubles it)"
assert_eq "$(kv "$out" unset)" "$(kv "$out" plain)" "SO_SNDBUF left alone vs a plain IPv4 connection"
assert_saw "$LOG" "$A4_CLI $A4_CLI $A4_CLI" "far server (IPv4 each time)"

# An IPv4 socket whose name only answers over IPv6: the IPv6 racer wins and takes
# the descriptor's place, but the program still holds sockaddr_in buffers and the
# fake address it connected to; it must get IPv4 answers of IPv4 size from
# getpeername/getsockname (on the descriptor and on a dup of it), not IPv6 ones
# truncated into its buffer.
V4CLIENT='import ctypes, os, socket, sys
fake = socket.getaddrinfo(sys.argv[1], 8081, socket.AF_INET, socket.SOCK_STREAM)[0][4][0]
s = socket.socket(socket.AF_INET)
s.settimeout(4)
s.connect((fake, 8081))
print("reply=%s" % s.recv(100).decode().strip())
print("fake=%s" % fake)
print("peer=%s:%d" % s.getpeername())
print("local=%s" % s.getsockname()[0])
libc = ctypes.CDLL(None, use_errno=True)
for what, fd in (("own", s.fileno()), ("dup", os.dup(s.fileno()))):
    buf = ctypes.create_string_buffer(16)
    n = ctypes.c_uint32(16)
    rc = libc.getpeername(fd, buf, ctypes.byref(n))
    fam = int.from_bytes(buf.raw[:2], "little")
    print("%s=rc %d len %d family %d addr %s" % (what, rc, n.value, fam, socket.inet_ntoa(buf.raw[4:8])))'
case_begin "dead A, live AAAA, an IPv4 socket: IPv6 wins, getpeername/getsockname stay IPv4"
out=$(shim "$CFG" $PY -c "$V4CLIENT" dead4.example 2>&1)
assert_eq "$?" 0 "client exit status ($out)"
assert_eq "$(kv "$out" reply)" "you are $A6_CLI" "reply (the far server saw the client by IPv6)"
fake=$(kv "$out" fake)
assert_eq "$(kv "$out" peer)" "$fake:8081" "getpeername: the fake IPv4 address connected to"
assert_eq "$(kv "$out" local)" "0.0.0.0" "getsockname: an IPv4 address"
assert_eq "$(kv "$out" own)" "rc 0 len 16 family 2 addr $fake" "getpeername into a sockaddr_in"
assert_eq "$(kv "$out" dup)" "rc 0 len 16 family 2 addr $fake" "getpeername of a dup"
assert_saw "$LOG" $A6_CLI "far server (IPv6)"
: >"$LOG"

case_begin "dead AAAA without the shim: the same client hangs on IPv6 (lab guard)"
# the bare client cannot resolve at all (dead resolv.conf): give it the addresses
out=$(bare $PY -c "$CLIENT" $SILENT6 8081 2 2>&1)
assert_ne "$?" 0 "bare connect to the dead IPv6 address must not succeed"
assert_saw_nothing "$LOG" "far server"

case_begin "32 threads resolve and connect at once through fake addresses"
out=$(shim "$CFG" $PY -c '
import socket, threading
ok = []
def run():
    try:
        s = socket.create_connection(("dead6.example", 8081), timeout=5)
        ok.append(s.recv(100).decode().strip())
        s.close()
    except OSError as e:
        ok.append("error %s" % e)
ts = [threading.Thread(target=run) for _ in range(32)]
[t.start() for t in ts]
[t.join(10) for t in ts]
print("ok=%d" % sum(1 for x in ok if x.startswith("you are")))
print("errors=%s" % ";".join(x for x in ok if not x.startswith("you are")))' 2>&1)
assert_eq "$(kv "$out" ok)" 32 "threads that got the far answer ($(kv "$out" errors))"
assert_eq "$(peers "$LOG" | sort -u | tr '\n' ' ')" "$A4_CLI " "the far server saw only the client, by IPv4"
: >"$LOG"

finish
