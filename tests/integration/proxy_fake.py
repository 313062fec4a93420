#!/usr/bin/python3
"""Misbehaving and scripted proxies (and a banner server) for t_proxy_*.sh.

    proxy_fake.py MODE --log FILE [--ready FILE] [--life SECONDS] [options] ADDR:PORT

Every accepted TCP connection appends `PEER <ip> <port>` to the log (flushed at
once, before anything is sent). MODE:

  close          accept and close at once (after logging)
  stall          accept, then say nothing (reads and discards) until the peer closes
  http400        read what arrives (one recv), answer `HTTP/1.1 400 Bad\\r\\n\\r\\n`,
                 wait for the peer to close
  random         send 64 pseudo-random bytes at once, wait for the peer to close
  banner         a server-first far server: `SSH-2.0-test\\r\\n` at once, then echo
  socks5         a SOCKS5 proxy (no auth) that does not connect anywhere: it parses
                 greeting and request (byte-exact reads, so lockstep and pipelined
                 clients both work), logs `REQ <host> <port>`, and answers with
                 --rep (default 0 = success) and a bound address of type --atyp
                 (ipv4 | ipv6 | domain); on success the SAME write carries
                 `SSH-2.0-test\\r\\n` after the reply, then it echoes
  http           an HTTP CONNECT proxy that does not connect anywhere: reads the
                 request to CRLFCRLF, logs `REQ <request line>` and `HOST <Host
                 header>`, answers `HTTP/1.1 200 Connection established` with a few
                 headers and `SSH-2.0-test\\r\\n` in the SAME write, then echoes
  hugehead       reads the request, answers `HTTP/1.1 200 OK` followed by 64 KiB
                 of header lines and no end of header, then waits

Options for socks5 and http: --delay S waits S seconds before the final reply (a
proxy whose own connection upstream is slow); --trickle sends reply and banner
one byte at a time, 2 ms apart. For socks5: --method N answers the greeting with
method N whatever was offered (2: user/pass, 255: no acceptable method);
--bound-name TEXT is the name of the domain bound address (Python escapes such as
\\n and \\x1b are decoded: a proxy that sends control bytes). For http: --status
LINE replaces the status line (escapes decoded too). For socks5: --auth USER:PASS
chooses username/password when offered and checks RFC 1929 before the request
(--auth '*' takes any username and password: the log's AUTH line shows which);
--early waits 0.1 s after the greeting and logs `EARLY N HEX`, the bytes that had
arrived past it before the method reply went out (N > 0: a pipelined client).
Every socks5 connection logs `RECV <hex>` when it ends: each byte the client sent.

The process exits by itself after --life seconds (default 120).
"""
import argparse
import ipaddress
import os
import random
import select
import socket
import sys
import threading
import time

LOCK = threading.Lock()
BANNER = b"SSH-2.0-test\r\n"


def log(logf, line):
    with LOCK:
        logf.write(line + "\n")
        logf.flush()
        os.fsync(logf.fileno())


def recv_exact(conn, n):
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            raise EOFError("peer closed after %d of %d bytes" % (len(data), n))
        data += chunk
    return data


def drain(conn):
    while conn.recv(65536):
        pass


def echo(conn):
    while True:
        chunk = conn.recv(65536)
        if not chunk:
            return
        conn.sendall(chunk)


def unescape(text):
    return text.encode("latin-1").decode("unicode_escape").encode("latin-1")


def bound_addr(atyp, name=None):
    if atyp == "ipv6":
        return b"\x04" + ipaddress.ip_address("2001:db8:f::2").packed + b"\x30\x39"
    if atyp == "domain":
        name = unescape(name) if name else b"bound.proxy.example"
        return b"\x03" + bytes([len(name)]) + name + b"\x30\x39"
    return b"\x01" + ipaddress.ip_address("203.0.113.2").packed + b"\x30\x39"


def send(conn, data, opts):
    if not opts.trickle:
        conn.sendall(data)
        return
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    for i in range(len(data)):
        conn.sendall(data[i:i + 1])
        time.sleep(0.002)


class Recorder:
    """The connection, keeping every byte received (for RECV)."""

    def __init__(self, conn):
        self.conn = conn
        self.got = b""

    def recv(self, n, flags=0):
        data = self.conn.recv(n, flags)
        if not flags & socket.MSG_PEEK:
            self.got += data
        return data

    def __getattr__(self, name):
        return getattr(self.conn, name)


def early_bytes(conn):
    """Bytes already here past what was read: a pipelined client sent them."""
    time.sleep(0.1)
    if not select.select([conn.fileno()], [], [], 0)[0]:
        return b""  # (a socket with a timeout would wait in recv, MSG_DONTWAIT or not)
    return conn.recv(4096, socket.MSG_PEEK)


def userpass(conn, opts, logf):
    ver, ulen = recv_exact(conn, 2)
    user = recv_exact(conn, ulen)
    pw = recv_exact(conn, recv_exact(conn, 1)[0])
    ok = ver == 1 and (opts.auth == "*" or user + b":" + pw == opts.auth.encode())
    log(logf, "AUTH %s %s" % (user.decode(errors="replace"), "ok" if ok else "bad"))
    conn.sendall(bytes([1, 0 if ok else 1]))
    return ok


def socks5(conn, opts, logf):
    ver, nmethods = recv_exact(conn, 2)
    methods = recv_exact(conn, nmethods)
    log(logf, "GREETING methods=%s" % ",".join(str(m) for m in methods))
    if opts.early:
        early = early_bytes(conn)
        log(logf, "EARLY %d %s" % (len(early), early.hex()))
    if opts.auth and 2 in methods:
        conn.sendall(b"\x05\x02")
        if not userpass(conn, opts, logf):
            return
    elif opts.method is not None:
        conn.sendall(bytes([5, opts.method]))
        drain(conn)
        return
    elif ver != 5 or 0 not in methods:
        log(logf, "BAD greeting %r" % (bytes([ver, nmethods]) + methods))
        conn.sendall(b"\x05\xff")
        return
    else:
        conn.sendall(b"\x05\x00")
    ver, cmd, _, atyp = recv_exact(conn, 4)
    if atyp == 1:
        host = str(ipaddress.ip_address(recv_exact(conn, 4)))
    elif atyp == 4:
        host = str(ipaddress.ip_address(recv_exact(conn, 16)))
    elif atyp == 3:
        host = recv_exact(conn, recv_exact(conn, 1)[0]).decode(errors="replace")
    else:
        log(logf, "BAD atyp %d" % atyp)
        return
    port = int.from_bytes(recv_exact(conn, 2), "big")
    log(logf, "REQ %s %d cmd=%d" % (host, port, cmd))
    time.sleep(opts.delay)
    reply = bytes([5, opts.rep, 0]) + bound_addr(opts.atyp, opts.bound_name)
    if opts.rep != 0:
        conn.sendall(reply)
        return
    send(conn, reply + BANNER, opts)
    echo(conn)


def http(conn, opts, logf):
    data = b""
    while b"\r\n\r\n" not in data and len(data) < 65536:
        chunk = conn.recv(4096)
        if not chunk:
            return
        data += chunk
    lines = data.split(b"\r\n")
    log(logf, "REQ %s" % lines[0].decode(errors="replace"))
    for line in lines[1:]:
        if line.lower().startswith(b"host:"):
            log(logf, "HOST %s" % line[5:].strip().decode(errors="replace"))
    time.sleep(opts.delay)
    if opts.status:
        conn.sendall(unescape(opts.status) + b"\r\n\r\n")
        drain(conn)
        return
    send(conn, b"HTTP/1.1 200 Connection established\r\n"
         b"Proxy-Agent: proxy_fake\r\nX-Padding: " + b"x" * 40 + b"\r\n\r\n" + BANNER, opts)
    echo(conn)


def hugehead(conn):
    conn.recv(4096)
    conn.sendall(b"HTTP/1.1 200 OK\r\n" + b"X-Filler: " + b"y" * 100 + b"\r\n")
    for _ in range(600):
        conn.sendall(b"X-Filler: " + b"y" * 100 + b"\r\n")
    drain(conn)


def handle(conn, peer, opts, logf):
    log(logf, "PEER %s %d" % (peer[0], peer[1]))
    conn.settimeout(opts.life)
    try:
        if opts.mode == "close":
            pass
        elif opts.mode == "stall":
            drain(conn)
        elif opts.mode == "http400":
            conn.recv(4096)
            conn.sendall(b"HTTP/1.1 400 Bad\r\n\r\n")
            drain(conn)
        elif opts.mode == "random":
            conn.sendall(random.Random(4).randbytes(64))
            drain(conn)
        elif opts.mode == "banner":
            conn.sendall(BANNER)
            echo(conn)
        elif opts.mode == "socks5":
            conn = Recorder(conn)
            try:
                socks5(conn, opts, logf)
            finally:
                log(logf, "RECV %s" % conn.got.hex())
        elif opts.mode == "http":
            http(conn, opts, logf)
        elif opts.mode == "hugehead":
            hugehead(conn)
    except (OSError, EOFError) as e:
        log(logf, "END %s" % e)
    finally:
        try:
            conn.close()
        except OSError:
            pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["close", "stall", "http400", "random", "banner", "socks5", "http", "hugehead"])
    ap.add_argument("--log", required=True)
    ap.add_argument("--ready")
    ap.add_argument("--life", type=float, default=120.0)
    ap.add_argument("--rep", type=int, default=0)
    ap.add_argument("--delay", type=float, default=0.0)
    ap.add_argument("--trickle", action="store_true")
    ap.add_argument("--method", type=int)
    ap.add_argument("--bound-name")
    ap.add_argument("--auth")
    ap.add_argument("--early", action="store_true")
    ap.add_argument("--status")
    ap.add_argument("--atyp", choices=["ipv4", "ipv6", "domain"], default="ipv4")
    ap.add_argument("addr")
    opts = ap.parse_args()
    logf = open(opts.log, "a", buffering=1)
    if opts.addr.startswith("["):
        host, _, port = opts.addr[1:].partition("]:")
    else:
        host, _, port = opts.addr.rpartition(":")
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, int(port)))
    s.listen(64)

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
