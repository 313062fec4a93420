#!/usr/bin/python3
"""Python clients for the dialshim integration tests. Run as /usr/bin/python3 so the
program's basename is `python3`.

    pyclient.py tcp HOST PORT [MSG]       blocking connect, send MSG, read one line
    pyclient.py udp HOST PORT [MSG]       unconnected sendto, wait 2 s for one reply
        (tcp and udp take --dev=IF --mark=N --src=IP: set by hand, for the lab's
        own self-test without the shim; udp also --size=N to pad the datagram and
        --sendmsg to send with sendmsg instead of sendto)
    pyclient.py fastopen HOST PORT [MSG]  sendto(MSG, MSG_FASTOPEN) on a fresh TCP socket
    pyclient.py asyncio HOST PORT [MSG]   asyncio.open_connection (non-blocking connect)
    pyclient.py opts HOST PORT [--nonblock] [--inheritable]
                                          set TCP_NODELAY, SO_KEEPALIVE and FD_CLOEXEC
                                          (cleared with --inheritable) before connect;
                                          --nonblock: O_NONBLOCK and an epoll registration
                                          for EPOLLOUT made BEFORE connect, then wait for
                                          writability through that epoll. Checks the
                                          options and flags after connect.
    pyclient.py unix PATH                 AF_UNIX connect, read one line
    pyclient.py pair HOST PORT1 PORT2     two connections open at once: r1=, r2=, local1=, local2=
    pyclient.py threads HOST PORT [N]     N threads connect at once, one reply= line each
    pyclient.py fork HOST PORT            parent, then a forked child, then parent again
    pyclient.py highfd HOST PORT          connect a socket living at descriptor 3000

Output: key=value lines (`reply=...`, `local=IP PORT`, `elapsed=SECONDS`,
`errno=NAME`, ...). Exit status: 0 ok; 3 an OSError on connect/send (errno=NAME
printed); 4 no reply or I/O error; 5 an option or flag was lost (`lost=...`).
HOST may be an IPv4 or IPv6 literal; no name is ever looked up except by asyncio's
getaddrinfo on the literal.
"""
import asyncio
import errno
import fcntl
import os
import select
import socket
import struct
import sys
import time


def family(host):
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def ename(e):
    return errno.errorcode.get(e, str(e))


def set_rcvtimeo(s, secs):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, struct.pack("ll", secs, 0))


def read_line(s):
    data = b""
    while b"\n" not in data and len(data) < 4096:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    return data.split(b"\n")[0].decode(errors="replace")


def print_local(s):
    name = s.getsockname()
    print("local=%s %d" % (name[0], name[1]))


def bare_options(s, flags):
    """The lab's self-test sets by hand what a dialer would: --dev=IF, --mark=N, --src=IP."""
    for f in flags:
        key, _, val = f[2:].partition("=")
        if key == "dev":
            s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, val.encode())
        elif key == "mark":
            s.setsockopt(socket.SOL_SOCKET, socket.SO_MARK, int(val, 0))
        elif key == "src":
            s.bind((val, 0))


def payload(msg, flags):
    """--size=N pads the message to N bytes (a datagram larger than the link MTU)."""
    for f in flags:
        if f.startswith("--size="):
            n = int(f[7:])
            return (msg * (n // max(1, len(msg)) + 1))[:n]
    return msg


def do_tcp(host, port, msg, flags):
    s = socket.socket(family(host), socket.SOCK_STREAM)
    bare_options(s, flags)
    t0 = time.monotonic()
    try:
        s.connect((host, port))
    except OSError as e:
        print("elapsed=%.2f" % (time.monotonic() - t0))
        print("errno=%s" % ename(e.errno))
        return 3
    print("elapsed=%.2f" % (time.monotonic() - t0))
    print_local(s)
    set_rcvtimeo(s, 5)
    try:
        s.sendall(msg.encode())
        line = read_line(s)
    except OSError as e:
        print("io_errno=%s" % ename(e.errno))
        return 4
    print("reply=%s" % line)
    return 0 if line else 4


def do_fastopen(host, port, msg):
    """sendto(MSG_FASTOPEN) on a fresh TCP socket: connect and first write in one call."""
    s = socket.socket(family(host), socket.SOCK_STREAM)
    try:
        s.sendto(msg.encode(), socket.MSG_FASTOPEN, (host, port))
    except OSError as e:
        print("errno=%s" % ename(e.errno))
        return 3
    print_local(s)
    set_rcvtimeo(s, 5)
    try:
        line = read_line(s)
    except OSError as e:
        print("io_errno=%s" % ename(e.errno))
        return 4
    print("reply=%s" % line)
    return 0 if line else 4


def do_udp(host, port, msg, flags):
    s = socket.socket(family(host), socket.SOCK_DGRAM)
    bare_options(s, flags)
    data = payload(msg, flags).encode()
    try:
        if "--sendmsg" in flags:
            s.sendmsg([data], [], 0, (host, port))
        else:
            s.sendto(data, (host, port))
    except OSError as e:
        print("errno=%s" % ename(e.errno))
        return 3
    print_local(s)
    set_rcvtimeo(s, 2)
    try:
        data, peer = s.recvfrom(4096)
    except OSError as e:
        print("noreply=%s" % ename(e.errno))
        return 4
    print("from=%s %d" % (peer[0], peer[1]))
    print("reply=%s" % data.split(b"\n")[0].decode(errors="replace"))
    return 0


def one_conn(host, port, msg="hello\n", fd=None):
    """Connect (blocking), send, read one line; returns the line or 'errno=NAME'."""
    s = socket.socket(family(host), socket.SOCK_STREAM, fileno=fd) if fd is not None \
        else socket.socket(family(host), socket.SOCK_STREAM)
    try:
        s.connect((host, port))
        set_rcvtimeo(s, 5)
        s.sendall(msg.encode())
        return read_line(s)
    except OSError as e:
        return "errno=%s" % ename(e.errno)
    finally:
        s.close()


def do_pair(host, port1, port2):
    """Two connections held open at the same time (to two ports)."""
    socks = []
    for i, port in enumerate((port1, port2), 1):
        s = socket.socket(family(host), socket.SOCK_STREAM)
        socks.append(s)
        try:
            s.connect((host, port))
            set_rcvtimeo(s, 5)
            s.sendall(b"pair\n")
            print("r%d=%s" % (i, read_line(s)))
            print("local%d=%s %d" % ((i,) + s.getsockname()[:2]))
        except OSError as e:
            print("r%d=errno=%s" % (i, ename(e.errno)))
    for s in socks:
        s.close()
    return 0


def do_threads(host, port, n):
    """n threads connect at once (released together by a barrier)."""
    import threading
    barrier = threading.Barrier(n)
    results = [None] * n

    def run(i):
        try:
            barrier.wait(5)
        except threading.BrokenBarrierError:
            pass
        results[i] = one_conn(host, port)

    ts = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(15)
    for r in results:
        print("reply=%s" % r)
    return 0 if all(r and r.startswith("you are") for r in results) else 4


def do_fork(host, port):
    """Parent connects, forks; the child connects; then the parent again."""
    print("reply=%s" % one_conn(host, port, "parent\n"))
    pid = os.fork()
    if pid == 0:
        print("reply=%s" % one_conn(host, port, "child\n"))
        sys.stdout.flush()
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    print("child_status=%d" % status)
    print("reply=%s" % one_conn(host, port, "parent2\n"))
    return 0


def do_highfd(host, port):
    """The socket lives at descriptor 3000 (above FD_SETSIZE)."""
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 4096:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(4096, hard) if hard > 0 else 4096, hard))
    s = socket.socket(family(host), socket.SOCK_STREAM)
    os.dup2(s.fileno(), 3000)
    s.close()
    t0 = time.monotonic()
    r = one_conn(host, port, fd=3000)
    print("elapsed=%.2f" % (time.monotonic() - t0))
    if r.startswith("errno="):
        print(r)
        return 3
    print("reply=%s" % r)
    return 0


def do_asyncio(host, port, msg):
    async def run():
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 5)
        sock = writer.get_extra_info("sockname")
        print("local=%s %d" % (sock[0], sock[1]))
        writer.write(msg.encode())
        await writer.drain()
        line = await asyncio.wait_for(reader.readline(), 5)
        writer.close()
        try:
            await writer.wait_closed()
        except OSError:
            pass
        return line.decode(errors="replace").rstrip("\n")

    try:
        line = asyncio.run(run())
    except asyncio.TimeoutError:
        print("errno=ETIMEDOUT(asyncio)")
        return 3
    except OSError as e:
        print("errno=%s" % ename(e.errno))
        return 3
    print("reply=%s" % line)
    return 0 if line else 4


def do_opts(host, port, nonblock, inheritable):
    s = socket.socket(family(host), socket.SOCK_STREAM)
    fd = s.fileno()
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
    fdflags = fcntl.fcntl(fd, fcntl.F_GETFD)
    if inheritable:
        fcntl.fcntl(fd, fcntl.F_SETFD, fdflags & ~fcntl.FD_CLOEXEC)
    else:
        fcntl.fcntl(fd, fcntl.F_SETFD, fdflags | fcntl.FD_CLOEXEC)
    ep = None
    if nonblock:
        s.setblocking(False)  # O_NONBLOCK on the descriptor
        ep = select.epoll()
        ep.register(fd, select.EPOLLOUT)
    rc = s.connect_ex((host, port))
    print("connect=%s" % (ename(rc) if rc else "0"))
    if nonblock:
        if rc not in (0, errno.EINPROGRESS):
            return 3
        events = ep.poll(5)
        print("epoll=%s" % ",".join("%d:%#x" % (f, ev) for f, ev in events))
        if not any(f == fd and ev & select.EPOLLOUT for f, ev in events):
            print("lost=epoll_registration")
            return 5
        err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if err:
            print("errno=%s" % ename(err))
            return 3
    elif rc:
        print("errno=%s" % ename(rc))
        return 3

    lost = []
    if s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0:
        lost.append("TCP_NODELAY")
    if s.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 0:
        lost.append("SO_KEEPALIVE")
    cloexec = bool(fcntl.fcntl(fd, fcntl.F_GETFD) & fcntl.FD_CLOEXEC)
    if cloexec == inheritable:
        lost.append("FD_CLOEXEC=%d" % cloexec)
    nb = bool(fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_NONBLOCK)
    if nb != nonblock:
        lost.append("O_NONBLOCK=%d" % nb)
    print("nodelay=%d keepalive=%d cloexec=%d nonblock=%d" % (
        s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0,
        s.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) != 0, cloexec, nb))
    print_local(s)

    try:
        if nonblock:
            ep.modify(fd, select.EPOLLIN)
            s.send(b"opts\n")
            line = b""
            deadline = time.monotonic() + 5
            while b"\n" not in line and time.monotonic() < deadline:
                if ep.poll(max(0.0, deadline - time.monotonic())):
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    line += chunk
            line = line.split(b"\n")[0].decode(errors="replace")
        else:
            set_rcvtimeo(s, 5)
            s.sendall(b"opts\n")
            line = read_line(s)
    except OSError as e:
        print("io_errno=%s" % ename(e.errno))
        return 4
    print("reply=%s" % line)
    if lost:
        print("lost=%s" % ",".join(lost))
        return 5
    return 0 if line else 4


def do_unix(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(path)
    except OSError as e:
        print("errno=%s" % ename(e.errno))
        return 3
    set_rcvtimeo(s, 5)
    s.sendall(b"unix\n")
    line = read_line(s)
    print("reply=%s" % line)
    return 0 if line else 4


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 1
    mode, args = argv[1], argv[2:]
    flags = [a for a in args if a.startswith("--")]
    args = [a for a in args if not a.startswith("--")]
    if mode == "unix":
        return do_unix(args[0])
    host, port = args[0], int(args[1])
    msg = args[2] if len(args) > 2 else "hello\n"
    if mode == "tcp":
        return do_tcp(host, port, msg, flags)
    if mode == "udp":
        return do_udp(host, port, msg, flags)
    if mode == "pair":
        return do_pair(host, port, int(args[2]))
    if mode == "threads":
        return do_threads(host, port, int(args[2]) if len(args) > 2 else 16)
    if mode == "fork":
        return do_fork(host, port)
    if mode == "highfd":
        return do_highfd(host, port)
    if mode == "fastopen":
        return do_fastopen(host, port, msg)
    if mode == "asyncio":
        return do_asyncio(host, port, msg)
    if mode == "opts":
        return do_opts(host, port, "--nonblock" in flags, "--inheritable" in flags)
    print("unknown mode %s" % mode, file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.stdout.reconfigure(line_buffering=True)
    sys.exit(main(sys.argv))
