#!/bin/bash
# Copies of a relayed UDP socket (dup, fcntl F_DUPFD / F_DUPFD_CLOEXEC, dup2, dup3)
# are the same socket: their datagrams go through the same SOCKS5 association, the
# far server sees dante's address only, replies come back byte-exact from the far
# server's real address; closing the original leaves the copies working (the control
# connection lives until the last copy closes); a fresh socket dup2'd over a copy
# gets an association of its own: two associations in all, both ended by the
# program's closes.
# Verified to fail without the fix (shim/dup.c, udp_dup): a connected copy sent its
# payloads unwrapped to the relay and read wrapped ones (bad/lost), an unconnected
# copy opened a second association, and the socket dup2'd over a copy reused the
# stale one (lost); and without the shim (SHIM=/nonexistent): the far server sees
# the client itself.
. "$(dirname "$0")/lib.sh"
. "$IT_DIR/proxy_lib.sh"
lab_up
shim_present
srv_start far --udp --echo $FAR4:5353 "[$FAR6]:5353"
start_dante dante 1081 none $FAR4 $FAR6
LOG=$T/far.log DL=$T/dante.log
UDPC=$IT_DIR/udp_client.py

P=$(proxy_conf p socks5 $B4_SRV:1081 <<<'connect_timeout = 3s')

dup_case() { # WHAT DEST [--connect]
    local what=$1 dest=$2 got
    shift 2
    : >"$DL"
    run_shim "$P" $PY $UDPC dup $dest 5353 "$@"
    assert_eq "$RC" 0 "$what: client exit status"
    assert_match "$OUT" "^ok=22 bad=0 lost=0" "$what: every echo on every copy, byte-exact"
    assert_eq "$(kv "$OUT" from)" "$dest 5353" "$what: the peer the program was told"
    assert_eq "$(kv "$OUT" seen)" "$dest" "$what: who the server said it saw"
    got=$(peers "$LOG" | sort -u | tr '\n' ' ' | sed 's/ $//')
    assert_eq "$got" "$dest" "$what: every datagram the far server got came from dante"
    : >"$LOG"
    sleep 0.3 # dante logs an association as it ends
    note "$what: dante: $(grep udpassociate "$DL" | tr '\n' '|')"
    # dante's own account, one line per association as it ends: datagrams from the
    # client (bytes/datagrams). 19: the original and its four copies; 3: the fresh
    # socket dup2'd over a copy.
    got=$(sed -n 's/.*udp\/udpassociate \]: [0-9]*\/\([0-9]*\) -> .*/\1/p' "$DL" | sort -n | tr '\n' ' ')
    assert_eq "$got" "3 19 " "$what: associations dante relayed, datagrams in each"
    assert_eq "$(grep -c 'udp association via p created' <<<"$ERR")" 2 "$what: associations the shim made"
    assert_eq "$(grep -c 'udp association via p closed' <<<"$ERR")" 2 "$what: associations the shim ended"
}

case_begin "dup/F_DUPFD/dup2/dup3 of a relayed socket share its association; closing the original keeps it"
run_bare $PY $UDPC dup $FAR4 5353
assert_eq "$(kv "$OUT" seen)" $A4_CLI "bare run (lab sanity)"
: >"$LOG"
dup_case "sendto" $FAR4
dup_case "ipv6 sendto" $FAR6

case_begin "copies of a connected relayed socket: send/recv wrapped on every copy"
dup_case "connected" $FAR4 --connect
dup_case "ipv6 connected" $FAR6 --connect

# close_range(2), closefrom(3) and syscall(SYS_close) close without close(): the
# shim must forget the socket and end its association, so the number's next owner
# (here a file) is not taken for the socket. closefrom also closes the shim's
# control connection to the relay behind its back: without the hooks the file's
# write failed with ECONNRESET, and with close_range and SYS_close the association
# lived on until the file's first write happened to fail with ENOTSOCK (verified).
CLOSER='import ctypes, os, socket, sys
host, how, path = sys.argv[1], sys.argv[2], sys.argv[3]
libc = ctypes.CDLL(None, use_errno=True)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
s.sendto(b"ping", (host, 5353))
data, peer = s.recvfrom(100)
print("echo=%s" % data.split(b"\n")[0].decode())
print("from=%s" % peer[0])
fd = s.detach()
if how == "close_range":
    rc = libc.close_range(fd, fd, 0)
elif how == "closefrom":
    libc.closefrom(fd)
    rc = 0
else:
    rc = libc.syscall(3, fd)  # SYS_close on x86-64
print("closed=%d" % rc)
sys.stderr.write("MARK: the program closed it\n")
sys.stderr.flush()
f = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
print("reused=%s" % ("yes" if f == fd else "no"))
try:
    print("written=%d" % os.write(f, b"0123456789"))
except OSError as e:
    print("written=error %s" % e.strerror)
os.close(f)
print("read=%s" % open(path).read())'
case_begin "close_range, closefrom, syscall(SYS_close) of a relayed socket: its number's next owner is a plain file; the association ends"
for how in close_range closefrom syscall; do
    : >"$DL"
    run_shim "$P" $PY -c "$CLOSER" $FAR4 $how "$T/reused.$how"
    assert_eq "$RC" 0 "$how: client exit status ($OUT)"
    assert_eq "$(kv "$OUT" echo)" "you are $FAR4" "$how: the far server saw dante"
    assert_eq "$(kv "$OUT" from)" "$FAR4" "$how: the answer came from the far server's address"
    assert_eq "$(kv "$OUT" reused)" yes "$how: the file got the relayed socket's number"
    assert_eq "$(kv "$OUT" written)" 10 "$how: write(2) on it"
    assert_eq "$(kv "$OUT" read)" 0123456789 "$how: what the file holds"
    assert_eq "$(grep -c 'udp association via p closed' <<<"$ERR")" 1 "$how: associations the shim ended"
    assert_eq "$(grep -e 'udp association via p closed' -e '^MARK' <<<"$ERR" | cut -c1-4 | tr '\n' ' ')" \
        "$(grep -m1 'udp association via p closed' <<<"$ERR" | cut -c1-4) MARK " \
        "$how: the association ended with the close, before the program went on"
done
: >"$LOG"

# A vfork child runs the hooks in its parent's memory: python's subprocess (vfork,
# then close_range above 2 in the child, and dup2 of a stdin onto 0) must leave the
# program's association alone. Before the fix the child's close_range freed it in
# the parent (its control connection leaked there, the next datagram opened a second
# association: dante saw 2, the far server a second source port, 1 descriptor left
# after the program's close), and with the socket as the child's stdin, the dup2
# gave the parent's fd 0 a share that kept the first association open for good.
case_begin "a vfork child (python's subprocess) closes and dup2s the relayed socket: the program's association lives on"
for how in close_fds stdin; do
    : >"$DL"
    : >"$LOG"
    flag=
    [ $how = stdin ] && flag=--stdin
    run_shim "$P" $PY $UDPC spawn $FAR4 5353 $flag
    assert_eq "$RC" 0 "$how: client exit status"
    assert_eq "$(kv "$OUT" child)" 0 "$how: the child's exit status"
    assert_eq "$(kv "$OUT" echo1)/$(kv "$OUT" echo2)" ok/ok "$how: both echoes byte-exact"
    assert_eq "$(kv "$OUT" from2)" "$FAR4 5353" "$how: the second answer's source"
    assert_eq "$(kv "$OUT" seen2)" "$FAR4" "$how: the far server saw dante"
    assert_eq "$(awk '$1 == "PEER" { print $2, $3 }' "$LOG" | sort -u | wc -l)/$(grep -c '^PEER' "$LOG")" \
        1/2 "$how: the far server got both datagrams from one address and port"
    assert_eq "$(grep -c 'tcp/accept \[:' "$DL")" 1 "$how: control connections dante accepted"
    assert_eq "$(grep -c 'udp/udpassociate \[:' "$DL")" 1 "$how: associations dante set up"
    assert_eq "$(grep -c 'udp association via p created' <<<"$ERR")" 1 "$how: associations the shim made"
    pids=$(grep 'udp association via p c' <<<"$ERR" | sed 's/.*\[\([0-9]*\)\] udp association.*/\1/' | sort -u | wc -l)
    assert_eq "$(grep -c 'udp association via p closed' <<<"$ERR")/$pids" 1/1 \
        "$how: the association ended once, by the program that made it"
    assert_eq "$(kv "$OUT" fds_after)" "$(kv "$OUT" fds_before)" "$how: no descriptor left in the program"
done
: >"$LOG"


# A vfork child may also make a socket after closing the program's: the kernel
# gives it the same number, and its socket() hook runs in the parent's memory.
# Before the fix that socket() took the number's word for the child's socket and
# ended the parent's association there (the parent's next datagram opened a second
# association; the first one's control connection leaked in the parent).
# The same child made by clone(2) with CLONE_VM | CLONE_VFORK on a stack of its own
# (a spawn helper's way): the clone hook notes that memory is shared, so the child's
# hooks know they are not the owner's.
case_begin "a vfork or CLONE_VM child closes the relayed socket and makes one of its own on that number: the program's association lives on"
for how in vfork clone; do
    : >"$DL"
    : >"$LOG"
    run_shim "$P" $BUILD/tests/vforksock $FAR4 5353 $how
    assert_eq "$RC" 0 "$how: client exit status"
    assert_eq "$(kv "$OUT" child)" 0 "$how: the child got the same number for its socket"
    assert_eq "$(kv "$OUT" echo1)/$(kv "$OUT" echo2)" ok/ok "$how: both echoes byte-exact"
    assert_eq "$(awk '$1 == "PEER" { print $2, $3 }' "$LOG" | sort -u | wc -l)/$(grep -c '^PEER' "$LOG")" \
        1/2 "$how: the far server got both datagrams from one address and port"
    assert_eq "$(grep -c 'udp/udpassociate \[:' "$DL")" 1 "$how: associations dante set up"
    assert_eq "$(grep -c 'udp association via p created' <<<"$ERR")" 1 "$how: associations the shim made"
    assert_eq "$(kv "$OUT" fds_after)" "$(kv "$OUT" fds_before)" "$how: no descriptor left in the program"
done
: >"$LOG"

finish
