#!/usr/bin/env python3
"""The rule that modules include downwards (docs/architecture.md, "Rules").

    python3 tools/cycles.py [DIR...]     (default: common conf shim tools)

A module is a .c file and its .h (common/dialer/hop.c and hop.h are one); an edge
is an #include "..." of another module's header. Exit 1, naming each cycle with
the includes that make it, when the graph has one.

The documented exceptions, and why they are not cycles:
  - fakeip and fakerange are one module in two files (the locked tables and the
    lock-free range check);
  - reentry.h is a leaf that low modules read, while reentry.c sits at the top:
    an include of reentry.h is an edge to the leaf, not to reentry.c;
  - a NAME_int.h header is NAME's own (relay_int.h is relay's);
  - conf/ is one module to the rest and is checked on its own terms: its files
    share conf/internal.h.
"""
import os
import re
import sys

SAME = {"common/fakerange": "common/fakeip"}
LEAVES = {"common/reentry.h"}


def module(path):
    stem = os.path.splitext(path)[0]
    if stem.endswith("_int"):
        stem = stem[: -len("_int")]
    if path in LEAVES:
        return path
    if stem.startswith("conf/"):
        return "conf"
    return SAME.get(stem, stem)


def graph(dirs):
    edges = {}
    for d in dirs:
        for root, _, files in os.walk(d):
            for f in sorted(files):
                if not f.endswith((".c", ".h")):
                    continue
                path = os.path.join(root, f)
                src = module(path)
                with open(path, encoding="utf-8") as fh:
                    for n, line in enumerate(fh, 1):
                        m = re.match(r'\s*#\s*include\s+"([^"]+)"', line)
                        if not m or not os.path.exists(m.group(1)):
                            continue
                        dst = module(m.group(1))
                        if dst != src:
                            edges.setdefault(src, {}).setdefault(dst, f"{path}:{n}")
    return edges


def cycles(edges):
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, {}):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def main():
    dirs = sys.argv[1:] or ["common", "conf", "shim", "tools"]
    edges = graph(dirs)
    found = cycles(edges)
    for comp in found:
        print("cycles: these modules include each other: " + ", ".join(comp), file=sys.stderr)
        for a in comp:
            for b, where in sorted(edges.get(a, {}).items()):
                if b in comp:
                    print(f"    {a} -> {b} ({where})", file=sys.stderr)
    if found:
        return 1
    print(f"cycles: {len(edges)} modules, none includes itself through others")
    return 0


if __name__ == "__main__":
    sys.exit(main())
