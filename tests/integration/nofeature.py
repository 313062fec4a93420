#!/usr/bin/env python3
"""nofeature.py NR[,NR...] CMD [ARG...]: run CMD with the system calls numbered NR
failing with ENOSYS (a seccomp filter, x86-64), as on a kernel without them. For
t_supervise_tree.sh: the supervisor must refuse to start a program it cannot
supervise rather than run it unproxied."""
import ctypes
import os
import struct
import sys

AUDIT_ARCH_X86_64 = 0xC000003E
RET_ALLOW, RET_ERRNO = 0x7FFF0000, 0x00050000
ENOSYS = 38


def stmt(code, k):
    return struct.pack("HBBI", code, 0, 0, k)


def jump(code, k, jt, jf):
    return struct.pack("HBBI", code, jt, jf, k)


def main():
    nrs = [int(x) for x in sys.argv[1].split(",")]
    prog = [stmt(0x20, 4), jump(0x15, AUDIT_ARCH_X86_64, 1, 0), stmt(0x06, RET_ALLOW),
            stmt(0x20, 0)]
    for nr in nrs:
        prog += [jump(0x15, nr, 0, 1), stmt(0x06, RET_ERRNO | ENOSYS)]
    prog.append(stmt(0x06, RET_ALLOW))
    buf = ctypes.create_string_buffer(b"".join(prog))

    class Fprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    fprog = Fprog(len(prog), ctypes.addressof(buf))
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(38, 1, 0, 0, 0) != 0 or libc.prctl(22, 2, ctypes.byref(fprog), 0, 0) != 0:
        sys.exit("nofeature: cannot install the filter: errno %d" % ctypes.get_errno())
    os.execvp(sys.argv[2], sys.argv[2:])


main()
