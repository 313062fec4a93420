#!/usr/bin/python3
"""Old libc calls that connect or resolve inside libc, called with ctypes from the
global scope (as a C program would): rcmd, rexec, getnetbyname, getnetbyname_r.
Usage: legacy_client.py STEP... with STEP one of
  rcmd:HOST:PORT   rexec:HOST:PORT   net:NAME   net_r:NAME
Prints `STEP rc=N errno=NAME` (or `found=0/1` for the network lookups)."""
import ctypes
import errno
import socket
import sys

libc = ctypes.CDLL(None, use_errno=True)


def err():
    e = ctypes.get_errno()
    return errno.errorcode.get(e, str(e)) if e else "0"


def remote(fn, host, port):
    h = ctypes.c_char_p(host.encode())
    ctypes.set_errno(0)
    if fn == "rcmd":
        f = libc.rcmd
        f.argtypes = [ctypes.POINTER(ctypes.c_char_p), ctypes.c_ushort, ctypes.c_char_p,
                      ctypes.c_char_p, ctypes.c_char_p, ctypes.c_void_p]
        rc = f(ctypes.byref(h), socket.htons(port), b"root", b"root", b"id", None)
    else:
        f = libc.rexec
        f.argtypes = [ctypes.POINTER(ctypes.c_char_p), ctypes.c_int, ctypes.c_char_p,
                      ctypes.c_char_p, ctypes.c_char_p, ctypes.c_void_p]
        rc = f(ctypes.byref(h), socket.htons(port), b"root", b"x", b"id", None)
    return "rc=%d errno=%s" % (rc, err())


def network(fn, name):
    if fn == "net":
        f = libc.getnetbyname
        f.restype = ctypes.c_void_p
        f.argtypes = [ctypes.c_char_p]
        return "found=%d" % (1 if f(name.encode()) else 0)
    buf = ctypes.create_string_buffer(1024)
    ent = ctypes.create_string_buffer(64)
    res = ctypes.c_void_p()
    herr = ctypes.c_int()
    f = libc.getnetbyname_r
    rc = f(name.encode(), ent, buf, ctypes.c_size_t(len(buf)), ctypes.byref(res),
           ctypes.byref(herr))
    return "found=%d rc=%d" % (1 if res.value else 0, rc)


for step in sys.argv[1:]:
    kind, _, rest = step.partition(":")
    if kind in ("rcmd", "rexec"):
        host, port = rest.rsplit(":", 1)
        out = remote(kind, host, int(port))
    else:
        out = network(kind, rest)
    print(step, out, flush=True)
