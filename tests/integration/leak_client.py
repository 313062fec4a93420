#!/usr/bin/python3
"""Name-lookup steps in ONE process, for the fail-closed name tests (t_names_leaks.sh,
t_names_fakeip.sh). Run as /usr/bin/python3. Each argument is one step, run in order:

    gai:NAME            socket.getaddrinfo(NAME, 22, AF_INET, SOCK_STREAM); keeps the
                        first address under NAME for conn:
    conn:NAME           connect to the address kept for NAME (port 22), read one line
    hold:NAME           the same, and keep the socket open until the end
    aslimit:KIB         setrlimit(RLIMIT_AS) to this process's size now + KIB
    resq:FN:NAME:TYPE   FN (res_query, __res_query, res_search, __res_search, res_nquery,
                        res_nsearch, res_querydomain, res_nquerydomain) from the
                        process's global scope (as a program linked with -lresolv
                        finds it), class IN, TYPE A, AAAA or MX
    ressend:FN:NAME:TYPE  res_mkquery, then FN (res_send or res_nsend) on the packet
    gaia:MODE:NAME      getaddrinfo_a (libc; MODE wait or nowait + gai_suspend) for NAME
    ni:ADDR             socket.getnameinfo((ADDR, 22), 0); nireq:ADDR with NI_NAMEREQD
    byaddr:ADDR         socket.gethostbyaddr(ADDR)

Output, one line per step: `STEP rc=...` and what it found (addrs=, reply=, id=,
qname=, an=, host=). Exit status 0 (the lines say what happened).
"""
import ctypes
import ctypes.util
import resource
import socket
import struct
import sys

kept = {}
held = []
TYPES = {"A": 1, "AAAA": 28, "MX": 15}


def vmsize_kib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmSize:"):
                return int(line.split()[1])
    return 0


def gai(name):
    try:
        infos = socket.getaddrinfo(name, 22, socket.AF_INET, socket.SOCK_STREAM)
    except socket.gaierror as e:
        return "rc=%d" % e.errno
    except OSError as e:
        return "rc=system errno=%d" % e.errno
    addrs = []
    for info in infos:
        if info[4][0] not in addrs:
            addrs.append(info[4][0])
    kept[name] = addrs[0]
    return "rc=0 addrs=%s" % ",".join(addrs)


def conn(name, keep=False):
    addr = kept.get(name)
    if not addr:
        return "rc=noaddr"
    try:
        s = socket.create_connection((addr, 22), timeout=5)
    except OSError as e:
        return "rc=errno%d addr=%s" % (e.errno, addr)
    s.settimeout(5)
    try:
        line = s.makefile("rb").readline().decode(errors="replace").strip()
    except OSError as e:
        line = "errno%d" % e.errno
    if keep:
        held.append(s)
    else:
        s.close()
    return "rc=0 addr=%s reply=%s" % (addr, line)


def aslimit(kib):
    limit = (vmsize_kib() + int(kib)) * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    return "rc=0 limit_kib=%d" % (limit // 1024)


def libc():
    # the global scope: the preloaded shim comes first, as for a program's own calls
    ctypes.CDLL(ctypes.util.find_library("resolv") or "libresolv.so.2", mode=ctypes.RTLD_GLOBAL)
    return ctypes.CDLL(None, use_errno=True)


def h_errno(c):
    loc = c.__h_errno_location
    loc.restype = ctypes.POINTER(ctypes.c_int)
    return loc().contents.value


def res_state(c):
    """A res_state initialised with res_ninit (a large zeroed buffer is enough room)."""
    st = ctypes.create_string_buffer(4096)
    c.__res_ninit(st)
    return st


def parse(buf, n):
    """id, qname, an and the A/AAAA addresses of a DNS message."""
    data = bytes(buf[:n])
    qid, flags, qd, an = struct.unpack("!HHHH", data[:8])
    off, labels = 12, []
    while data[off]:
        ln = data[off]
        labels.append(data[off + 1 : off + 1 + ln].decode())
        off += 1 + ln
    off += 5
    addrs = []
    for _ in range(an):
        off += 2 if data[off] & 0xC0 == 0xC0 else 0  # our answers use a pointer
        rtype, _, ttl, rdlen = struct.unpack("!HHIH", data[off : off + 10])
        rdata = data[off + 10 : off + 10 + rdlen]
        if rtype == 1:
            addrs.append(socket.inet_ntop(socket.AF_INET, rdata))
        elif rtype == 28:
            addrs.append(socket.inet_ntop(socket.AF_INET6, rdata))
        off += 10 + rdlen
    return "id=%d qr=%d rcode=%d qname=%s an=%d addrs=%s" % (
        qid, flags >> 15, flags & 15, ".".join(labels), an, ",".join(addrs))


def resq(fn, name, qtype):
    c = libc()
    ans = ctypes.create_string_buffer(4096)
    f = getattr(c, fn)
    t = TYPES[qtype]
    if fn in ("res_nquery", "res_nsearch"):
        n = f(res_state(c), name.encode(), 1, t, ans, 4096)
    elif fn == "res_querydomain":
        host, _, dom = name.partition(".")
        n = f(host.encode(), dom.encode(), 1, t, ans, 4096)
    elif fn == "res_nquerydomain":
        host, _, dom = name.partition(".")
        n = f(res_state(c), host.encode(), dom.encode(), 1, t, ans, 4096)
    else:
        n = f(name.encode(), 1, t, ans, 4096)
    if n < 0:
        return "rc=-1 h_errno=%d" % h_errno(c)
    return "rc=%d %s" % (n, parse(ans, n))


def ressend(fn, name, qtype):
    c = libc()
    q = ctypes.create_string_buffer(512)
    ans = ctypes.create_string_buffer(4096)
    qn = c.res_mkquery(0, name.encode(), 1, TYPES[qtype], None, 0, None, q, 512)
    if qn < 0:
        return "rc=mkquery"
    qid = struct.unpack("!H", q.raw[:2])[0]
    if fn == "res_nsend":
        n = c.res_nsend(res_state(c), q, qn, ans, 4096)
    else:
        n = getattr(c, fn)(q, qn, ans, 4096)
    if n < 0:
        return "rc=-1 qid=%d h_errno=%d" % (qid, h_errno(c))
    return "rc=%d qid=%d %s" % (n, qid, parse(ans, n))


class addrinfo(ctypes.Structure):
    pass


addrinfo._fields_ = [
    ("ai_flags", ctypes.c_int), ("ai_family", ctypes.c_int), ("ai_socktype", ctypes.c_int),
    ("ai_protocol", ctypes.c_int), ("ai_addrlen", ctypes.c_uint32),
    ("ai_addr", ctypes.c_void_p), ("ai_canonname", ctypes.c_char_p),
    ("ai_next", ctypes.POINTER(addrinfo)),
]


class gaicb(ctypes.Structure):
    _fields_ = [
        ("ar_name", ctypes.c_char_p), ("ar_service", ctypes.c_char_p),
        ("ar_request", ctypes.POINTER(addrinfo)), ("ar_result", ctypes.POINTER(addrinfo)),
        ("_return", ctypes.c_int), ("_reserved", ctypes.c_int * 5),
    ]


def gaia(mode, name):
    c = libc()
    hints = addrinfo(ai_family=socket.AF_INET, ai_socktype=socket.SOCK_STREAM)
    req = gaicb(ar_name=name.encode(), ar_service=b"22", ar_request=ctypes.pointer(hints))
    lst = (ctypes.POINTER(gaicb) * 1)(ctypes.pointer(req))
    r = c.getaddrinfo_a(0 if mode == "wait" else 1, lst, 1, None)
    if r != 0:
        return "rc=%d" % r
    if mode != "wait":
        ts = struct.pack("ll", 8, 0)
        c.gai_suspend(lst, 1, ctypes.c_char_p(ts))
    err = c.gai_error(ctypes.byref(req))
    if err != 0:
        return "rc=%d" % err
    addrs, ai = [], req.ar_result
    while ai:
        sa = ctypes.string_at(ai.contents.ai_addr, 8)
        addrs.append(socket.inet_ntop(socket.AF_INET, sa[4:8]))
        ai = ai.contents.ai_next
    c.freeaddrinfo(req.ar_result)
    return "rc=0 addrs=%s" % ",".join(addrs)


def ni(addr, req=False):
    flags = socket.NI_NAMEREQD if req else 0
    try:
        host, _ = socket.getnameinfo((addr, 22), flags)
    except socket.gaierror as e:
        return "rc=%d" % e.errno
    return "rc=0 host=%s" % host


def byaddr(addr):
    try:
        host = socket.gethostbyaddr(addr)[0]
    except socket.herror as e:
        return "rc=herror%d" % e.errno
    except socket.gaierror as e:
        return "rc=%d" % e.errno
    return "rc=0 host=%s" % host


def main(argv):
    for step in argv[1:]:
        verb, _, rest = step.partition(":")
        args = rest.split(":") if rest else []
        if verb in ("ni", "nireq", "byaddr"):
            args = [rest]  # IPv6 addresses have colons
        if verb == "nireq":
            out = ni(rest, True)
        elif verb == "hold":
            out = conn(args[0], keep=True)
        else:
            fn = {"gai": gai, "conn": conn, "aslimit": aslimit, "resq": resq,
                  "ressend": ressend, "gaia": gaia, "ni": ni, "byaddr": byaddr}[verb]
            out = fn(*args)
        print("%s %s" % (step, out), flush=True)
    for s in held:
        s.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
