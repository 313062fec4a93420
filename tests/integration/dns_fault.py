#!/usr/bin/python3
"""A scripted DNS server for t_fault_dns.sh: each query is answered according to
the first label of the name asked, so one server plays every kind of broken peer.

    dns_fault.py --log FILE [--ready FILE] [--life SECONDS] ADDR:PORT...

UDP only (nothing listens on TCP, so a client that retries over TCP is refused).
The mode is the first label up to its first '-' ("servfail-7.example" is servfail;
the suffix only makes names unique, so no cache can answer them):

  ok        A 203.0.113.2 / AAAA 2001:db8:f::2, TTL 60
  slowN     the ok answer, sent N milliseconds later (others are served meanwhile)
  drop      no answer at all
  nxdomain  RCODE 3          servfail  RCODE 2          refused  RCODE 5
  trunchdr  the first 7 bytes of an ok answer (shorter than a DNS header)
  wrongid   an ok answer with another message ID
  ancount   one answer record, but ANCOUNT says 4
  ptrloop   the answer record's owner name is a compression pointer to itself
  shorta    A (and AAAA) records with a 3-byte RDATA
  tc        TC bit set, no answer: the client must retry over TCP, where no one listens
  garbage   80 bytes that are not DNS (seeded by the query, so runs are alike)

Every query is logged as `Q MODE NAME TYPE SRC` (flushed at once) before it is
answered. The server exits by itself after --life seconds.

Safety: it answers only whoever asks, on the addresses it is given (the test binds
documentation addresses inside its own namespace); every answer points at
203.0.113.2 / 2001:db8:f::2.
"""
import argparse
import ipaddress
import random
import select
import socket
import struct
import sys
import time

FAR4 = socket.inet_pton(socket.AF_INET, "203.0.113.2")
FAR6 = socket.inet_pton(socket.AF_INET6, "2001:db8:f::2")
T_A, T_AAAA = 1, 28
TYPES = {T_A: "A", T_AAAA: "AAAA"}


def parse_addr(text):
    if text.startswith("["):
        host, _, port = text[1:].partition("]:")
    else:
        host, _, port = text.rpartition(":")
    fam = socket.AF_INET6 if ipaddress.ip_address(host).version == 6 else socket.AF_INET
    return fam, host, int(port)


def parse_query(pkt):
    """(id, flags, qname labels, question bytes, qtype) or None."""
    if len(pkt) < 12:
        return None
    qid, flags, qd = struct.unpack("!HHH", pkt[:6])
    if qd != 1 or flags & 0x8000:
        return None
    i, labels = 12, []
    while i < len(pkt):
        n = pkt[i]
        if n == 0:
            i += 1
            break
        if n & 0xC0 or i + 1 + n > len(pkt):
            return None
        labels.append(pkt[i + 1:i + 1 + n].decode("ascii", "replace").lower())
        i += 1 + n
    if i + 4 > len(pkt):
        return None
    qtype = struct.unpack("!H", pkt[i:i + 2])[0]
    return qid, flags, labels, pkt[12:i + 4], qtype


def header(qid, flags, qd, an, ns=0, ar=0):
    return struct.pack("!HHHHHH", qid, flags, qd, an, ns, ar)


def rr(qtype, rdata, ttl=60):
    # owner name: a pointer to the question's name at offset 12
    return b"\xc0\x0c" + struct.pack("!HHIH", qtype, 1, ttl, len(rdata)) + rdata


def ok_answer(qid, rd, question, qtype):
    flags = 0x8080 | rd  # QR, RA, the client's RD
    data = {T_A: FAR4, T_AAAA: FAR6}.get(qtype)
    if data is None:
        return header(qid, flags, 1, 0) + question
    return header(qid, flags, 1, 1) + question + rr(qtype, data)


def answer(mode, qid, flags, question, qtype):
    """The reply bytes for MODE, or None for no reply."""
    rd = flags & 0x0100
    base = 0x8080 | rd
    if mode in ("ok",) or mode.startswith("slow"):
        return ok_answer(qid, rd, question, qtype)
    if mode == "drop":
        return None
    rcodes = {"nxdomain": 3, "servfail": 2, "refused": 5}
    if mode in rcodes:
        return header(qid, base | rcodes[mode], 1, 0) + question
    if mode == "trunchdr":
        return ok_answer(qid, rd, question, qtype)[:7]
    if mode == "wrongid":
        return ok_answer(qid ^ 0x5A5A, rd, question, qtype)
    if mode == "ancount":
        pkt = ok_answer(qid, rd, question, qtype)
        return pkt[:6] + struct.pack("!H", 4) + pkt[8:]
    if mode == "ptrloop":
        off = 12 + len(question)  # where the answer's owner name starts
        rdata = FAR4 if qtype == T_A else FAR6
        return (header(qid, base, 1, 1) + question + struct.pack("!H", 0xC000 | off) +
                struct.pack("!HHIH", qtype, 1, 60, len(rdata)) + rdata)
    if mode == "shorta":
        return header(qid, base, 1, 1) + question + rr(qtype, b"\xcb\x00\x71")
    if mode == "tc":
        return header(qid, base | 0x0200, 1, 0) + question
    if mode == "garbage":
        rnd = random.Random(question + struct.pack("!H", qid))
        return bytes(rnd.randrange(256) for _ in range(80))
    return header(qid, base | 4, 1, 0) + question  # NOTIMP: a mode this server lacks


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--log", required=True)
    ap.add_argument("--ready")
    ap.add_argument("--life", type=float, default=120)
    ap.add_argument("addrs", nargs="+")
    o = ap.parse_args()
    logf = open(o.log, "a")
    socks = []
    for a in o.addrs:
        fam, host, port = parse_addr(a)
        s = socket.socket(fam, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((host, port))
        socks.append(s)
    if o.ready:
        open(o.ready, "w").close()
    end = time.monotonic() + o.life
    pending = []  # (due, sock, bytes, peer)
    while time.monotonic() < end:
        now = time.monotonic()
        wait = min([p[0] for p in pending] + [end]) - now
        r, _, _ = select.select(socks, [], [], max(0.0, min(wait, 1.0)))
        for s in r:
            try:
                pkt, peer = s.recvfrom(4096)
            except OSError:
                continue
            q = parse_query(pkt)
            if q is None:
                logf.write("BAD %d bytes from %s\n" % (len(pkt), peer[0]))
                logf.flush()
                continue
            qid, flags, labels, question, qtype = q
            mode = labels[0].split("-")[0] if labels else ""
            logf.write("Q %s %s %s %s\n" % (mode, ".".join(labels),
                                            TYPES.get(qtype, str(qtype)), peer[0]))
            logf.flush()
            reply = answer(mode, qid, flags, question, qtype)
            if reply is None:
                continue
            delay = 0.0
            if mode.startswith("slow") and mode[4:].isdigit():
                delay = int(mode[4:]) / 1000.0
            pending.append((time.monotonic() + delay, s, reply, peer))
        now = time.monotonic()
        for p in [p for p in pending if p[0] <= now]:
            pending.remove(p)
            try:
                p[1].sendto(p[2], p[3])
            except OSError:
                pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
