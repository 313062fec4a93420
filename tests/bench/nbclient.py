#!/usr/bin/python3
"""Event-loop dials for the `nb` bench part: many connections opened at once.

    nbclient.py server ADDR PORT LIFE_S
        asyncio server: per connection logs `PEER <ip> <port>` on stdout, reads one
        line, answers `you are <ip>\\n` and closes. Exits after LIFE_S seconds.
    nbclient.py run HOST PORT N [--socks ADDR:PORT --user U --password P]
        asyncio.gather of N connections opened at once; each writes `hi\\n` and reads
        the one-line answer. With --socks the program speaks SOCKS5 itself over
        asyncio streams (RFC 1928/1929, lockstep: what asynchronous SOCKS clients
        do), the yardstick for a preloaded library. Prints `elapsed_ms=X` (from
        before the first connect to the last answer: interpreter start-up is not
        counted), `ok=N` and `reply=` (the distinct answers, `;`-joined).
"""
import argparse
import asyncio
import socket
import struct
import sys
import time


async def socks5_open(proxy, host, port, user, password):
    phost, _, pport = proxy.rpartition(":")
    r, w = await asyncio.open_connection(phost, int(pport))
    methods = b"\x02" if user else b"\x00"
    w.write(b"\x05\x01" + methods)
    ver, method = await r.readexactly(2)
    if ver != 5 or method == 0xFF:
        raise OSError("socks5: no acceptable method")
    if method == 2:
        u, p = user.encode(), password.encode()
        w.write(b"\x01" + bytes([len(u)]) + u + bytes([len(p)]) + p)
        _, status = await r.readexactly(2)
        if status != 0:
            raise OSError("socks5: authentication failed")
    w.write(b"\x05\x01\x00\x01" + socket.inet_aton(host) + struct.pack("!H", port))
    head = await r.readexactly(4)
    if head[1] != 0:
        raise OSError("socks5: reply %d" % head[1])
    alen = {1: 4, 4: 16}.get(head[3])
    if alen is None:
        alen = (await r.readexactly(1))[0]
    await r.readexactly(alen + 2)
    return r, w


async def one(args):
    if args.socks:
        r, w = await socks5_open(args.socks, args.host, args.port, args.user, args.password)
    else:
        r, w = await asyncio.open_connection(args.host, args.port)
    w.write(b"hi\n")
    line = await r.readline()
    w.close()
    return line.decode().strip()


async def run(args):
    t0 = time.monotonic()
    got = await asyncio.gather(*(one(args) for _ in range(args.n)), return_exceptions=True)
    ms = (time.monotonic() - t0) * 1000
    ok = [g for g in got if isinstance(g, str) and g.startswith("you are ")]
    print("elapsed_ms=%.3f" % ms)
    print("ok=%d" % len(ok))
    print("reply=" + ";".join(sorted(set(str(g) for g in got))))


async def serve(addr, port, life):
    async def handle(r, w):
        ip = w.get_extra_info("peername")[0]
        print("PEER %s %d" % (ip, w.get_extra_info("peername")[1]), flush=True)
        try:
            await asyncio.wait_for(r.readline(), 10)
            w.write(("you are %s\n" % ip).encode())
            await w.drain()
        except (OSError, asyncio.TimeoutError):
            pass
        w.close()

    srv = await asyncio.start_server(handle, addr, port, backlog=4096, reuse_address=True)
    async with srv:
        await asyncio.sleep(life)


def main():
    if sys.argv[1:2] == ["server"]:
        asyncio.run(serve(sys.argv[2], int(sys.argv[3]), float(sys.argv[4])))
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["run"])
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("n", type=int)
    ap.add_argument("--socks")
    ap.add_argument("--user")
    ap.add_argument("--password")
    asyncio.run(run(ap.parse_args()))


if __name__ == "__main__":
    main()
