#!/usr/bin/python3
"""Clients for t_leaks_route.sh: the calls a shim must not let slip past the route.
Each prints key=value lines (errno=NAME for a failed call, reply=... for an answer)
and exits 0. Raw socket addresses (a 24-byte sockaddr_in6, AF_UNSPEC) and raw
system calls go through ctypes, so they reach the libc functions the shim hooks.

    route_client.py reconnect refused|unspec H1 P1 H2 P2   TCP: connect, (disconnect), connect again
    route_client.py tfo_after H1 P1 H2 P2                  TCP: a refused connect, then sendto(MSG_FASTOPEN)
    route_client.py poll HOST PORT                         non-blocking connect polled with connect
    route_client.py udp_two H1 P1 H2 P2                    one UDP socket, a datagram to each
    route_client.py short6 udp_sendto|udp_sendmsg|tcp_fastopen|tcp_connect HOST PORT LEN
    route_client.py unspec4 sendto|sendmsg HOST PORT       IPv4 UDP, an AF_UNSPEC destination
    route_client.py unspec6 PEER PPORT HOST PORT           IPv6 UDP connected to PEER, AF_UNSPEC to HOST
    route_client.py udplite sendto|connect HOST PORT       UDP-Lite
    route_client.py ping HOST                              an ICMP ping socket
    route_client.py raw HOST                               a raw ICMP socket
    route_client.py sctp                                   an SCTP socket
    route_client.py smc connect|fastopen HOST PORT         an AF_SMC socket (socket=EAFNOSUPPORT
                                                           where the kernel has no SMC)
    route_client.py sys connect|sendto|sendmsg|socket HOST PORT   syscall(SYS_...)
"""
import ctypes
import errno
import select
import socket
import struct
import sys

libc = ctypes.CDLL(None, use_errno=True)
MSG_FASTOPEN = 0x20000000
SYS = {"socket": 41, "connect": 42, "sendto": 44, "recvfrom": 45, "sendmsg": 46, "recvmsg": 47}  # x86-64
libc.syscall.restype = ctypes.c_long


def ename(e):
    return errno.errorcode.get(e, str(e)) if e else "ok"


def mksock(family, kind=socket.SOCK_STREAM, proto=0, fileno=None):
    """A blocking socket (a timeout would make Python's connect non-blocking) whose
    calls give up after 3 seconds (SO_RCVTIMEO, SO_SNDTIMEO: connect too)."""
    s = socket.socket(family, kind, proto) if fileno is None else socket.socket(fileno=fileno)
    tv = struct.pack("ll", 3, 0)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, tv)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, tv)
    return s


def out(**kv):
    for k, v in kv.items():
        print("%s=%s" % (k, v))
    sys.stdout.flush()


def res(r):
    """A ctypes call's result: the number, or the errno's name."""
    return ename(ctypes.get_errno()) if r < 0 else r


def sa4(ip, port, family=socket.AF_INET):
    return struct.pack("=H", family) + struct.pack("!H", port) + socket.inet_aton(ip) + b"\0" * 8


def sa6(ip, port, family=socket.AF_INET6):
    return (struct.pack("=H", family) + struct.pack("!HI", port, 0) +
            socket.inet_pton(socket.AF_INET6, ip) + b"\0" * 4)


def sa(ip, port):
    return sa6(ip, port) if ":" in ip else sa4(ip, port)


def fam(ip):
    return socket.AF_INET6 if ":" in ip else socket.AF_INET


class iovec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]


class msghdr(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("namelen", ctypes.c_uint32), ("iov", ctypes.POINTER(iovec)),
                ("iovlen", ctypes.c_size_t), ("control", ctypes.c_void_p), ("controllen", ctypes.c_size_t),
                ("flags", ctypes.c_int)]


def c_sendmsg(fd, data, addr, flags=0, raw=False):
    buf = ctypes.create_string_buffer(data, len(data))
    iov = iovec(ctypes.cast(buf, ctypes.c_void_p), len(data))
    m = msghdr(addr, len(addr), ctypes.pointer(iov), 1, None, 0, 0)
    if raw:
        return res(libc.syscall(SYS["sendmsg"], fd, ctypes.byref(m), flags))
    return res(libc.sendmsg(fd, ctypes.byref(m), flags))


def reply_of(s):
    try:
        return s.recv(200).decode().split("\n")[0].strip()
    except OSError as e:
        return "none(%s)" % ename(e.errno)


def tcp_connect(s, host, port):
    try:
        s.connect((host, port))
        return "ok"
    except OSError as e:
        return ename(e.errno)


def reconnect(mode, h1, p1, h2, p2):
    s = mksock(fam(h1))
    first = tcp_connect(s, h1, int(p1))
    if mode == "unspec":
        out(unspec=res(libc.connect(s.fileno(), struct.pack("=H", 0) + b"\0" * 14, 16)))
    second = tcp_connect(s, h2, int(p2))
    out(first=first, second=second)
    if second == "ok":
        s.sendall(b"x\n")
        out(reply=reply_of(s))


def tfo_after(h1, p1, h2, p2):
    s = mksock(fam(h1))
    out(first=tcp_connect(s, h1, int(p1)))
    try:
        s.sendto(b"x\n", MSG_FASTOPEN, (h2, int(p2)))
        out(second="ok", reply=reply_of(s))
    except OSError as e:
        out(second=ename(e.errno))


def poll(host, port):
    """EINPROGRESS, then EALREADY while it is on the way, then 0 or EISCONN."""
    s = socket.socket(fam(host))
    s.setblocking(False)
    first = ename(s.connect_ex((host, int(port))))
    again = ename(s.connect_ex((host, int(port))))
    select.select([], [s], [], 5)
    done = s.connect_ex((host, int(port)))
    out(first=first, again=again, done=ename(done),
        last=ename(s.connect_ex((host, int(port)))))
    s.setblocking(True)
    s.sendall(b"x\n")
    out(reply=reply_of(s))


def udp_two(h1, p1, h2, p2):
    s = mksock(fam(h1), socket.SOCK_DGRAM)
    for i, (h, p) in enumerate(((h1, p1), (h2, p2)), 1):
        try:
            s.sendto(b"x", (h, int(p)))
            out(**{"send%d" % i: "ok", "reply%d" % i: s.recv(200).decode().strip()})
        except OSError as e:
            out(**{"send%d" % i: ename(e.errno)})


def short6(mode, host, port, n):
    addr = sa6(host, int(port))[: int(n)]
    kind = socket.SOCK_DGRAM if mode.startswith("udp") else socket.SOCK_STREAM
    s = mksock(socket.AF_INET6, kind)
    if mode == "udp_sendto":
        r = res(libc.sendto(s.fileno(), b"x", 1, 0, addr, len(addr)))
    elif mode == "udp_sendmsg":
        r = c_sendmsg(s.fileno(), b"x", addr)
    elif mode == "tcp_fastopen":
        r = res(libc.sendto(s.fileno(), b"x\n", 2, MSG_FASTOPEN, addr, len(addr)))
    else:
        r = res(libc.connect(s.fileno(), addr, len(addr)))
        if r == 0:
            s.sendall(b"x\n")
    out(result=r if isinstance(r, str) else "ok")
    if not isinstance(r, str):
        out(reply=reply_of(s))


def unspec4(mode, host, port):
    s = mksock(socket.AF_INET, socket.SOCK_DGRAM)
    addr = sa4(host, int(port), family=socket.AF_UNSPEC)
    if mode == "sendto":
        r = res(libc.sendto(s.fileno(), b"x", 1, 0, addr, len(addr)))
    else:
        r = c_sendmsg(s.fileno(), b"x", addr)
    out(result=r if isinstance(r, str) else "ok")
    if not isinstance(r, str):
        out(reply=reply_of(s))


def unspec6(peer, pport, host, port):
    s = mksock(socket.AF_INET6, socket.SOCK_DGRAM)
    s.connect((peer, int(pport)))
    addr = sa6(host, int(port), family=socket.AF_UNSPEC)
    r = res(libc.sendto(s.fileno(), b"x", 1, 0, addr, len(addr)))
    out(result=r if isinstance(r, str) else "ok")
    if not isinstance(r, str):
        out(reply=reply_of(s))


def udplite(mode, host, port):
    try:
        s = mksock(fam(host), socket.SOCK_DGRAM, 136)
    except OSError as e:
        return out(socket=ename(e.errno))
    try:
        if mode == "connect":
            s.connect((host, int(port)))
            s.send(b"x")
        else:
            s.sendto(b"x", (host, int(port)))
        out(result="ok", reply=s.recv(200).decode().strip())
    except OSError as e:
        out(result=ename(e.errno))


def smc(mode, host, port):
    """AF_SMC (43) connects to inet addresses and falls back to TCP when the peer
    has no SMC: a reply means a TCP connection reached the server."""
    try:
        s = mksock(43, socket.SOCK_STREAM, 1 if fam(host) == socket.AF_INET6 else 0)
    except OSError as e:
        return out(socket=ename(e.errno))
    addr = sa(host, int(port))  # raw: Python's socket module knows no AF_SMC address
    if mode == "connect":
        r = res(libc.connect(s.fileno(), addr, len(addr)))
        if not isinstance(r, str):
            r = res(libc.send(s.fileno(), b"x", 1, 0))
    else:
        r = res(libc.sendto(s.fileno(), b"x", 1, MSG_FASTOPEN, addr, len(addr)))
    out(result=r if isinstance(r, str) else "ok")
    if not isinstance(r, str):
        out(reply=reply_of(s))


def echo_request():
    body = struct.pack("!BBHHH", 8, 0, 0, 0x1234, 1) + b"dialshim"
    c = sum(struct.unpack("!%dH" % (len(body) // 2), body))
    c = (c >> 16) + (c & 0xFFFF)
    c = ~(c + (c >> 16)) & 0xFFFF
    return body[:2] + struct.pack("!H", c) + body[4:]


def icmp(kind, host):
    try:
        s = mksock(socket.AF_INET, kind, socket.IPPROTO_ICMP)
    except OSError as e:
        return out(socket=ename(e.errno))
    out(socket="ok", dev=s.getsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, 16).rstrip(b"\0").decode())
    try:
        s.sendto(echo_request(), (host, 0))
        data = s.recv(200)
        out(result="ok", reply="echo-reply" if data[(20 if kind == socket.SOCK_RAW else 0)] == 0 else "other")
    except OSError as e:
        out(result=ename(e.errno))


def sctp():
    try:
        socket.socket(socket.AF_INET, socket.SOCK_STREAM, 132).close()
        out(socket="ok")
    except OSError as e:
        out(socket=ename(e.errno))


def raw_sys(mode, host, port):
    addr = sa(host, int(port))
    kind = socket.SOCK_STREAM if mode in ("connect", "socket") else socket.SOCK_DGRAM
    if mode == "socket":
        s = mksock(0, fileno=libc.syscall(SYS["socket"], fam(host), kind, 0))
    else:
        s = mksock(fam(host), kind)
    if mode in ("connect", "socket"):
        r = res(libc.syscall(SYS["connect"], s.fileno(), addr, len(addr)))
    elif mode == "sendto":
        r = res(libc.syscall(SYS["sendto"], s.fileno(), b"x\n", 2, 0, addr, len(addr)))
    else:
        r = c_sendmsg(s.fileno(), b"x\n", addr, raw=True)
    out(result=r if isinstance(r, str) else "ok")
    if not isinstance(r, str):
        if kind == socket.SOCK_STREAM:
            s.sendall(b"x\n")
        out(reply=reply_of(s))


def sys_udp(how, host, port):
    """Two datagrams out, their replies read by raw system calls: an associated
    socket's replies must come unwrapped, from the far address."""
    s = mksock(fam(host), socket.SOCK_DGRAM)
    addr = sa(host, int(port))
    for i in (1, 2):
        if how == "sys":
            r = res(libc.syscall(SYS["sendto"], s.fileno(), b"x", 1, 0, addr, len(addr)))
        else:
            r = res(libc.sendto(s.fileno(), b"x", 1, 0, addr, len(addr)))
        out(**{"send%d" % i: r if isinstance(r, str) else "ok"})
    buf = ctypes.create_string_buffer(200)
    frm = ctypes.create_string_buffer(128)
    flen = ctypes.c_uint32(128)
    n = libc.syscall(SYS["recvfrom"], s.fileno(), buf, 200, 0, frm, ctypes.byref(flen))
    if n < 0:
        return out(reply1=res(n))
    port_of = struct.unpack("!H", frm.raw[2:4])[0]
    out(reply1=buf.raw[:n].decode(errors="replace").split("\n")[0], from1_port=port_of)
    iov = iovec(ctypes.cast(buf, ctypes.c_void_p), 200)
    m = msghdr(ctypes.cast(frm, ctypes.c_char_p), 128, ctypes.pointer(iov), 1, None, 0, 0)
    n = libc.syscall(SYS["recvmsg"], s.fileno(), ctypes.byref(m), 0)
    if n < 0:
        return out(reply2=res(n))
    out(reply2=buf.raw[:n].decode(errors="replace").split("\n")[0])


class mmsghdr(ctypes.Structure):
    _fields_ = [("hdr", msghdr), ("len", ctypes.c_uint)]


def mmsg(kind, host, port):
    if kind == "short6":
        s, addr = mksock(socket.AF_INET6, socket.SOCK_DGRAM), sa6(host, int(port))[:24]
    else:
        s, addr = mksock(socket.AF_INET, socket.SOCK_DGRAM), sa4(host, int(port), family=socket.AF_UNSPEC)
    buf = ctypes.create_string_buffer(b"x", 1)
    iov = iovec(ctypes.cast(buf, ctypes.c_void_p), 1)
    vec = (mmsghdr * 1)()
    vec[0].hdr = msghdr(addr, len(addr), ctypes.pointer(iov), 1, None, 0, 0)
    r = res(libc.sendmmsg(s.fileno(), vec, 1, 0))
    out(result=r if isinstance(r, str) else "sent%d" % r)
    if not isinstance(r, str):
        out(reply=reply_of(s))


def ping6(host):
    s = mksock(socket.AF_INET6, socket.SOCK_DGRAM, socket.IPPROTO_ICMPV6)
    try:
        s.sendto(struct.pack("!BBHHH", 128, 0, 0, 0x1234, 1) + b"dialshim", (host, 0))
        out(result="ok", reply="echo-reply" if s.recv(200)[0] == 129 else "other")
    except OSError as e:
        out(result=ename(e.errno))


def main(argv):
    cmd, args = argv[1], argv[2:]
    if cmd == "reconnect":
        reconnect(*args)
    elif cmd == "tfo_after":
        tfo_after(*args)
    elif cmd == "poll":
        poll(*args)
    elif cmd == "udp_two":
        udp_two(*args)
    elif cmd == "short6":
        short6(*args)
    elif cmd == "unspec4":
        unspec4(*args)
    elif cmd == "unspec6":
        unspec6(*args)
    elif cmd == "udplite":
        udplite(*args)
    elif cmd == "ping":
        icmp(socket.SOCK_DGRAM, *args)
    elif cmd == "raw":
        icmp(socket.SOCK_RAW, *args)
    elif cmd == "sctp":
        sctp()
    elif cmd == "smc":
        smc(*args)
    elif cmd == "sys":
        raw_sys(*args)
    elif cmd == "sys_udp":
        sys_udp(*args)
    elif cmd == "mmsg":
        mmsg(*args)
    elif cmd == "ping6":
        ping6(*args)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
