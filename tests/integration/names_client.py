#!/usr/bin/python3
"""Name-lookup clients for the t_names_*.sh tests. Run as /usr/bin/python3.

    names_client.py gai NAME [PORT] [4|6|0]  socket.getaddrinfo (SOCK_STREAM)
    names_client.py ex NAME                  socket.gethostbyname_ex (gethostbyname_r)
    names_client.py rev NAME [PORT]          getaddrinfo, then getnameinfo(NI_NAMEREQD) and
                                             gethostbyaddr on each address
    names_client.py threads N NAME_FORMAT    N threads call getaddrinfo(NAME_FORMAT % i) at once
    names_client.py connect NAME PORT        socket.create_connection, read one line

Output: key=value lines: `rc=0` or `rc=CODE` (the gaierror/herror code; `rc=system` with
`errno=NAME` for EAI_SYSTEM), `addrs=a,b`
(distinct, in the order returned), `elapsed_ms=N`, `names=...`, `reply=...`.
Exit status: 0 ok, 2 a lookup failed, 3 an OSError on connect, 4 no reply.
"""
import errno
import socket
import sys
import threading
import time


def distinct(infos):
    out = []
    for info in infos:
        a = info[4][0]
        if a not in out:
            out.append(a)
    return out


def gai(name, port=None, fam="0"):
    family = {"4": socket.AF_INET, "6": socket.AF_INET6}.get(fam, socket.AF_UNSPEC)
    t0 = time.monotonic()
    try:
        infos = socket.getaddrinfo(name, port, family, socket.SOCK_STREAM)
    except socket.gaierror as e:
        print("rc=%d" % e.errno)
        print("elapsed_ms=%d" % ((time.monotonic() - t0) * 1000))
        return 2
    except OSError as e:  # EAI_SYSTEM: python raises the errno
        print("rc=system")
        print("errno=%s" % errno.errorcode.get(e.errno, str(e.errno)))
        return 2
    print("rc=0")
    print("elapsed_ms=%d" % ((time.monotonic() - t0) * 1000))
    print("addrs=%s" % ",".join(distinct(infos)))
    return 0


def ex(name):
    try:
        host, aliases, addrs = socket.gethostbyname_ex(name)
    except socket.herror as e:
        print("rc=%d" % e.errno)
        return 2
    except socket.gaierror as e:
        print("rc=%d" % e.errno)
        return 2
    print("rc=0")
    print("name=%s" % host)
    print("addrs=%s" % ",".join(addrs))
    return 0


def rev(name, port="80"):
    try:
        infos = socket.getaddrinfo(name, port, 0, socket.SOCK_STREAM)
    except socket.gaierror as e:
        print("rc=%d" % e.errno)
        return 2
    names, byaddr = [], []
    for a in distinct(infos):
        sa = (a, int(port)) if ":" not in a else (a, int(port), 0, 0)
        try:
            names.append(socket.getnameinfo(sa, socket.NI_NAMEREQD)[0])
        except socket.gaierror as e:
            names.append("rc%d" % e.errno)
        try:
            byaddr.append(socket.gethostbyaddr(a)[0])
        except (socket.herror, socket.gaierror) as e:
            byaddr.append("rc%d" % e.errno)
    print("rc=0")
    print("addrs=%s" % ",".join(distinct(infos)))
    print("names=%s" % ",".join(names))
    print("byaddr=%s" % ",".join(byaddr))
    return 0


def threads(n, fmt):
    n = int(n)
    results = [None] * n
    barrier = threading.Barrier(n)

    def one(i):
        barrier.wait()
        try:
            results[i] = distinct(socket.getaddrinfo(fmt % i, 80, 0, socket.SOCK_STREAM))
        except socket.gaierror as e:
            results[i] = "rc%d" % e.errno

    ts = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    t0 = time.monotonic()
    for t in ts:
        t.start()
    for t in ts:
        t.join(20)
    ok = sum(1 for r in results if isinstance(r, list) and r)
    print("ok=%d" % ok)
    print("fail=%d" % (n - ok))
    print("elapsed_ms=%d" % ((time.monotonic() - t0) * 1000))
    print("sample=%s" % (",".join(results[0]) if isinstance(results[0], list) else results[0]))
    return 0 if ok == n else 2


def connect(name, port):
    try:
        s = socket.create_connection((name, int(port)), timeout=5)
    except socket.gaierror as e:
        print("rc=%d" % e.errno)
        return 2
    except OSError as e:
        print("errno=%s" % e.errno)
        return 3
    print("peer=%s" % s.getpeername()[0])
    data = s.makefile().readline().strip()
    s.close()
    if not data:
        return 4
    print("reply=%s" % data)
    return 0


def main(argv):
    verbs = {"gai": gai, "ex": ex, "rev": rev, "threads": threads, "connect": connect}
    if len(argv) < 2 or argv[1] not in verbs:
        print(__doc__, file=sys.stderr)
        return 64
    return verbs[argv[1]](*argv[2:])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
