#!/usr/bin/python3
"""A copy of a real dynamically linked program with its section headers crafted
wrong, for `dialshim -- FILE`, which reads them before exec. The kernel never looks
at section headers, so the copy still runs like the original.

    python3 elf_craft.py SRC DST HOW

HOW: name-far (the names' table claims 2^62 bytes, a name 4 GiB in), shstrndx
(e_shstrndx past the table), shoff-wraps (e_shoff + the table's size wraps),
names-wrap (the names' offset + size wraps), go (the first name of 13 characters
or more becomes .go.buildinfo: a well-formed Go-looking file).
"""
import struct
import sys

src, dst, how = sys.argv[1:4]
b = bytearray(open(src, "rb").read())
assert b[:5] == b"\x7fELF\x02" and b[5] == 1, "a 64-bit little-endian ELF"
shoff, = struct.unpack_from("<Q", b, 0x28)
shnum, shstrndx = struct.unpack_from("<HH", b, 0x3c)


def sh(i):
    return shoff + 64 * i


stro = sh(shstrndx)
if how == "name-far":
    struct.pack_into("<Q", b, stro + 0x20, 1 << 62)
    struct.pack_into("<I", b, sh(1), 0xfffffff0)
elif how == "shstrndx":
    struct.pack_into("<H", b, 0x3e, 0xfeff)
elif how == "shoff-wraps":
    struct.pack_into("<Q", b, 0x28, (1 << 64) - 64 * shnum + 64)
elif how == "names-wrap":
    struct.pack_into("<QQ", b, stro + 0x18, 64, (1 << 64) - 32)
elif how == "go":
    off, = struct.unpack_from("<Q", b, stro + 0x18)
    for i in range(1, shnum):
        name, = struct.unpack_from("<I", b, sh(i))
        old = b[off + name:b.index(b"\0", off + name)]
        if len(old) >= 13:
            b[off + name:off + name + len(old)] = b".go.buildinfo".ljust(len(old), b"\0")
            break
    else:
        sys.exit("no name long enough")
else:
    sys.exit("unknown HOW " + how)
open(dst, "wb").write(b)
