#!/usr/bin/env python3
"""A program's own DNS on the wire (t_dns_wire.sh). Output: key=value lines.

  dnswire_client.py query sendto|connect NS NAME TYPE
      one query (TYPE A, AAAA, PTR, HTTPS) to NS:53 from a UDP socket, unconnected
      (sendto/recvfrom) or connected (connect/send/recvfrom); prints rcode=,
      answers= (addresses or names, comma separated), from= (the answer's source),
      peer= (getpeername, connected only), id_ok=
  dnswire_client.py tcp NS NAME TYPE [nonblock]
      one query over TCP (its 2-byte length, then the query, in one send) to
      NS:53, blocking or (nonblock) a non-blocking connect waited on with select;
      prints connect= (the connect's errno name, or 0), rcode=, answers=, peer=, id_ok=
  dnswire_client.py fetch NS NAME PORT
      a connected query for NAME's A record, then a TCP connection to the first
      address on PORT: answers=, reply= (the server's first line)
  dnswire_client.py resquery NAME
      libresolv's res_query (ctypes) for NAME's A record: rc=, answers=
Every socket has a 3 s timeout."""
import ctypes
import ipaddress
import os
import socket
import struct
import sys

TYPES = {"A": 1, "PTR": 12, "AAAA": 28, "HTTPS": 65}


def build(name, qtype, qid):
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in name.rstrip(".").split("."):
        q += bytes([len(label)]) + label.encode()
    return q + b"\0" + struct.pack(">HH", qtype, 1)


def read_name(m, off):
    labels = []
    jumped = False
    end = off
    for _ in range(128):
        n = m[off]
        if n == 0:
            off += 1
            break
        if n & 0xC0 == 0xC0:
            if not jumped:
                end = off + 2
            off = ((n & 0x3F) << 8) | m[off + 1]
            jumped = True
            continue
        labels.append(m[off + 1:off + 1 + n].decode())
        off += 1 + n
    return ".".join(labels), (end if jumped else off)


def parse(m):
    qid, flags, qd, an = struct.unpack(">HHHH", m[:8])
    off = 12
    for _ in range(qd):
        _, off = read_name(m, off)
        off += 4
    out = []
    for _ in range(an):
        _, off = read_name(m, off)
        rtype, _, _, rdlen = struct.unpack(">HHIH", m[off:off + 10])
        off += 10
        rd = m[off:off + rdlen]
        if rtype == 1:
            out.append(socket.inet_ntop(socket.AF_INET, rd))
        elif rtype == 28:
            out.append(socket.inet_ntop(socket.AF_INET6, rd))
        elif rtype == 12:
            out.append(read_name(m, off)[0])
        off += rdlen
    return qid, flags & 0xF, out


def query(mode, ns, name, qtype):
    family = socket.AF_INET6 if ":" in ns else socket.AF_INET
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.settimeout(3)
    qid = int.from_bytes(os.urandom(2), "big")
    peer = None
    if mode == "connect":
        s.connect((ns, 53))
        peer = s.getpeername()
        s.send(build(name, TYPES[qtype], qid))
    else:
        s.sendto(build(name, TYPES[qtype], qid), (ns, 53))
    m, src = s.recvfrom(4096)
    s.close()
    rid, rcode, answers = parse(m)
    print(f"rcode={rcode}")
    print(f"answers={','.join(answers)}")
    print(f"from={src[0]}:{src[1]}")
    if peer:
        print(f"peer={peer[0]}:{peer[1]}")
    print(f"id_ok={int(rid == qid)}")
    return answers


def recv_exact(s, n):
    b = b""
    while len(b) < n:
        chunk = s.recv(n - len(b))
        if not chunk:
            raise OSError("eof after %d bytes" % len(b))
        b += chunk
    return b


def tcp(ns, name, qtype, how="block"):
    import errno
    import select
    family = socket.AF_INET6 if ":" in ns else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    qid = int.from_bytes(os.urandom(2), "big")
    q = build(name, TYPES[qtype], qid)
    if how == "nonblock":
        s.setblocking(False)
        rc = s.connect_ex((ns, 53))
        print(f"connect={errno.errorcode.get(rc, rc)}")
        _, w, _ = select.select([], [s], [], 3)
        if not w or s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
            raise OSError("connect did not complete")
        s.send(struct.pack(">H", len(q)) + q)
        r, _, _ = select.select([s], [], [], 3)
        if not r:
            raise OSError("no answer within 3 s")
        s.setblocking(True)
    else:
        s.settimeout(3)
        s.connect((ns, 53))
        print("connect=0")
        s.sendall(struct.pack(">H", len(q)) + q)
    s.settimeout(3)
    peer = s.getpeername()
    n = struct.unpack(">H", recv_exact(s, 2))[0]
    m = recv_exact(s, n)
    s.close()
    rid, rcode, answers = parse(m)
    print(f"rcode={rcode}")
    print(f"answers={','.join(answers)}")
    print(f"peer={peer[0]}:{peer[1]}")
    print(f"id_ok={int(rid == qid)}")


def fetch(ns, name, port):
    answers = query("connect", ns, name, "A")
    with socket.create_connection((answers[0], int(port)), timeout=3) as c:
        c.sendall(b"hello\n")
        print(f"reply={c.recv(200).decode().strip()}")


def resquery(name):
    # the process's own res_query (libc since glibc 2.34), as a C program links it:
    # a handle of libresolv.so alone would bypass the preloaded library
    lib = ctypes.CDLL(None)
    buf = ctypes.create_string_buffer(4096)
    fn = lib.res_query
    rc = fn(name.encode(), 1, 1, buf, 4096)
    print(f"rc={rc}")
    if rc > 0:
        print(f"answers={','.join(parse(buf.raw[:rc])[2])}")


def main():
    try:
        if sys.argv[1] == "query":
            query(*sys.argv[2:6])
        elif sys.argv[1] == "tcp":
            tcp(*sys.argv[2:6])
        elif sys.argv[1] == "fetch":
            fetch(*sys.argv[2:5])
        elif sys.argv[1] == "resquery":
            resquery(sys.argv[2])
    except OSError as e:
        print(f"error={e.errno or e}")
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
