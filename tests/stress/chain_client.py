#!/usr/bin/python3
"""Exec chain client for tests/integration/t_stress_fork.sh. Run as /usr/bin/python3.

    chain_client.py [--hops N] HOST PORT

With --hops N > 0 it first re-executes itself through `/bin/sh -c 'cd / && exec
python3 chain_client.py --hops N-1 ...'` (a shell, a directory change and a fresh
python3 each time), so the connection is made N execs later. Then it connects to
HOST PORT (a literal), reads one line and prints key=value lines:
  greeting=LINE  preload=yes|no (LD_PRELOAD names libdialshim)  config=yes|no
  (DIALSHIM_CONFIG set)  depth=N (execs so far)  errno=NAME on failure.
Exit status 0 ok, 3 connect failed, 4 no greeting.
"""
import errno
import os
import socket
import sys

PY = "/usr/bin/python3"


def main():
    args = sys.argv[1:]
    hops = 0
    if args[:1] == ["--hops"]:
        hops = int(args[1])
        args = args[2:]
    host, port = args
    depth = int(os.environ.get("CHAIN_DEPTH", "0"))
    if hops > 0:
        os.environ["CHAIN_DEPTH"] = str(depth + 1)
        me = os.path.abspath(__file__)
        cmd = "cd / && exec %s %s --hops %d %s %s" % (PY, me, hops - 1, host, port)
        os.execv("/bin/sh", ["sh", "-c", cmd])
    print("depth=%d" % depth)
    print("preload=%s" % ("yes" if "libdialshim" in os.environ.get("LD_PRELOAD", "") else "no"))
    print("config=%s" % ("yes" if os.environ.get("DIALSHIM_CONFIG") else "no"))
    s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(5)
    try:
        s.connect((host, int(port)))
    except OSError as e:
        print("errno=%s" % errno.errorcode.get(e.errno, str(e.errno)))
        return 3
    data = b""
    while not data.endswith(b"\n") and len(data) < 200:
        chunk = s.recv(200)
        if not chunk:
            break
        data += chunk
    if not data:
        return 4
    print("greeting=%s" % data.decode(errors="replace").strip())
    s.sendall(b"bye\n")
    s.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
