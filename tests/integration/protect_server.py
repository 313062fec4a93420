#!/usr/bin/python3
"""A protect_path server (as an Android VpnService "protect" socket would be).

    protect_server.py --ready FILE --log FILE [--mark N] [--silent|--stall] PATH

Listens on the unix stream socket PATH. For every connection it receives one
descriptor by SCM_RIGHTS, logs `PROTECT <family> <type>`, sets SO_MARK N on the
descriptor (when --mark is given), closes its copy and answers one byte. With
--silent it closes the connection without answering; with --stall it keeps it open
for 30 s without a word. Lives at most --life seconds.
"""
import argparse
import array
import os
import socket
import sys
import threading
import time


def handle(conn, opts, logf):
    try:
        conn.settimeout(5)
        fds = array.array("i")
        msg, anc, _flags, _addr = conn.recvmsg(16, socket.CMSG_SPACE(4 * fds.itemsize))
        for level, kind, data in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.frombytes(data[: len(data) - (len(data) % fds.itemsize)])
        if not fds:
            logf.write("NOFD\n")
            return
        fd = fds[0]
        s = socket.socket(fileno=fd)
        logf.write("PROTECT %d %d\n" % (s.family, s.type))
        if opts.mark is not None:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_MARK, opts.mark)
        s.detach()
        os.close(fd)
        for extra in fds[1:]:
            os.close(extra)
        if opts.stall:
            time.sleep(30)
        elif not opts.silent:
            conn.sendall(b"\x01")
    except OSError as e:
        logf.write("ERROR %s\n" % e)
    finally:
        logf.flush()
        conn.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--log", required=True)
    ap.add_argument("--ready")
    ap.add_argument("--mark", type=lambda v: int(v, 0))
    ap.add_argument("--silent", action="store_true")
    ap.add_argument("--stall", action="store_true", help="keep the connection, never answer")
    ap.add_argument("--life", type=float, default=120.0)
    ap.add_argument("path")
    opts = ap.parse_args()
    logf = open(opts.log, "a", buffering=1)
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(opts.path)
    srv.listen(16)
    if opts.ready:
        open(opts.ready, "w").close()
    srv.settimeout(opts.life)
    deadline = time.monotonic() + opts.life
    while time.monotonic() < deadline:
        try:
            conn, _ = srv.accept()
        except socket.timeout:
            break
        threading.Thread(target=handle, args=(conn, opts, logf), daemon=True).start()
    return 0


if __name__ == "__main__":
    sys.exit(main())
