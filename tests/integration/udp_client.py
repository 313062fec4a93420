#!/usr/bin/python3
"""UDP clients for the SOCKS5 UDP ASSOCIATE tests (t_udp_*.sh). Run as
/usr/bin/python3. The far end is peer_server.py --udp --echo, which answers each
datagram with `you are <ip>\\n` followed by the datagram itself.

    udp_client.py echo HOST PORT [options]
        --count=N      datagrams (default 1), sizes spread evenly over --min..--max
        --min=N --max=N  payload sizes (default 1..1400); payloads are random bytes
        --connect      connect() first, then send()/recv(), write()/read() and
                       writev()/readv() in turn
        --sendmsg      sendmsg/recvmsg (with --connect: without a destination)
        --nonblock     O_NONBLOCK, an epoll registration made before the first
                       send, and --wait=select|poll|epoll (default poll) for replies
        --name=NAME    send to getaddrinfo(NAME) instead of HOST (fake addresses)
        --pause=FILE   after the first --count datagrams: create FILE.ready, wait
                       (bounded) for FILE.go, then send --after=N more and report
                       each one's errno as after=ERRNO,...
        --trunc=N      also receive one reply into an N-byte buffer with recvmsg:
                       prints trunc_len= and trunc_flags=
        --peek         peek (MSG_PEEK) each reply before reading it
    udp_client.py dns HOST PORT NAME     one DNS query for NAME (type A), sendto/recvfrom
    udp_client.py unspec HOST PORT PORT2
        connect to HOST PORT, one echo, then connect(AF_UNSPEC) (through libc, as C
        programs do); then getpeername (peer_after=), sendto HOST PORT2 and its reply
        (from2=, seen2=, ok2=), send() with no destination (send_after=)
    udp_client.py probe HOST PORT [--send] [--nonblock] [--rx-thread]
        connect only, as a browser's source-address probe does: prints local=IP PORT
        (getsockname), peer=IP PORT (getpeername) and recv_nb= (a MSG_DONTWAIT
        receive: EAGAIN when nothing is heard); with --send then one datagram by
        send() (errno= if it fails) and its reply (ok=1, seen=IP); with --rx-thread
        the reply is read by a thread already blocked in recv() before the send
    udp_client.py dup HOST PORT [--connect]
        one echo on the socket, then copies of it by dup (F_DUPFD_CLOEXEC), fcntl
        F_DUPFD, dup2 and dup3, three echoes on each; the original closed, three more
        on two copies; a fresh socket dup2'd over a copy, three echoes on that number
    udp_client.py spawn HOST PORT [--stdin]
        one echo, then subprocess.run(["/bin/true"], close_fds=True) (python 3.11
        starts it by vfork: the child's close_range and, with --stdin (the socket as
        the child's stdin), its dup2 run the hooks on the program's memory), one
        more echo, the socket closed: prints fds_before= (the program's descriptors
        before the socket) and fds_after= (after its close), echo1=/echo2= (ok or
        bad), from2=, seen2=, child=STATUS

Output key=value lines: sent=, ok=, bad= (corrupted or wrong peer), lost=,
from=IP PORT (the peer the program was told), seen=IP (what the server saw),
elapsed=SECONDS, errno=NAME (a send or connect failed), answer=IP (dns).
Exit status: 0 all good; 3 an OSError on connect/send (errno=NAME printed);
4 replies missing or wrong.
"""
import errno
import os
import select
import socket
import struct
import sys
import time


def ename(e):
    return errno.errorcode.get(e, str(e))


def opt(flags, key, default=None):
    for f in flags:
        if f == "--" + key:
            return True
        if f.startswith("--" + key + "="):
            return f.split("=", 1)[1]
    return default


def family(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


class Waiter:
    """Waits for readability with select, poll or an epoll registered up front."""

    def __init__(self, s, how):
        self.s, self.how = s, how
        if how == "epoll":
            self.ep = select.epoll()
            self.ep.register(s.fileno(), select.EPOLLIN)

    def wait(self, secs):
        if self.how == "select":
            return bool(select.select([self.s], [], [], secs)[0])
        if self.how == "epoll":
            return bool(self.ep.poll(secs))
        p = select.poll()
        p.register(self.s.fileno(), select.POLLIN)
        return bool(p.poll(secs * 1000))


def recv_reply(s, flags, i, waiter, deadline):
    """One reply: (data, peer) or None when none came in time."""
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        if waiter and not waiter.wait(left):
            return None
        try:
            if "--peek" in flags:
                s.recv(65535, socket.MSG_PEEK)
            if "--connect" in flags and "--sendmsg" not in flags:
                if i % 3:
                    # the descriptor is non-blocking under a Python timeout
                    if not waiter and not select.select([s], [], [], left)[0]:
                        return None
                    if i % 3 == 1:
                        return os.read(s.fileno(), 65535), None
                    a, b = bytearray(7), bytearray(65535)
                    n = os.readv(s.fileno(), [a, b])
                    return bytes((a + b)[:n]), None
                return s.recv(65535), None
            if "--sendmsg" in flags:
                data, _, _, peer = s.recvmsg(65535)
                return data, peer
            return s.recvfrom(65535)
        except BlockingIOError:
            if not waiter:
                raise
        except socket.timeout:
            return None


def send_one(s, data, dest, flags, i):
    if "--connect" in flags:
        if "--sendmsg" in flags:
            return s.sendmsg([data])
        if i % 3 == 1:
            return os.write(s.fileno(), data)
        if i % 3 == 2:
            return os.writev(s.fileno(), [data[:3], data[3:]])
        return s.send(data)
    if "--sendmsg" in flags:
        return s.sendmsg([data], [], 0, dest)
    return s.sendto(data, dest)


def sizes(n, lo, hi):
    if n == 1:
        return [lo]
    return [lo + (hi - lo) * i // (n - 1) for i in range(n)]


def do_echo(host, port, flags):
    count = int(opt(flags, "count", 1))
    lo, hi = int(opt(flags, "min", 1)), int(opt(flags, "max", 1400))
    name = opt(flags, "name")
    if name:
        ai = socket.getaddrinfo(name, port, family(host), socket.SOCK_DGRAM)
        dest = ai[0][4]
        print("dest=%s" % dest[0])
    else:
        dest = (host, port)
    s = socket.socket(family(host), socket.SOCK_DGRAM)
    waiter = None
    if "--nonblock" in flags:
        s.setblocking(False)
        waiter = Waiter(s, opt(flags, "wait", "poll"))
    else:
        s.settimeout(3)
    t0 = time.monotonic()
    try:
        if "--connect" in flags:
            s.connect(dest)
    except OSError as e:
        print("errno=%s" % ename(e.errno))
        return 3
    ok = bad = lost = sent = 0
    froms, seen = set(), set()

    def run(n, start):
        nonlocal ok, bad, lost, sent
        for i, size in enumerate(sizes(n, lo, hi), start):
            data = os.urandom(size)
            try:
                send_one(s, data, dest, flags, i)
            except OSError as e:
                return e.errno
            sent += 1
            got = recv_reply(s, flags, i, waiter, time.monotonic() + 2)
            if got is None:
                lost += 1
                continue
            reply, peer = got
            head, _, body = reply.partition(b"\n")
            if peer is not None:
                froms.add("%s %d" % (peer[0], peer[1]))
            seen.add(head.decode(errors="replace").replace("you are ", ""))
            if body == data and head.startswith(b"you are "):
                ok += 1
            else:
                bad += 1
        return 0

    err = run(count, 0)
    if err:
        print("errno=%s" % ename(err))
    if "--connect" in flags:
        peer = s.getpeername()
        froms.add("%s %d" % (peer[0], peer[1]))
    trunc = opt(flags, "trunc")
    if trunc and not err:
        data = os.urandom(64)
        send_one(s, data, dest, flags, 0)
        if waiter:
            waiter.wait(2)
        try:
            d, _, fl, _ = s.recvmsg(int(trunc))
            print("trunc_len=%d" % len(d))
            print("trunc_flags=%s" % ("MSG_TRUNC" if fl & socket.MSG_TRUNC else "0"))
            print("trunc_ok=%d" % (d == (b"you are " + next(iter(seen)).encode() + b"\n" + data)[:int(trunc)]))
        except OSError as e:
            print("trunc_errno=%s" % ename(e.errno))
    print("sent=%d ok=%d bad=%d lost=%d" % (sent, ok, bad, lost))
    print("ok=%d" % ok)
    print("from=%s" % ",".join(sorted(froms)))
    print("seen=%s" % ",".join(sorted(seen)))
    print("elapsed=%.2f" % (time.monotonic() - t0))
    pause = opt(flags, "pause")
    if pause:
        open(pause + ".ready", "w").close()
        for _ in range(200):
            if os.path.exists(pause + ".go"):
                break
            time.sleep(0.05)
        errs = []
        for i in range(int(opt(flags, "after", 3))):
            try:
                send_one(s, b"after-%d" % i, dest, flags, i)
                errs.append("0")
            except OSError as e:
                errs.append(ename(e.errno))
            time.sleep(0.05)
        print("after=%s" % ",".join(errs))
    if err:
        return 3
    return 0 if ok == count and not bad else 4


def do_dns(host, port, name):
    qid = 0x4242
    q = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in name.rstrip(".").split("."):
        q += bytes([len(label)]) + label.encode()
    q += b"\0" + struct.pack("!HH", 1, 1)
    s = socket.socket(family(host), socket.SOCK_DGRAM)
    s.settimeout(3)
    try:
        s.sendto(q, (host, port))
        data, peer = s.recvfrom(4096)
    except socket.timeout:
        print("noreply=ETIMEDOUT")
        return 4
    except OSError as e:
        print("errno=%s" % ename(e.errno))
        return 3
    print("from=%s %d" % (peer[0], peer[1]))
    rid, fl, qd, an = struct.unpack("!HHHH", data[:8])
    print("rcode=%d id_ok=%d answers=%d" % (fl & 15, rid == qid, an))
    # the answer's A record: the last 4 bytes of a single-answer reply
    if an:
        print("answer=%s" % socket.inet_ntoa(data[-4:]))
    return 0 if an else 4


def echo_once(s, dest, connected, tag):
    """One random datagram and its echo: (ok, peer or None, seen) or None if lost."""
    data = tag + os.urandom(32)
    if connected:
        s.send(data)
    else:
        s.sendto(data, dest)
    try:
        reply, peer = s.recvfrom(65535)
    except socket.timeout:
        return None
    head, _, body = reply.partition(b"\n")
    return body == data, peer, head.decode(errors="replace").replace("you are ", "")


def oserr(f):
    try:
        f()
        return "0"
    except OSError as e:
        return ename(e.errno)


def do_unspec(host, port, port2):
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    s = socket.socket(family(host), socket.SOCK_DGRAM)
    s.settimeout(3)
    try:
        s.connect((host, port))
        got = echo_once(s, None, True, b"first")
    except OSError as e:
        print("errno=%s" % ename(e.errno))
        return 3
    print("ok1=%d" % (got is not None and got[0]))
    print("seen1=%s" % (got[2] if got else ""))
    unspec = (ctypes.c_ubyte * 128)()  # sa_family 0: AF_UNSPEC
    rc = libc.connect(s.fileno(), unspec, ctypes.sizeof(unspec))
    print("unspec=%s" % ("0" if rc == 0 else ename(ctypes.get_errno())))
    print("peer_after=%s" % oserr(s.getpeername))
    try:
        got = echo_once(s, (host, port2), False, b"second")
    except OSError as e:
        got = None
        print("errno2=%s" % ename(e.errno))
    print("ok2=%d" % (got is not None and got[0]))
    print("from2=%s" % ("%s %d" % got[1][:2] if got else ""))
    print("seen2=%s" % (got[2] if got else ""))
    print("send_after=%s" % oserr(lambda: s.send(b"nowhere")))
    return 0 if got and got[0] else 4


def do_dup(host, port, flags):
    import fcntl

    connected = "--connect" in flags
    dest = (host, port)
    tally = {"ok": 0, "bad": 0, "lost": 0}
    froms, seen = set(), set()

    def echo(s, what, n):
        for _ in range(n):
            try:
                got = echo_once(s, dest, connected, what.encode())
            except OSError as e:
                print("errno_%s=%s" % (what, ename(e.errno)))
                tally["bad"] += 1
                continue
            if got is None:
                tally["lost"] += 1
                print("lost_%s=1" % what)
                continue
            tally["ok" if got[0] else "bad"] += 1
            if not got[0]:
                print("bad_%s=1" % what)
            froms.add("%s %d" % got[1][:2])
            seen.add(got[2])

    def wrap(fd):
        c = socket.socket(fileno=fd)
        c.settimeout(3)
        return c

    s = socket.socket(family(host), socket.SOCK_DGRAM)
    s.settimeout(3)
    if connected:
        s.connect(dest)
    echo(s, "orig", 1)
    fd = s.fileno()
    copies = {
        "dup": wrap(os.dup(fd)),  # python: fcntl(F_DUPFD_CLOEXEC)
        "dupfd": wrap(fcntl.fcntl(fd, fcntl.F_DUPFD, 50)),
        "dup2": wrap(os.dup2(fd, 60)),  # inheritable: dup2
        "dup3": wrap(os.dup2(fd, 61, inheritable=False)),  # dup3(O_CLOEXEC)
    }
    for what, c in copies.items():
        echo(c, what, 3)
    s.close()
    for what in ("dup", "dup3"):
        echo(copies[what], what + "-after-close", 3)
    fresh = socket.socket(family(host), socket.SOCK_DGRAM)
    n = os.dup2(fresh.fileno(), copies["dupfd"].fileno())
    fresh.close()
    copies["dupfd"].detach()
    over = wrap(n)
    if connected:
        over.connect(dest)
    echo(over, "dup2-over", 3)
    over.close()
    for c in copies.values():
        if c.fileno() >= 0:
            c.close()
    print("ok=%d bad=%d lost=%d" % (tally["ok"], tally["bad"], tally["lost"]))
    print("from=%s" % ",".join(sorted(froms)))
    print("seen=%s" % ",".join(sorted(seen)))
    return 0 if tally["ok"] == 22 and not tally["bad"] else 4


def do_spawn(host, port, flags):
    import subprocess

    def fds():
        return len(os.listdir("/proc/self/fd")) - 1  # less listdir's own

    print("fds_before=%d" % fds())
    s = socket.socket(family(host), socket.SOCK_DGRAM)
    s.settimeout(3)
    got = echo_once(s, (host, port), False, b"before")
    print("echo1=%s" % ("ok" if got and got[0] else "bad"))
    stdin = s.fileno() if "--stdin" in flags else None
    sys.stderr.write("MARK: spawn\n")
    sys.stderr.flush()
    print("child=%d" % subprocess.run(["/bin/true"], close_fds=True, stdin=stdin).returncode)
    sys.stderr.write("MARK: spawned\n")
    sys.stderr.flush()
    got = echo_once(s, (host, port), False, b"after")
    print("echo2=%s" % ("ok" if got and got[0] else "bad"))
    print("from2=%s" % ("%s %d" % got[1][:2] if got else ""))
    print("seen2=%s" % (got[2] if got else ""))
    s.close()
    print("fds_after=%d" % fds())
    return 0


def do_probe(host, port, flags):
    s = socket.socket(family(host), socket.SOCK_DGRAM)
    s.connect((host, port))
    print("local=%s %d" % s.getsockname()[:2])
    print("peer=%s %d" % s.getpeername()[:2])
    try:
        s.recv(2048, socket.MSG_DONTWAIT)
        print("recv_nb=DATA")
    except BlockingIOError:
        print("recv_nb=EAGAIN")
    except OSError as e:
        print("recv_nb=%s" % ename(e.errno))
    if not opt(flags, "send"):
        return 0
    got = []
    rx = None
    if opt(flags, "rx-thread"):
        import threading
        rx = threading.Thread(target=lambda: got.append(s.recv(2048)), daemon=True)
        rx.start()
        time.sleep(0.3)  # let it block in recv (the outcome does not depend on it)
    if opt(flags, "nonblock"):
        s.setblocking(False)
    try:
        s.send(b"probe")
    except OSError as e:
        print("errno=%s" % ename(e.errno))
        return 3
    if rx:
        rx.join(5)
        if not got:
            print("recv_errno=none in the blocked thread")
            return 4
        data = got[0]
    else:
        s.setblocking(True)
        s.settimeout(3)
        try:
            data = s.recv(2048)
        except OSError as e:
            print("recv_errno=%s" % ename(e.errno))
            return 4
    first, _, rest = data.partition(b"\n")
    print("seen=%s" % first.decode(errors="replace").replace("you are ", ""))
    print("ok=%d" % (rest == b"probe"))
    return 0 if rest == b"probe" else 4


def main(argv):
    flags = [a for a in argv[1:] if a.startswith("--")]
    args = [a for a in argv[1:] if not a.startswith("--")]
    if len(args) < 3:
        print(__doc__, file=sys.stderr)
        return 1
    mode, host, port = args[0], args[1], int(args[2])
    if mode == "echo":
        return do_echo(host, port, flags)
    if mode == "dns":
        return do_dns(host, port, args[3])
    if mode == "unspec":
        return do_unspec(host, port, int(args[3]))
    if mode == "dup":
        return do_dup(host, port, flags)
    if mode == "spawn":
        return do_spawn(host, port, flags)
    if mode == "probe":
        return do_probe(host, port, flags)
    print("unknown mode %s" % mode, file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.stdout.reconfigure(line_buffering=True)
    sys.exit(main(sys.argv))
