#!/usr/bin/python3
"""Test server for the dialshim integration lab.

    peer_server.py --log FILE [--ready FILE] [--echo] [--tfo] [--udp] [--udplite] [--http] [--mptcp]
                   [--life SECONDS] ADDR:PORT...

ADDR:PORT is `192.0.2.2:8080`, `[2001:db8:f::2]:8080` or `unix:/path` (peer "unix 0").
--ready FILE is created once every socket is bound and listening. For every TCP connection
(or UDP datagram) it appends one line `PEER <ip> <port>` to FILE (flushed at once,
before anything is sent), then answers `you are <ip>\n`. With --echo it then sends
back whatever it receives until the peer closes. With --http it answers one HTTP/1.0
request with a small page whose body is `you are <ip>\n`. With --tfo the TCP
listeners accept TCP Fast Open (TCP_FASTOPEN, queue 16). The server exits by itself
after --life seconds (default 120), so a lost process never outlives a test for long.
"""
import argparse
import ipaddress
import os
import socket
import sys
import threading
import time

LOCK = threading.Lock()
IPPROTO_MPTCP = 262


def parse_addr(text):
    if text.startswith("unix:"):
        return socket.AF_UNIX, text[5:], 0
    if text.startswith("["):
        host, _, port = text[1:].partition("]:")
    else:
        host, _, port = text.rpartition(":")
    ip = ipaddress.ip_address(host)
    fam = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
    return fam, host, int(port)


def log_peer(logf, ip, port):
    with LOCK:
        logf.write("PEER %s %d\n" % (ip, port))
        logf.flush()
        os.fsync(logf.fileno())


def unmapped(ip):
    if ip.startswith("::ffff:") and "." in ip:
        return ip[7:]
    return ip


def handle_tcp(conn, peer, opts, logf):
    if conn.family == socket.AF_UNIX:
        ip, port = "unix", 0
    else:
        ip, port = unmapped(peer[0]), peer[1]
    log_peer(logf, ip, port)
    conn.settimeout(10)
    try:
        if opts.http:
            data = b""
            while b"\r\n\r\n" not in data and len(data) < 65536:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                data += chunk
            body = ("you are %s\n" % ip).encode()
            head = ("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n"
                    "Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body))
            conn.sendall(head.encode() + body)
            return
        conn.sendall(("you are %s\n" % ip).encode())
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                break
            if opts.echo:
                conn.sendall(chunk)
    except OSError:
        pass
    finally:
        try:
            conn.close()
        except OSError:
            pass


def open_tcp(fam, host, port, opts):
    s = socket.socket(fam, socket.SOCK_STREAM, IPPROTO_MPTCP if opts.mptcp else 0)
    if fam == socket.AF_UNIX:
        s.bind(host)
        s.listen(64)
        return s
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if fam == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s.bind((host, port))
    if opts.tfo:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_FASTOPEN, 16)
    s.listen(64)
    return s


def serve_tcp(s, opts, logf):
    while True:
        conn, peer = s.accept()
        threading.Thread(target=handle_tcp, args=(conn, peer, opts, logf), daemon=True).start()


def open_udp(fam, host, port, opts):
    s = socket.socket(fam, socket.SOCK_DGRAM, 136 if opts.udplite else 0)  # IPPROTO_UDPLITE
    if fam == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s.bind((host, port))
    return s


def serve_udp(s, opts, logf):
    while True:
        data, peer = s.recvfrom(65536)
        ip = unmapped(peer[0])
        log_peer(logf, ip, peer[1])
        with LOCK:
            logf.write("SIZE %d\n" % len(data))
            logf.flush()
        reply = ("you are %s\n" % ip).encode()
        if opts.echo:
            reply += data
        try:
            s.sendto(reply, peer)
        except OSError:
            pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--log", required=True)
    ap.add_argument("--echo", action="store_true")
    ap.add_argument("--tfo", action="store_true")
    ap.add_argument("--udp", action="store_true")
    ap.add_argument("--udplite", action="store_true", help="--udp with IPPROTO_UDPLITE")
    ap.add_argument("--http", action="store_true")
    ap.add_argument("--mptcp", action="store_true", help="TCP listeners are IPPROTO_MPTCP")
    ap.add_argument("--life", type=float, default=120.0)
    ap.add_argument("--ready", help="file created once every socket listens")
    ap.add_argument("addrs", nargs="+")
    opts = ap.parse_args()
    opts.udp = opts.udp or opts.udplite
    logf = open(opts.log, "a", buffering=1)
    socks = []
    for a in opts.addrs:  # bind everything first: a bad address fails the start
        fam, host, port = parse_addr(a)
        socks.append((open_udp if opts.udp else open_tcp)(fam, host, port, opts))
    for s in socks:
        target = serve_udp if opts.udp else serve_tcp
        threading.Thread(target=target, args=(s, opts, logf), daemon=True).start()
    if opts.ready:
        open(opts.ready, "w").close()
    time.sleep(opts.life)
    return 0


if __name__ == "__main__":
    sys.exit(main())
