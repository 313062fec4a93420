#!/usr/bin/python3
"""Clients for t_fault_dns.sh. Run as /usr/bin/python3 (the program must be python3).

    dns_fault_client.py gai NAME [4|6|0]     one socket.getaddrinfo
    dns_fault_client.py many N FORMAT...     N rounds over the name formats (FORMAT % i),
                                             one getaddrinfo each, in one long-lived
                                             process: counts its descriptors before and after;
                                             FORMAT/K: only every K-th round
    dns_fault_client.py dial NAME PORT       socket.create_connection (getaddrinfo, then
                                             each address in turn), read one line

Output: key=value lines. gai: `rc=0|CODE` (the gaierror code), `elapsed_ms=N`,
`addrs=a,b`. many: `lookups=N`, `codes=CODE:COUNT,...`, `max_ms=N`, `fds_before=N`,
`fds_after=N`, `fd_delta=N`. dial: `rc=...` when the lookup failed, else
`errno=NAME` or `reply=...`; `elapsed_ms=N` for the whole call, and on failure
`fd_delta=N` (descriptors open after it minus before).
Exit status: 0 ok, 2 a lookup failed, 3 an OSError on connect, 4 no reply.
"""
import errno
import os
import socket
import sys
import time


def ms_since(t0):
    return int((time.monotonic() - t0) * 1000)


def gai(name, fam="0"):
    family = {"4": socket.AF_INET, "6": socket.AF_INET6}.get(fam, socket.AF_UNSPEC)
    t0 = time.monotonic()
    try:
        infos = socket.getaddrinfo(name, 80, family, socket.SOCK_STREAM)
    except socket.gaierror as e:
        print("rc=%d" % e.errno)
        print("elapsed_ms=%d" % ms_since(t0))
        return 2
    print("rc=0")
    print("elapsed_ms=%d" % ms_since(t0))
    addrs = []
    for info in infos:
        if info[4][0] not in addrs:
            addrs.append(info[4][0])
    print("addrs=%s" % ",".join(addrs))
    return 0


def fds():
    return len(os.listdir("/proc/self/fd"))


def many(n, *formats):
    codes, worst = {}, 0
    before = fds()
    for i in range(int(n)):
        for fmt in formats:
            fmt, _, every = fmt.partition("/")
            if every and i % int(every):
                continue
            t0 = time.monotonic()
            try:
                socket.getaddrinfo(fmt % i, 80, 0, socket.SOCK_STREAM)
                rc = 0
            except socket.gaierror as e:
                rc = e.errno
            worst = max(worst, ms_since(t0))
            codes[rc] = codes.get(rc, 0) + 1
    after = fds()
    print("lookups=%d" % sum(codes.values()))
    print("codes=%s" % ",".join("%d:%d" % kv for kv in sorted(codes.items())))
    print("max_ms=%d" % worst)
    print("fds_before=%d" % before)
    print("fds_after=%d" % after)
    print("fd_delta=%d" % (after - before))
    return 0


def dial(name, port):
    before = fds()
    t0 = time.monotonic()
    try:
        s = socket.create_connection((name, int(port)), timeout=8)
    except socket.gaierror as e:
        print("rc=%d" % e.errno)
        print("elapsed_ms=%d" % ms_since(t0))
        print("fd_delta=%d" % (fds() - before))
        return 2
    except OSError as e:
        print("errno=%s" % (errno.errorcode.get(e.errno, str(e.errno)) if e.errno else "timeout"))
        print("elapsed_ms=%d" % ms_since(t0))
        print("fd_delta=%d" % (fds() - before))
        return 3
    print("elapsed_ms=%d" % ms_since(t0))
    print("peer=%s" % s.getpeername()[0])
    data = s.makefile().readline().strip()
    s.close()
    if not data:
        return 4
    print("reply=%s" % data)
    return 0


def main(argv):
    verbs = {"gai": gai, "many": many, "dial": dial}
    if len(argv) < 2 or argv[1] not in verbs:
        print(__doc__, file=sys.stderr)
        return 64
    return verbs[argv[1]](*argv[2:])


if __name__ == "__main__":
    sys.exit(main(sys.argv))
