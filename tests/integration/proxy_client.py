#!/usr/bin/python3
"""A python3 TCP client for t_proxy_*.sh. Run as /usr/bin/python3.

    proxy_client.py HOST PORT [--first] [--again=K] [--count=N] [--fds] [--msg=TEXT]
    proxy_client.py HOST PORT --threads=N

Blocking connect to HOST PORT (a literal), then:
  default      send MSG (default "hello\\n") and read one line: reply=LINE
  --first      before sending anything, read what the server sends first (up to
               CRLF or LF, 64 bytes, 3 s): first=REPR (python repr of the bytes);
               then send and read one line as above
  --again=K    when connect fails, call connect again on the SAME socket, up to K
               more times (as a program that retries would): againI=0 (then
               again_reply=LINE, and no more tries) or againI=ERRNO
  --count=N    N connections one after the other; keys get the index as suffix
               (elapsed1=, reply1=, ...), the first one also without suffix
  --fds        count the process's open descriptors before the socket is made and
               after it is closed: fd_delta=N

  --threads=N  N threads connect at the same moment (a barrier), each sends MSG and
               reads one line: threads_ok=K, replies=DISTINCT|REPLIES, errnos=E,E..,
               max_elapsed=SECONDS; exit 0 only when all N got a reply

Output: key=value lines. Exit status: 0 ok; 3 connect failed (errno=NAME);
4 no reply or I/O error (io_errno=NAME). A crash shows as a signal, never as these.
"""
import errno
import os
import socket
import struct
import sys
import threading
import time


def ename(e):
    return errno.errorcode.get(e, str(e))


def out(key, val, idx, count):
    if count > 1:
        print("%s%d=%s" % (key, idx, val))
    if idx == 1:
        print("%s=%s" % (key, val))


def read_until(s, stop, limit):
    data = b""
    while stop not in data and len(data) < limit:
        chunk = s.recv(limit - len(data))
        if not chunk:
            break
        data += chunk
    return data


def one(host, port, opts, idx, count):
    s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, struct.pack("ll", 3, 0))
    t0 = time.monotonic()
    try:
        s.connect((host, port))
    except OSError as e:
        out("elapsed", "%.2f" % (time.monotonic() - t0), idx, count)
        out("errno", ename(e.errno), idx, count)
        for k in range(1, opts["again"] + 1):
            try:
                s.connect((host, port))
                out("again%d" % k, "0", idx, count)
                s.sendall(opts["msg"].encode())
                line = read_until(s, b"\n", 4096).split(b"\n")[0]
                out("again_reply", line.decode(errors="replace"), idx, count)
                break
            except OSError as e2:
                out("again%d" % k, ename(e2.errno), idx, count)
        s.close()
        return 3
    out("elapsed", "%.2f" % (time.monotonic() - t0), idx, count)
    rc = 0
    try:
        if opts["first"]:
            first = read_until(s, b"\n", 64)
            out("first", repr(first), idx, count)
            if not first:
                rc = 4
        s.sendall(opts["msg"].encode())
        line = read_until(s, b"\n", 4096).split(b"\n")[0]
        out("reply", line.decode(errors="replace").rstrip("\r"), idx, count)
        if not line:
            rc = 4
    except OSError as e:
        out("io_errno", ename(e.errno), idx, count)
        rc = 4
    s.close()
    return rc


def threaded(host, port, n, msg):
    barrier = threading.Barrier(n)
    results = [None] * n

    def worker(i):
        s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, struct.pack("ll", 3, 0))
        barrier.wait()
        t0 = time.monotonic()
        try:
            s.connect((host, port))
            el = time.monotonic() - t0
            s.sendall(msg.encode())
            line = read_until(s, b"\n", 4096).split(b"\n")[0].decode(errors="replace")
            results[i] = ("ok" if line else "noreply", line, el)
        except OSError as e:
            results[i] = (ename(e.errno), "", time.monotonic() - t0)
        finally:
            s.close()

    ts = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(30)
    done = [r for r in results if r]
    ok = sum(1 for r in done if r[0] == "ok")
    print("threads_ok=%d" % ok)
    print("replies=%s" % "|".join(sorted(set(r[1] for r in done if r[1]))))
    print("errnos=%s" % ",".join(sorted(r[0] for r in done if r[0] != "ok")))
    print("max_elapsed=%.2f" % max([r[2] for r in done] or [0]))
    return 0 if ok == n else 3


def main(argv):
    args = [a for a in argv[1:] if not a.startswith("--")]
    flags = [a for a in argv[1:] if a.startswith("--")]
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 1
    opts = {"first": "--first" in flags, "again": 0, "msg": "hello\n"}
    count = 1
    for f in flags:
        if f.startswith("--threads="):
            return threaded(args[0], int(args[1]), int(f[10:]), opts["msg"])
    for f in flags:
        if f.startswith("--count="):
            count = int(f[8:])
        elif f.startswith("--again="):
            opts["again"] = int(f[8:])
        elif f.startswith("--msg="):
            opts["msg"] = f[6:] + "\n"
    fds0 = len(os.listdir("/proc/self/fd"))
    rc = 0
    for i in range(1, count + 1):
        r = one(args[0], int(args[1]), opts, i, count)
        rc = rc or r
    if "--fds" in flags:
        print("fd_delta=%d" % (len(os.listdir("/proc/self/fd")) - fds0))
    return rc


if __name__ == "__main__":
    sys.stdout.reconfigure(line_buffering=True)
    sys.exit(main(sys.argv))
