#!/usr/bin/python3
"""Servers for the non-blocking dial tests (t_nb_*.sh): a SOCKS5 proxy that holds its
answers back, and a far server for many connections.

    nb_proxy.py socks5 --log FILE [--ready FILE] [--life S] [--barrier N]
                [--release FILE] [--hold S] [--bind ADDR] ADDR:PORT
    nb_proxy.py far --log FILE [--ready FILE] [--life S] ADDR:PORT

socks5: a SOCKS5 proxy (no authentication) that connects for real. It reads
greeting and request byte-exact, logs `PEER <ip> <port>` on accept and `REQ <host>
<port>` per request, then HOLDS the reply:
  --barrier N    until N requests are pending at the same moment (requests read,
                 not yet answered, their clients still connected); it then logs
                 `BARRIER N` once and answers them all. A client that dials one
                 connection after another, each completing before the next starts,
                 can never fill the barrier.
  --release FILE until FILE exists.
Without either it answers at once. A client that closes while its request is held
is logged `CLOSED <host> <port>`. After --hold seconds (default 6: a fail-safe so
that a wrong client cannot hang a test, not a measure) a held request is answered
REP 1 (general failure) and logged `GIVEUP <host> <port> pending=<n>`. Once
released it connects to the destination (from --bind ADDR when given): refused is
answered REP 5 (`REFUSED`), success REP 0 with the bound address, then it relays
both ways. `MAXPENDING <n>` is logged whenever the number of held requests reaches
a new maximum.

far: logs `PEER <ip> <port>` per connection, sends `you are <ip>\\n`, then echoes
until the peer closes. Listens with a deep backlog (thousands of connections at
once). Every log line is flushed at once. The process exits after --life seconds.
"""
import argparse
import asyncio
import ipaddress
import os
import socket
import struct

LOG = None


def log(line):
    LOG.write(line + "\n")
    LOG.flush()


def parse_addr(text):
    if text.startswith("["):
        host, _, port = text[1:].partition("]:")
    else:
        host, _, port = text.rpartition(":")
    return host, int(port)


def unmapped(ip):
    return ip[7:] if ip.startswith("::ffff:") and "." in ip else ip


class Hold:
    """Requests held at the same moment, and the barrier."""

    def __init__(self, opts):
        self.opts = opts
        self.pending = 0
        self.maxp = 0
        self.open = asyncio.Event()
        if not opts.barrier and not opts.release:
            self.open.set()

    def add(self):
        self.pending += 1
        if self.pending > self.maxp:
            self.maxp = self.pending
            log("MAXPENDING %d" % self.maxp)
        if self.opts.barrier and self.pending >= self.opts.barrier and not self.open.is_set():
            log("BARRIER %d" % self.pending)
            self.open.set()

    async def wait_release(self):
        if not self.opts.release:
            await self.open.wait()
            return
        while not os.path.exists(self.opts.release):
            await asyncio.sleep(0.02)


async def read_request(r):
    ver, n = await r.readexactly(2)
    await r.readexactly(n)
    if ver != 5:
        raise ValueError("not socks5")
    return ver


async def read_target(r):
    _, cmd, _, atyp = await r.readexactly(4)
    if atyp == 1:
        host = socket.inet_ntop(socket.AF_INET, await r.readexactly(4))
    elif atyp == 4:
        host = socket.inet_ntop(socket.AF_INET6, await r.readexactly(16))
    else:
        host = (await r.readexactly((await r.readexactly(1))[0])).decode()
    (port,) = struct.unpack("!H", await r.readexactly(2))
    return cmd, host, port


def reply(rep, addr=("0.0.0.0", 0)):
    ip = ipaddress.ip_address(addr[0])
    atyp = b"\x01" if ip.version == 4 else b"\x04"
    return b"\x05" + bytes([rep]) + b"\x00" + atyp + ip.packed + struct.pack("!H", addr[1])


async def pipe(r, w):
    try:
        while True:
            data = await r.read(65536)
            if not data:
                break
            w.write(data)
            await w.drain()
    except OSError:
        pass
    finally:
        try:
            w.write_eof()
        except OSError:
            pass


async def hold_reply(hold, r, host, port):
    """Waits for the release; False when the client closed first or it gave up."""
    hold.add()
    waiter = asyncio.ensure_future(hold.wait_release())
    closer = asyncio.ensure_future(r.read(1))
    done, _ = await asyncio.wait({waiter, closer}, timeout=hold.opts.hold,
                                 return_when=asyncio.FIRST_COMPLETED)
    hold.pending -= 1
    if waiter in done:
        closer.cancel()
        return "go", b""
    waiter.cancel()
    if closer in done:
        data = closer.result()
        if not data:
            log("CLOSED %s %d" % (host, port))
            return "closed", b""
        # bytes before the reply: a broken client; keep them for the destination
        await hold.wait_release()
        return "go", data
    closer.cancel()
    log("GIVEUP %s %d pending=%d" % (host, port, hold.pending + 1))
    return "giveup", b""


async def socks5(hold, r, w):
    peer = w.get_extra_info("peername")
    log("PEER %s %d" % (unmapped(peer[0]), peer[1]))
    try:
        await read_request(r)
        w.write(b"\x05\x00")
        _, host, port = await read_target(r)
        log("REQ %s %d" % (host, port))
        what, early = await hold_reply(hold, r, host, port)
        if what == "closed":
            return
        if what == "giveup":
            w.write(reply(1))
            return
        local = (hold.opts.bind, 0) if hold.opts.bind else None
        try:
            ur, uw = await asyncio.open_connection(host, port, local_addr=local)
        except ConnectionRefusedError:
            log("REFUSED %s %d" % (host, port))
            w.write(reply(5))
            return
        except OSError:
            w.write(reply(1))
            return
        w.write(reply(0, uw.get_extra_info("sockname")[:2]))
        if early:
            uw.write(early)
        await asyncio.gather(pipe(r, uw), pipe(ur, w))
        uw.close()
    except (OSError, ValueError, asyncio.IncompleteReadError):
        pass
    finally:
        try:
            w.close()
        except OSError:
            pass


async def far(r, w):
    peer = w.get_extra_info("peername")
    ip = unmapped(peer[0])
    log("PEER %s %d" % (ip, peer[1]))
    try:
        w.write(("you are %s\n" % ip).encode())
        await w.drain()
        await pipe(r, w)
    except OSError:
        pass
    finally:
        w.close()


async def main(opts):
    host, port = parse_addr(opts.addr)
    if opts.mode == "socks5":
        hold = Hold(opts)
        handler = lambda r, w: socks5(hold, r, w)  # noqa: E731
    else:
        handler = far
    srv = await asyncio.start_server(handler, host, port, backlog=4096, reuse_address=True)
    if opts.ready:
        open(opts.ready, "w").close()
    async with srv:
        await asyncio.sleep(opts.life)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["socks5", "far"])
    ap.add_argument("--log", required=True)
    ap.add_argument("--ready")
    ap.add_argument("--life", type=float, default=120.0)
    ap.add_argument("--barrier", type=int, default=0)
    ap.add_argument("--release")
    ap.add_argument("--hold", type=float, default=6.0)
    ap.add_argument("--bind")
    ap.add_argument("addr")
    opts = ap.parse_args()
    LOG = open(opts.log, "a")
    asyncio.run(main(opts))
