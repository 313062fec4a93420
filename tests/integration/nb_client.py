#!/usr/bin/python3
"""Event-loop and non-blocking clients for t_nb_*.sh. Output is key=value lines;
errno values by name. Every wait is bounded.

  gather HOST PORT N          asyncio.gather of N open_connection at once; each reads
                              the far server's `you are ...` line and sends a byte.
                              ok=N replies=<distinct> peers=<distinct getpeername>
  stalled SHOST SPORT HOST PORT N
                              one asyncio connection to SHOST:SPORT (a proxy that
                              never answers) started first, then N to HOST:PORT; the
                              order in which they end: order=d,d,...,s (d: a direct
                              one got its line, s: the stalled one ended, any way)
  waitfor NAME PORT T         gai=<NAME's first IPv4 address>, then
                              asyncio.wait_for(open_connection(NAME, PORT), T):
                              result=TimeoutError | connected | <exception name>
  closepending WHOST WPORT HOST PORT N PROXYLOG
                              a warm-up dial to WHOST:WPORT (completed, closed) and
                              one to HOST:PORT closed while the proxy holds it, then
                              fd_base; N non-blocking connects to HOST:PORT
                              (einprogress=count), waits until PROXYLOG shows N more
                              `REQ` lines (reqs=...), closes them all, waits for the
                              fd count to return: fd_base=, fd_after= (fd_extra=)
  refused HOST PORT           non-blocking connect: connect=<errno>, then select for
                              writable: writable=1, so_error=<errno>
  fork HOST PORT N PROXYLOG RELEASE
                              N non-blocking connects, wait until the proxy holds all
                              N requests, fork; the child polls its copies and prints
                              child_errors=<SO_ERROR of each>; the parent reaps it
                              (child=exited|hung), creates RELEASE, then reads each
                              connection's line: parent_ok=N parent_errors=...
  many WHOST WPORT HOST PORT N
                              a warm-up dial to WHOST:WPORT, then fd_base; N
                              non-blocking connects at once (epoll), each reads its
                              line: einprogress=, connected=, ok=, fd_after=
  peer HOST PORT              blocking connect: peer=ip:port local=ip:port reply=...
  peernb HOST PORT PROXYLOG RELEASE
                              non-blocking connect; while the proxy holds the request:
                              pending_peer=<errno>; after RELEASE and writability:
                              peer=ip:port local=ip:port reply=...
  sndtimeo HOST PORT PROXYLOG RELEASE
                              a BLOCKING socket with SO_SNDTIMEO = 1 s (the raw
                              option: settimeout would make it non-blocking):
                              connect=<errno> connect_s=<seconds in connect>; when
                              it gave EINPROGRESS: reqs=<REQ lines in PROXYLOG>,
                              early=<poll says writable at once: 1/0>, then RELEASE
                              is created and after poll (8 s): writable=1/0; in
                              both cases so_error= peer= reply=
  closefrom HOST PORT PROXYLOG RELEASE HOW
                              descriptor limit 64 (the shim's own numbers go above
                              32), fd_base; a non-blocking connect (connect=), and
                              while the proxy holds it the program closes every
                              number above its own (HOW: closefrom or close_range,
                              through libc) and opens /dev/null until EMFILE
                              (files=); RELEASE, then writable= so_error= reply=;
                              files_ok=<files still open on /dev/null>; the files
                              and the socket closed: fd_after=
  epollways HOST PORT PROXYLOG RELEASE [closeorig]
                              a non-blocking socket and, BEFORE connect, a dup of it
                              and four epoll sets: oneshot (EPOLLOUT|EPOLLONESHOT),
                              level (EPOLLOUT), edge (EPOLLOUT|EPOLLET) on the
                              socket, dup (EPOLLOUT) on the dup. connect=; while the
                              proxy holds the request: early=<sets with an event,
                              timeout 0>, dup_send= dup_recv=<errno on the dup>;
                              closeorig: the socket's own number is closed now.
                              RELEASE; then per set <name>=<events within 8 s>,
                              oneshot_again=<events of oneshot within 0.3 s more>
                              (closeorig: only the dup set is waited for);
                              so_error=<SO_ERROR read on the dup> reply=<read on the dup>
  crowd SHOST SPORT N HOST PORT PROXYLOG MINREQ
                              descriptor limit 4096; N non-blocking connects to
                              SHOST:SPORT (routed to a proxy that holds them),
                              wait until PROXYLOG has MINREQ `REQ` lines (reqs=),
                              then one to HOST:PORT (another proxy): other=<1 when
                              writable within 8 s>, so_error=, reply=, and
                              stalled_ready=<of the N, how many were reported
                              ready meanwhile>
  fakepeer NAME PORT          getaddrinfo(NAME) then a blocking connect to its first
                              address: asked=ip peer=ip:port reply=...
"""
import asyncio
import errno
import os
import select
import socket
import struct
import sys
import time


def ename(e):
    return errno.errorcode.get(e, str(e)) if e else "0"


def out(key, value):
    print("%s=%s" % (key, value), flush=True)


def nfds():
    return len(os.listdir("/proc/self/fd"))


def fmt(addr):
    return "%s:%d" % (addr[0], addr[1])


def log_count(path, word):
    try:
        with open(path) as f:
            return sum(1 for line in f if line.startswith(word + " "))
    except OSError:
        return 0


def wait_log(path, word, n, steps=200):
    for _ in range(steps):
        if log_count(path, word) >= n:
            return True
        time.sleep(0.05)
    return False


def nb_connect(host, port):
    s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    s.setblocking(False)
    return s, s.connect_ex((host, port))


def wait_writable(socks, seconds):
    """Waits (select) until every socket is writable; returns those that are."""
    done, left = [], list(socks)
    end = time.monotonic() + seconds
    while left and time.monotonic() < end:
        _, w, _ = select.select([], left, [], max(0.0, end - time.monotonic()))
        for s in w:
            left.remove(s)
            done.append(s)
    return done


def read_line(s, seconds=5):
    s.settimeout(seconds)
    data = b""
    try:
        while not data.endswith(b"\n"):
            chunk = s.recv(256)
            if not chunk:
                break
            data += chunk
    except OSError as e:
        return "error:" + ename(e.errno)
    return data.decode(errors="replace").strip()


async def gather(host, port, n):
    async def one():
        r, w = await asyncio.open_connection(host, port)
        line = (await asyncio.wait_for(r.readline(), 8)).decode().strip()
        peer = w.get_extra_info("peername")
        w.write(b"x")
        await w.drain()
        w.close()
        return line, fmt(peer) if peer else "none"

    got = await asyncio.gather(*(one() for _ in range(n)), return_exceptions=True)
    good = [g for g in got if isinstance(g, tuple) and g[0].startswith("you are ")]
    out("ok", len(good))
    out("replies", ";".join(sorted(set(g[0] if isinstance(g, tuple) else repr(g) for g in got))))
    out("peers", ";".join(sorted(set(g[1] for g in good))))


async def stalled(shost, sport, host, port, n):
    order = []

    async def stall():
        try:
            await asyncio.wait_for(asyncio.open_connection(shost, sport), 8)
        except BaseException as e:  # noqa: B902 -- any end counts
            out("stalled_end", type(e).__name__)
        order.append("s")

    async def direct():
        r, w = await asyncio.open_connection(host, port)
        line = (await asyncio.wait_for(r.readline(), 8)).decode().strip()
        if line.startswith("you are "):
            order.append("d")
        w.close()

    st = asyncio.ensure_future(stall())
    for _ in range(3):  # let the stalled one reach connect() first
        await asyncio.sleep(0)
    await asyncio.gather(*(direct() for _ in range(n)), return_exceptions=True)
    await st
    out("order", ",".join(order))


async def waitfor(name, port, t):
    try:
        out("gai", socket.getaddrinfo(name, port, socket.AF_INET, socket.SOCK_STREAM)[0][4][0])
    except OSError as e:
        out("gai", "error:" + str(e))
    try:
        await asyncio.wait_for(asyncio.open_connection(name, port), t)
        out("result", "connected")
    except asyncio.TimeoutError:
        out("result", "TimeoutError")
    except OSError as e:
        out("result", type(e).__name__ + ":" + ename(e.errno))


def warm_up(host, port):
    s, rc = nb_connect(host, port)
    wait_writable([s], 8)
    out("warm", read_line(s))
    s.close()


def fd_names():
    names = {}
    for fd in os.listdir("/proc/self/fd"):
        try:
            names[fd] = os.readlink("/proc/self/fd/" + fd)
        except OSError:
            pass
    return names


def wait_fds(base, before):
    """Waits (bounded, 2 s) for the descriptor count to come back to base; prints it,
    and on a mismatch what the extra descriptors are."""
    after = nfds()
    for _ in range(100):
        if after <= base:
            break
        time.sleep(0.02)
        after = nfds()
    out("fd_base", base)
    out("fd_after", after)
    if after != base:
        extra = sorted(v for k, v in fd_names().items() if k not in before)
        out("fd_extra", ",".join(extra))
        time.sleep(5)  # diagnostics only: slow to go, or never
        out("fd_after_5s", nfds())


def close_cycle(host, port, n, plog):
    """n non-blocking connects; once the proxy holds them all, closes them."""
    held = log_count(plog, "REQ")
    socks = [nb_connect(host, port) for _ in range(n)]
    wait_log(plog, "REQ", held + n)
    for s, _ in socks:
        s.close()
    return sum(1 for _, rc in socks if rc == errno.EINPROGRESS), log_count(plog, "REQ") - held


def closepending(whost, wport, host, port, n, plog):
    # a completed dial and one abandoned one first: whatever the shim keeps for the
    # whole process from then on is in the baseline, only drift is counted
    warm_up(whost, wport)
    warm = nfds()
    close_cycle(host, port, 1, plog)
    for _ in range(100):  # an abandoned dial's resources may go a moment later
        if nfds() <= warm:
            break
        time.sleep(0.02)
    base = nfds()
    before = fd_names()
    inprog, reqs = close_cycle(host, port, n, plog)
    out("einprogress", inprog)
    out("reqs", reqs)
    wait_fds(base, before)


def refused(host, port):
    s, rc = nb_connect(host, port)
    out("connect", ename(rc))
    w = wait_writable([s], 8)
    out("writable", len(w))
    out("so_error", ename(s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)))


def child_check(socks):
    errs = []
    polls = select.poll()
    for s in socks:
        polls.register(s.fileno(), select.POLLOUT)
    ready = set()
    end = time.monotonic() + 5
    while len(ready) < len(socks) and time.monotonic() < end:
        for fd, _ in polls.poll(100):
            ready.add(fd)
    for s in socks:
        errs.append(ename(s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)) if s.fileno() in ready
                    else "pending")
    out("child_errors", ",".join(errs))


def fork(host, port, n, plog, release):
    socks = [nb_connect(host, port) for _ in range(n)]
    out("einprogress", sum(1 for _, rc in socks if rc == errno.EINPROGRESS))
    out("reqs", log_count(plog, "REQ") if wait_log(plog, "REQ", n) else log_count(plog, "REQ"))
    pid = os.fork()
    if pid == 0:
        try:
            child_check([s for s, _ in socks])
        finally:
            os._exit(0)
    state = "hung"
    for _ in range(160):
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            state = "exited"
            break
        time.sleep(0.05)
    if state == "hung":
        os.kill(pid, 9)
        os.waitpid(pid, 0)
    out("child", state)
    open(release, "w").close()
    ws = wait_writable([s for s, _ in socks], 8)
    errs = [ename(s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)) for s in ws]
    lines = [read_line(s) for s in ws]
    out("parent_errors", ",".join(errs))
    out("parent_ok", sum(1 for line in lines if line.startswith("you are ")))
    out("parent_replies", ";".join(sorted(set(lines))))


def many(whost, wport, host, port, n):
    warm_up(whost, wport)
    base = nfds()
    before = fd_names()
    ep = select.epoll()
    socks = {}
    inprog = 0
    for _ in range(n):
        s, rc = nb_connect(host, port)
        inprog += rc == errno.EINPROGRESS
        socks[s.fileno()] = s
        ep.register(s.fileno(), select.EPOLLOUT)
    out("einprogress", inprog)
    errs, ok, lines = {}, 0, set()
    left = set(socks)
    end = time.monotonic() + 25
    while left and time.monotonic() < end:
        for fd, _ in ep.poll(0.2):
            if fd not in left:
                continue
            left.discard(fd)
            ep.unregister(fd)
            e = ename(socks[fd].getsockopt(socket.SOL_SOCKET, socket.SO_ERROR))
            errs[e] = errs.get(e, 0) + 1
    out("connected", errs.get("0", 0))
    out("errors", ";".join("%s:%d" % kv for kv in sorted(errs.items())))
    for s in socks.values():
        line = read_line(s)
        ok += line.startswith("you are ")
        lines.add(line)
        s.close()
    ep.close()
    out("ok", ok)
    out("replies", ";".join(sorted(lines))[:300])
    wait_fds(base, before)


def peer(host, port):
    s = socket.create_connection((host, port), timeout=8)
    out("peer", fmt(s.getpeername()))
    out("local", fmt(s.getsockname()))
    out("reply", read_line(s))


def peernb(host, port, plog, release):
    s, rc = nb_connect(host, port)
    out("connect", ename(rc))
    wait_log(plog, "REQ", 1)
    try:
        out("pending_peer", fmt(s.getpeername()))
    except OSError as e:
        out("pending_peer", ename(e.errno))
    open(release, "w").close()
    wait_writable([s], 8)
    out("so_error", ename(s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)))
    out("peer", fmt(s.getpeername()))
    out("local", fmt(s.getsockname()))
    out("reply", read_line(s))


def sndtimeo(host, port, plog, release):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, struct.pack("ll", 1, 0))
    t0 = time.monotonic()
    rc = s.connect_ex((host, port))
    out("connect", ename(rc))
    out("connect_s", "%.1f" % (time.monotonic() - t0))
    if rc == errno.EINPROGRESS:
        wait_log(plog, "REQ", 1)
        out("reqs", log_count(plog, "REQ"))
        p = select.poll()
        p.register(s, select.POLLOUT)
        out("early", len(p.poll(0)))
        open(release, "w").close()
        out("writable", len(p.poll(8000)))
    out("so_error", ename(s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)))
    try:
        out("peer", fmt(s.getpeername()))
    except OSError as e:
        out("peer", ename(e.errno))
    out("reply", read_line(s))


def closefrom(host, port, plog, release, how):
    import ctypes
    import resource
    os.closerange(3, 65536)  # what the test harness left open; no dial yet
    resource.setrlimit(resource.RLIMIT_NOFILE, (64, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
    base = fd_names()
    s, rc = nb_connect(host, port)
    out("connect", ename(rc))
    wait_log(plog, "REQ", 1)
    low = s.fileno() + 1  # above the program's own numbers, not the shim's
    libc = ctypes.CDLL(None, use_errno=True)
    if how == "closefrom":
        libc.closefrom(low)
    else:
        libc.close_range(low, ctypes.c_uint(0xffffffff), 0)
    files = []
    try:
        for _ in range(100):
            files.append(os.open("/dev/null", os.O_RDWR))
    except OSError:
        pass
    for f in files[-4:]:  # room for the release file and the checks
        os.close(f)
    files = files[:-4]
    out("files", len(files))
    open(release, "w").close()
    out("writable", len(wait_writable([s], 8)))
    out("so_error", ename(s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)))
    out("reply", read_line(s))
    null = os.stat("/dev/null")
    ok = 0
    for f in files:
        try:
            st = os.fstat(f)
            ok += (st.st_dev, st.st_ino) == (null.st_dev, null.st_ino)
        except OSError:
            pass
    out("files_ok", ok)
    for f in files:
        try:
            os.close(f)
        except OSError:
            pass
    s.close()
    time.sleep(0.2)
    after = fd_names()
    out("fd_base", len(base))
    out("fd_after", len(after))


def epollways(host, port, plog, release, closeorig):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setblocking(False)
    d = socket.socket(fileno=os.dup(s.fileno()))
    sets = {}
    for name, fd, ev in (("oneshot", s, select.EPOLLOUT | select.EPOLLONESHOT),
                         ("level", s, select.EPOLLOUT),
                         ("edge", s, select.EPOLLOUT | select.EPOLLET),
                         ("dup", d, select.EPOLLOUT)):
        ep = select.epoll()
        ep.register(fd.fileno(), ev)
        sets[name] = ep
    out("connect", ename(s.connect_ex((host, port))))
    wait_log(plog, "REQ", 1)
    out("early", ",".join(n for n, ep in sets.items() if ep.poll(0)) or "none")
    for what, call in (("dup_send", lambda: d.send(b"x")), ("dup_recv", lambda: d.recv(1))):
        try:
            call()
            out(what, "0")
        except OSError as e:
            out(what, ename(e.errno))
    if closeorig:
        s.close()
    open(release, "w").close()
    for name, ep in sets.items():
        if name == "dup" or not closeorig:
            out(name, len(ep.poll(8)))
    if not closeorig:
        out("oneshot_again", len(sets["oneshot"].poll(0.3)))
    out("so_error", ename(d.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)))
    out("reply", read_line(d))


def crowd(shost, sport, n, host, port, plog, minreq):
    import resource
    resource.setrlimit(resource.RLIMIT_NOFILE, (4096, max(4096, resource.getrlimit(resource.RLIMIT_NOFILE)[1])))
    stalled = [nb_connect(shost, sport)[0] for _ in range(n)]
    wait_log(plog, "REQ", minreq, steps=300)
    out("reqs", log_count(plog, "REQ"))
    s, rc = nb_connect(host, port)
    out("connect", ename(rc))
    out("other", len(wait_writable([s], 8)))
    out("so_error", ename(s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)))
    out("reply", read_line(s))
    p = select.poll()
    for t in stalled:
        p.register(t, select.POLLOUT | select.POLLIN)
    out("stalled_ready", len(p.poll(0)))
    for t in stalled:
        t.close()


def fakepeer(name, port):
    ai = socket.getaddrinfo(name, port, socket.AF_INET, socket.SOCK_STREAM)
    addr = ai[0][4]
    out("asked", addr[0])
    s = socket.create_connection(addr, timeout=8)
    out("peer", fmt(s.getpeername()))
    out("local", fmt(s.getsockname()))
    out("reply", read_line(s))


def main():
    a = sys.argv[1:]
    cmd = a[0]
    if cmd == "gather":
        asyncio.run(gather(a[1], int(a[2]), int(a[3])))
    elif cmd == "stalled":
        asyncio.run(stalled(a[1], int(a[2]), a[3], int(a[4]), int(a[5])))
    elif cmd == "waitfor":
        asyncio.run(waitfor(a[1], int(a[2]), float(a[3])))
    elif cmd == "closepending":
        closepending(a[1], int(a[2]), a[3], int(a[4]), int(a[5]), a[6])
    elif cmd == "refused":
        refused(a[1], int(a[2]))
    elif cmd == "fork":
        fork(a[1], int(a[2]), int(a[3]), a[4], a[5])
    elif cmd == "many":
        many(a[1], int(a[2]), a[3], int(a[4]), int(a[5]))
    elif cmd == "peer":
        peer(a[1], int(a[2]))
    elif cmd == "peernb":
        peernb(a[1], int(a[2]), a[3], a[4])
    elif cmd == "sndtimeo":
        sndtimeo(a[1], int(a[2]), a[3], a[4])
    elif cmd == "closefrom":
        closefrom(a[1], int(a[2]), a[3], a[4], a[5])
    elif cmd == "epollways":
        epollways(a[1], int(a[2]), a[3], a[4], a[5] if len(a) > 5 else "")
    elif cmd == "crowd":
        crowd(a[1], int(a[2]), int(a[3]), a[4], int(a[5]), a[6], int(a[7]))
    elif cmd == "fakepeer":
        fakepeer(a[1], int(a[2]))
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
