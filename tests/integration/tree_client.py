#!/usr/bin/env python3
"""A small process tree, as browsers and pre-fork servers make them (t_tree.sh).

  tree_client.py parent HOST PORT EXE  connect (reply -> parent=...), then start EXE
                                       (a path, or /proc/self/exe) with argv[0] "exe"
                                       running this script as `child HOST PORT`
  tree_client.py child HOST PORT       connect (reply -> child=...)
Every socket has a timeout; the output is key=value lines."""
import socket
import subprocess
import sys


def ask(key, host, port):
    try:
        with socket.create_connection((host, int(port)), timeout=5) as s:
            s.sendall(b"hello\n")
            print(f"{key}={s.recv(200).decode().strip()}", flush=True)
    except OSError as e:
        print(f"{key}=error {e.errno}", flush=True)


def main():
    mode, host, port = sys.argv[1:4]
    if mode == "child":
        ask("child", host, port)
        return 0
    ask("parent", host, port)
    r = subprocess.run(["exe", __file__, "child", host, port], executable=sys.argv[4],
                       timeout=8, check=False)
    return r.returncode


if __name__ == "__main__":
    sys.exit(main())
