#!/usr/bin/python3
"""Scripted faulty proxies for tests/integration/t_stress_faults.sh (the kinds that
tests/integration/proxy_fake.py does not have).

    fault_proxy.py MODE --log FILE [--ready FILE] [--life SECONDS] ADDR:PORT

Every accepted connection appends `PEER <ip> <port>` to the log before anything else;
what was read goes in as `READ <hex>`. MODE:

  rst-greeting    read the SOCKS5 greeting (byte-exact), then reset the connection
                  (SO_LINGER 0: a RST, not a FIN)
  close-greeting  read the SOCKS5 greeting, then close (FIN) without a word
  rst-request     answer the greeting with "no auth", read the request, then reset
  oversize        answer the greeting, read the request, answer a reply whose bound
                  address is a domain of length 255 but send only 16 bytes of it, close
  oversize-stall  the same but keep the connection open (the client must time out)
  rst-any         read what the client sends first (one recv, any protocol), then reset
  half-http       read an HTTP CONNECT request, answer "HTTP/1.1 200 Conn" (no CRLF), close

Only ever listens where it is told (a lab namespace address); exits by itself after
--life seconds (default 120).
"""
import argparse
import os
import socket
import struct
import sys
import threading
import time

LOCK = threading.Lock()


def log(logf, line):
    with LOCK:
        logf.write(line + "\n")
        logf.flush()


def recv_exact(conn, n):
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            raise EOFError("peer closed after %d of %d bytes" % (len(data), n))
        data += chunk
    return data


def read_greeting(conn, logf):
    head = recv_exact(conn, 2)
    methods = recv_exact(conn, head[1])
    log(logf, "READ %s" % (head + methods).hex())
    return head + methods


def read_request(conn, logf):
    head = recv_exact(conn, 4)
    atyp = head[3]
    if atyp == 1:
        rest = recv_exact(conn, 4 + 2)
    elif atyp == 4:
        rest = recv_exact(conn, 16 + 2)
    elif atyp == 3:
        n = recv_exact(conn, 1)
        rest = n + recv_exact(conn, n[0] + 2)
    else:
        rest = b""
    log(logf, "READ %s" % (head + rest).hex())


def reset(conn):
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()


def handle(conn, peer, opts, logf):
    log(logf, "PEER %s %d" % (peer[0], peer[1]))
    conn.settimeout(min(opts.life, 30))
    try:
        m = opts.mode
        if m == "rst-greeting":
            read_greeting(conn, logf)
            reset(conn)
            return
        if m == "close-greeting":
            read_greeting(conn, logf)
        elif m == "rst-request":
            read_greeting(conn, logf)
            conn.sendall(b"\x05\x00")
            read_request(conn, logf)
            reset(conn)
            return
        elif m in ("oversize", "oversize-stall"):
            read_greeting(conn, logf)
            conn.sendall(b"\x05\x00")
            read_request(conn, logf)
            conn.sendall(b"\x05\x00\x00\x03\xff" + b"o" * 16)
            if m == "oversize-stall":
                while conn.recv(4096):
                    pass
        elif m == "rst-any":
            data = conn.recv(4096)
            log(logf, "READ %s" % data.hex())
            reset(conn)
            return
        elif m == "half-http":
            data = b""
            while b"\r\n\r\n" not in data and len(data) < 65536:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                data += chunk
            log(logf, "READ %s" % data[:64].hex())
            conn.sendall(b"HTTP/1.1 200 Conn")
        conn.close()
    except (OSError, EOFError) as e:
        log(logf, "END %s" % e)
        try:
            conn.close()
        except OSError:
            pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["rst-greeting", "close-greeting", "rst-request", "oversize",
                                     "oversize-stall", "rst-any", "half-http"])
    ap.add_argument("--log", required=True)
    ap.add_argument("--ready")
    ap.add_argument("--life", type=float, default=120.0)
    ap.add_argument("addr")
    opts = ap.parse_args()
    logf = open(opts.log, "a", buffering=1)
    host, _, port = opts.addr.rpartition(":")
    host = host.strip("[]")
    s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, int(port)))
    s.listen(256)

    def serve():
        while True:
            conn, peer = s.accept()
            threading.Thread(target=handle, args=(conn, peer, opts, logf), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    if opts.ready:
        open(opts.ready, "w").close()
    time.sleep(opts.life)
    return 0


if __name__ == "__main__":
    sys.exit(main())
