#!/usr/bin/python3
"""Writes the seed corpora tests/fuzz/corpus/<target>/ (checked in; rerun after
changing a seed here). Seeds are recorded proxy replies, good and malformed, in the
input format each fuzz_<target>.c describes, plus the unit tests' configuration
fixtures and the INI examples of man/dialshim.ini.5 for the loader.

    python3 tests/fuzz/seeds.py
"""
import os
import re
import shutil
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CORPUS = os.path.join(HERE, "corpus")


def put(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def v4(a, port):
    return b"\x01" + bytes(int(x) for x in a.split(".")) + struct.pack(">H", port)


V6 = b"\x04" + bytes.fromhex("20010db8000f00000000000000000002") + struct.pack(">H", 8080)


def dom(name, port=80):
    return b"\x03" + bytes([len(name)]) + name + struct.pack(">H", port)


def socks5():
    s = {
        "method-none": b"\x00\x05\x00",
        "method-ff": b"\x00\x05\xff",
        "method-http": b"\x00HTTP/1.1 400 Bad\r\n\r\n",
        "method-userpass": b"\x01\x05\x02",
        "method-gssapi": b"\x01\x05\x01",
        "auth-ok": b"\x02\x01\x00",
        "auth-v5": b"\x02\x05\x00",
        "auth-bad": b"\x02\x01\x01",
        "reply-v4": b"\x03\x05\x00\x00" + v4("203.0.113.2", 12345),
        "reply-v6": b"\x03\x05\x00\x00" + V6,
        "reply-dom": b"\x03\x05\x00\x00" + dom(b"bound.proxy.example", 12345),
        "reply-dom0": b"\x03\x05\x00\x00" + dom(b""),
        "reply-dom255": b"\x03\x05\x00\x00\x03\xff" + b"a" * 20,
        "reply-banner": b"\x03\x05\x00\x00" + v4("0.0.0.0", 0) + b"SSH-2.0-test\r\n",
        "reply-rep1": b"\x03\x05\x01\x00" + v4("0.0.0.0", 0),
        "reply-rep5": b"\x03\x05\x05\x00" + v4("0.0.0.0", 0),
        "reply-atyp9": b"\x03\x05\x00\x00\x09" + b"\x00" * 6,
        "reply-nul": b"\x03\x05\x00\x00" + dom(b"a\x00b"),
        "pipe": b"\x04\x05\x00\x05\x00\x00" + v4("203.0.113.2", 1080),
        "pipe-auth": b"\x05\x05\x02\x01\x00\x05\x00\x00" + dom(b"proxy.example", 1) + b"data",
        "pipe-rep1": b"\x04\x05\x00\x05\x01\x00" + v4("0.0.0.0", 0),
        "enc-name": b"\x06\x01\x40\x01\x01\xbb\x00\x00www.example.com",
        "enc-user": b"\x06\x02\x20\x01\x00\x50user\x00secret\x00203.0.113.2",
        "enc-v6": b"\x06\x02\x20\x03\x00\x35\x00\x002001:db8::1",
        "enc-mapped": b"\x06\x02\x20\x01\x00\x35\x00\x00::ffff:192.0.2.1",
        "enc-small": b"\x06\x00\x05\x01\x00\x50u\x00p\x00h",
    }
    for k, v in s.items():
        put("socks5", k, v)


def socks5_udp():
    s = {
        "v4": b"\x00\x00\x00" + v4("203.0.113.2", 53) + b"payload",
        "v6": b"\x00\x00\x00" + V6 + b"x",
        "dom": b"\x00\x00\x00" + dom(b"www.example", 53) + b"q",
        "dom-literal": b"\x00\x00\x00" + dom(b"192.0.2.1", 53),
        "mapped": b"\x00\x00\x00\x04" + bytes(10) + b"\xff\xff\xc0\x00\x02\x01\x00\x35",
        "frag": b"\x00\x00\x01" + v4("203.0.113.2", 53),
        "empty-dom": b"\x00\x00\x00\x03\x00\x00\x35",
        "short": b"\x00\x00\x00\x01\xcb\x00",
        "rsv": b"\xff\xff\x00" + v4("192.0.2.4", 1),
    }
    for k, v in s.items():
        put("socks5_udp", k, v)


def socks4():
    s = {
        "granted": b"\x00\x00\x5a\x00\x00\x00\x00\x00\x00",
        "granted-vn4": b"\x00\x04\x5a\x1f\x90\xcb\x00\x71\x02banner",
        "rejected": b"\x00\x00\x5b\x00\x00\x00\x00\x00\x00",
        "identd": b"\x00\x00\x5c" + bytes(6),
        "socks5": b"\x00\x05\x00",
        "http": b"\x00HTTP/1.0 400\r\n",
        "enc-ip": b"\x01\x01\x20\x00\x50\xcb\x00\x71\x02user\x00",
        "enc-4a": b"\x01\x01\x20\x01\xbb\x00\x00\x00\x00\x00www.example.com",
        "enc-v6": b"\x01\x01\x20\x01\xbb\x00\x00\x00\x00u\x002001:db8::2",
        "enc-small": b"\x01\x00\x08\x00\x50\xc0\x00\x02\x04\x00",
    }
    for k, v in s.items():
        put("socks4", k, v)


def http():
    ok = b"HTTP/1.1 200 Connection established\r\n"
    s = {
        "200": b"\x00" + ok + b"\r\n",
        "200-min": b"\x00HTTP/1.1 200\r\n\r\n",
        "200-headers": b"\x00" + ok + b"Proxy-Agent: x\r\nX-Padding: yyyy\r\n\r\nSSH-2.0-test\r\n",
        "100-200": b"\x00HTTP/1.1 100 Continue\r\n\r\n" + ok + b"\r\n",
        "101": b"\x00HTTP/1.1 101 Switching\r\n\r\n",
        "407": b"\x00HTTP/1.1 407 Proxy Authentication Required\r\n"
               b"Proxy-Authenticate: Basic realm=\"x\"\r\n\r\n",
        "407-lower": b"\x00HTTP/1.0 407 Auth\r\nproxy-authenticate:   Digest a=b\r\n\r\n",
        "502": b"\x00HTTP/1.1 502 Bad Gateway\r\nContent-Length: 10\r\n\r\n0123456789",
        "503": b"\x00HTTP/1.1 503 Service Unavailable\r\n\r\n",
        "504": b"\x00HTTP/1.1 504 Gateway Timeout\r\n\r\n",
        "lf-only": b"\x00HTTP/1.1 200 OK\n\n",
        "socks": b"\x00\x05\x00",
        "http2": b"\x00HTTP/2 200\r\n\r\n",
        "long": b"\x00HTTP/1.1 200 OK\r\n" + b"X-Filler: " + b"y" * 100 + b"\r\n" * 1 + b"\r\n",
        "enc-name": b"\x01\x04\x00\x01\xbbwww.example.com\x00\x00",
        "enc-auth": b"\x01\x04\x00\x00\x50203.0.113.2\x00user\x00pass",
        "enc-v6": b"\x01\x04\x00\x00\x502001:db8::1\x00\x00",
        "enc-crlf": b"\x01\x04\x00\x00\x50a\r\nb\x00\x00",
        "enc-colon": b"\x01\x04\x00\x00\x50h\x00u:x\x00p",
    }
    for k, v in s.items():
        put("http", k, v)


def route():
    def d(kind, ip, port, net, name):
        return bytes([kind]) + ip.ljust(16, b"\x00") + struct.pack(">H", port) + bytes([net]) + name + b"\x00"

    a4 = bytes([203, 0, 113, 2])
    a6 = bytes.fromhex("20010db8000f00000000000000000002")
    dests = d(1, a4, 443, 0, b"") + d(2, a6, 53, 1, b"www.example.com") + \
        d(3, a4, 80, 0, b"A.Corp.Example.") + d(0, b"", 8080, 0, b"corp.example")
    rules = [
        "cidr:127.0.0.0/8 -> direct", "cidr:203.0.113.0/24 -> p", "cidr:0.0.0.0/0 -> p",
        "cidr:2001:db8::/32 -> p", "cidr:::ffff:0:0/96 -> p", "cidr:203.0.113.2 -> x",
        "cidr:203.0.113.1/24 -> x", "domain:*.corp.example -> corp", "domain:corp.example -> c",
        "domain:Example.COM. -> c", "port:53 -> block", "port:1000-2000 -> p",
        "port:0-65535 -> p", "network:udp -> block", "network:tcp -> d",
        "cidr: 203.0.0.0/8 -> a -> b", "domain:* -> x", "port:2000-1000 -> x",
    ]
    for i, r in enumerate(rules):
        put("route", "rule%02d" % i, r.encode() + b"\x00" + dests)


def glob():
    pairs = [
        ("curl", "curl"), ("*", "anything"), ("/usr/bin/python3*", "/usr/bin/python3.11"),
        ("py?hon", "python"), ("*a*b*c*", "xxaxxbxxcxx"), ("a*a*a*a*a*a*b", "a" * 60),
        ("*?*?*?", "ab"), ("", ""), ("**", ""), ("?", ""), ("*/bin/*", "/usr/local/bin/tool"),
    ]
    for i, (p, t) in enumerate(pairs):
        put("glob", "g%02d" % i, p.encode() + b"\x00" + t.encode())


def fakeip():
    # byte 0: ranges, byte 1: base, then (op, arg) pairs; op%5: 0 set name, 1 raw name,
    # 2 lookup, 3 range check, 4 recheck; op & 0x80: IPv6
    put("fakeip", "fill4", bytes([0, 0]) +
        b"".join(bytes([0, i]) for i in range(12)) + b"".join(bytes([4, i]) for i in range(12)))
    put("fakeip", "fill6", bytes([0, 7]) + b"".join(bytes([0x80, i]) for i in range(12)) +
        b"".join(bytes([0x84, i]) for i in range(12)))
    put("fakeip", "case", bytes([1, 3, 0, 0x41, 0, 0xc1, 0, 1, 2, 1, 2, 2]))
    put("fakeip", "raw", bytes([2, 0, 1, 0]) + b"Some.Name.\x00" + bytes([1, 0]) + b"bad name\x00" +
        bytes([1, 0]) + b"\x00" + bytes([0x81, 0]) + b"x" * 260 + b"\x00")
    put("fakeip", "tiny", bytes([3, 0x0f, 0, 0, 0x80, 0, 2, 1, 3, 9]))
    put("fakeip", "recycle", bytes([1, 0]) + b"".join(bytes([0, i, 2, i & 3, 4, i]) for i in range(30)))


def dnsresp():
    def q(name, qtype, edns=False, flags=0x0100):
        m = struct.pack(">HHHHHH", 0x1234, flags, 1, 0, 0, 1 if edns else 0)
        for l in name.split(".") if name else []:
            m += bytes([len(l)]) + l.encode()
        m += b"\0" + struct.pack(">HH", qtype, 1)
        if edns:
            m += b"\0" + struct.pack(">HHIH", 41, 1232, 0, 0)
        return m
    put("dnsresp", "a", bytes([0, 2, 0]) + q("www.example.com", 1, True))
    put("dnsresp", "aaaa", bytes([0x30, 2, 0]) + q("www.example.com", 28))
    put("dnsresp", "ptr4", bytes([0, 2, 0]) + q("4.0.18.198.in-addr.arpa", 12))
    put("dnsresp", "ptr6", bytes([0, 2, 0]) + q(".".join("0" * 31 + "f") + ".ip6.arpa", 12))
    put("dnsresp", "https", bytes([0, 2, 0]) + q("www.example.com", 65, True))
    put("dnsresp", "pass", bytes([1, 2, 0]) + q("www.example.com", 1))
    put("dnsresp", "nx", bytes([8, 2, 0]) + q("nx.example", 1))
    put("dnsresp", "tiny", bytes([0xf0, 0, 40]) + q("www.example.com", 1))
    put("dnsresp", "response", bytes([0, 2, 0]) + q("www.example.com", 1, flags=0x8180))


def elf_image(phoff=64, phnum=1, ptype=3, shoff=160, shnum=3, shstrndx=1, str_off=120,
              str_size=25, name2=11, shentsize=64):
    """A 64-bit little-endian ELF: header, one program header (PT_INTERP = 3 by
    default), the section names at 120, three section headers at 160 (null,
    .shstrtab, .go.buildinfo); the arguments craft it wrong."""
    names = b"\x00.shstrtab\x00.go.buildinfo\x00"
    eh = b"\x7fELF" + bytes([2, 1, 1]) + bytes(9) + struct.pack(
        "<HHIQQQIHHHHHH", 3, 62, 1, 0, phoff, shoff, 0, 64, 56, phnum, shentsize, shnum, shstrndx)
    ph = struct.pack("<IIQQQQQQ", ptype, 4, 0, 0, 0, 0, 0, 1)
    sh = bytes(64) + struct.pack("<IIQQQQIIQQ", 1, 3, 0, 0, str_off, str_size, 0, 0, 1, 0) + \
        struct.pack("<IIQQQQIIQQ", name2, 1, 0, 0, 0, 0, 0, 0, 1, 0)
    return eh + ph + names + bytes(160 - 120 - len(names)) + sh


def elf():
    put("elf", "go-dynamic", elf_image())
    put("elf", "static", elf_image(ptype=1))
    put("elf", "truncated-header", elf_image()[:40])
    put("elf", "truncated-phdr", elf_image()[:100])
    put("elf", "truncated-shdr", elf_image()[:300])
    put("elf", "shstrndx-out-of-range", elf_image(shstrndx=0xfeff))
    put("elf", "shstrndx-xindex", elf_image(shstrndx=0xffff))
    put("elf", "shoff-past-end", elf_image(shoff=4096))
    put("elf", "shoff-wraps", elf_image(shoff=2**64 - 63))
    put("elf", "phoff-wraps", elf_image(phoff=2**64 - 10))
    put("elf", "phnum-huge", elf_image(phnum=0xffff))
    put("elf", "shnum-huge", elf_image(shnum=0xffff))
    put("elf", "shnum-zero", elf_image(shnum=0))
    put("elf", "names-past-end", elf_image(str_off=1 << 40, str_size=1 << 40))
    put("elf", "names-size-wraps", elf_image(str_off=8, str_size=2**64 - 1))
    put("elf", "name-far-outside", elf_image(name2=0xfffffff0))
    put("elf", "name-unterminated", elf_image(str_size=24))
    put("elf", "shentsize-zero", elf_image(shentsize=0))
    put("elf", "script", b"#!/bin/sh\nexit 0\n")


def man_examples(page):
    """The INI examples of the manual page (.EX/.EE blocks that open with a
    section header), roff escapes undone."""
    if not os.path.exists(page):
        return []
    out = []
    for block in re.findall(r"^\.EX\n(.*?)^\.EE$", open(page).read(), re.S | re.M):
        text = re.sub(r"\\[-e&]", lambda m: {"-": "-", "e": "\\", "&": ""}[m.group(0)[1]], block)
        if text.lstrip().startswith("["):
            out.append(text)
    return out


def conf():
    src = os.path.join(ROOT, "tests", "unit", "fixtures", "conf")
    if os.path.isdir(src):
        for f in sorted(os.listdir(src)):
            shutil.copy(os.path.join(src, f), os.path.join(CORPUS, "conf", f))
    demo = os.path.join(ROOT, "examples", "demo.ini")
    if os.path.exists(demo):
        shutil.copy(demo, os.path.join(CORPUS, "conf", "demo.ini"))
    for i, text in enumerate(man_examples(os.path.join(ROOT, "man", "dialshim.ini.5"))):
        put("conf", "man-example-%d.ini" % (i + 1), text)
    put("conf", "fake-ip.ini", "[resolver fk]\nservers = 192.0.2.2\nmode = fake_ip\n"
        "[dialer main]\ntype = direct\ndomain_resolver = fk\n[app all]\nmatch = *\ndialer = main\n")
    put("conf", "chain.ini", "[dialer a]\ntype = socks5\nserver = 192.0.2.2:1080\ndetour = b\n"
        "[dialer b]\ntype = http\nserver = [2001:db8::1]:3128\nusername = u\npassword = p\n"
        "[app x]\nmatch = curl, /usr/bin/*\ndialer = a\nroute = port:53 -> block\n")
    put("conf", "nul.ini", b"[global]\nlog_level = warn\x00\n[dialer x]\ntype = direct\n")
    put("conf", "crlf-bom.ini", b"\xef\xbb\xbf[global]\r\nlog_level = debug\r\n")
    put("conf", "pass-through.ini", "[ global ]\non_config_error: pass_through # not fail_closed\n"
        "log_level = warn ; pass_through\n")


def imports():
    put("import", "proxychains.conf", "strict_chain\nproxy_dns\nremote_dns_subnet 224\n"
        "tcp_read_time_out 15000\ntcp_connect_time_out 8000\nlocalnet 127.0.0.0/255.0.0.0\n"
        "localnet 203.0.113.0:80/255.255.255.0\nlocalnet ::1/128\ndnat 192.0.2.77 192.0.2.78\nquiet_mode\n"
        "chain_len = 2\n[ProxyList]\nsocks5 192.0.2.2 1080 user pass\nhttp [::1] 3128\n"
        "socks4 2001:db8::1 1080 id\nraw 192.0.2.9 80\nsocks5 proxy.example 1080\n")
    put("import", "round_robin.conf", "round_robin_chain\nchain_len 3\n[ProxyList]\n"
        "socks5 192.0.2.2 1080\nsocks5 192.0.2.3 1080\n")
    put("import", "torsocks.conf", "TorAddress 127.0.0.1\nTorPort 9050\n"
        "OnionAddrRange 127.42.42.0/24\nSOCKS5Username a\nSOCKS5Password b\nIsolatePID 1\n"
        "AllowInbound 1\nAllowOutboundLocalhost 1\n")
    put("import", "torsocks-crlf.conf", "TorAddress = ::1\r\nTorPort 70000\r\nAllowOutboundLocalhost 2\r\n")


os.makedirs(os.path.join(CORPUS, "conf"), exist_ok=True)
for f in (socks5, socks5_udp, socks4, http, route, glob, fakeip, conf, elf, dnsresp, imports):
    f()
