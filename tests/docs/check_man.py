#!/usr/bin/python3
"""The manual pages against the code (run by `make doccheck`, part of `make check`).

- dialshim.ini(5) documents exactly the keys the parser knows, section by section:
  the key tables `[conf_]<kind>_keys[]` of conf/*.c against the `.TP` entries whose
  first line is "\\fBkey\\fR = ..." under the `.SS "[kind ..."` heading of the page.
  A key added to the parser without a manual entry fails, and so does an entry for
  a key the parser does not take.
- dialshim(1) names every verb and option of tools/dialshim.c and every
  DIALSHIM_* variable the shim reads (a "DIALSHIM_..." string in common/ or shim/).
- Every INI example of dialshim.ini(5) passes `dialshim check`, and the
  "ok: ..." line the page shows for the first one is what the tool prints.
- groff renders both pages without a warning (groff -man -ww -z).
- docs/architecture.md names only what exists: every `lower_case_name` it quotes is
  a word of the sources (c-ares's own ares_* names excepted) and every quoted
  path (`common/x.c`, `tests/...`) is a file, so a rename that forgets the page fails.

    python3 tests/docs/check_man.py [build/dialshim]

KEYS_C and STATE_C (files separated by spaces), INI_PAGE, TOOL_PAGE and TOOL_C override
the files read (to show that a mismatch fails).
"""
import os
import re
import subprocess
import sys
import tempfile
import glob

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def path(var, rel):
    return os.environ.get(var) or os.path.join(ROOT, rel)


def read(p):
    with open(p, encoding="utf-8") as f:
        return f.read()


def parser_keys(src):
    """{kind: {key}} from the key_def tables (struct key_def [conf_]KIND_keys[] = {...})."""
    out = {}
    tables = re.findall(r"struct key_def\s+(?:conf_)?(\w+?)_keys\[\]\s*=\s*\{(.*?)\n\};", src, re.S)
    for kind, body in tables:
        out.setdefault(kind, set()).update(re.findall(r"\{\s*\"([a-z0-9_]+)\"\s*,", body))
    return out


def keys_sources():
    """The parser's sources: conf/*.c, or the files KEYS_C names."""
    if os.environ.get("KEYS_C"):
        return os.environ["KEYS_C"].split()
    return sorted(glob.glob(os.path.join(ROOT, "conf", "*.c")))


def documented_keys(page):
    """{kind: {key}} from the .TP entries under each .SS "[kind NAME]" heading."""
    out, kind, prev = {}, None, ""
    for line in page.splitlines():
        if line.startswith(".SH"):
            kind = None
        elif line.startswith(".SS"):
            m = re.match(r'\.SS\s+"?\[([a-z]+)', line)
            kind = m.group(1) if m else None
            if kind:
                out.setdefault(kind, set())
        elif kind and prev.startswith(".TP"):
            m = re.match(r"\\fB([a-z0-9_]+)\\fR\s*=", line)
            if m:
                out[kind].add(m.group(1))
        prev = line
    return out


def compare_keys(errors):
    code = parser_keys("\n".join(read(p) for p in keys_sources()))
    doc = documented_keys(read(path("INI_PAGE", "man/dialshim.ini.5")))
    if not code:
        errors.append("conf/*.c: no key_def tables found: update tests/docs/check_man.py")
    for kind in sorted(set(code) | set(doc)):
        for key in sorted(code.get(kind, set()) - doc.get(kind, set())):
            errors.append("dialshim.ini(5): [%s] key '%s' (the parser's table in conf/) is "
                          "not documented" % (kind, key))
        for key in sorted(doc.get(kind, set()) - code.get(kind, set())):
            errors.append("dialshim.ini(5): [%s] key '%s' is documented but the parser "
                          "(conf/) does not take it" % (kind, key))
    return sum(len(v) for v in code.values()), len(code)


def section(page, name):
    """The roff text of one .SH section."""
    m = re.search(r"^\.SH \"?%s\"?\n(.*?)(?=^\.SH |\Z)" % re.escape(name), page, re.S | re.M)
    return m.group(1) if m else ""


def tp_heads(text):
    """The first line after each .TP, roff escapes undone."""
    lines = text.splitlines()
    heads = [lines[i + 1] for i in range(len(lines) - 1) if lines[i].startswith(".TP")]
    return [re.sub(r"\\f[BIRP]|\\&|\"", "", h).replace("\\-", "-") for h in heads]


def compare_tool(errors):
    tool = read(path("TOOL_C", "tools/dialshim.c"))
    page = read(path("TOOL_PAGE", "man/dialshim.1"))
    verbs = set(re.findall(r"strcmp\((?:verb|argv\[optind\]),\s*\"([a-z]+)\"\)", tool))
    m = re.search(r"getopt_long\([^\"]*\"\+?([^\"]*)\"", tool)
    shorts = set(re.sub(r"[:+]", "", m.group(1))) if m else set()
    longs = set(re.findall(r"\{\"([a-z-]+)\",\s*(?:no|required|optional)_argument", tool))
    shim_src = os.environ.get("STATE_C", "").split() or sorted(
        glob.glob(os.path.join(ROOT, "common", "**", "*.c"), recursive=True) +
        glob.glob(os.path.join(ROOT, "shim", "*.c")))
    env = set(re.findall(r"\"(DIALSHIM_[A-Z_]+)\"", "\n".join(read(p) for p in shim_src)))
    if not verbs or not shorts or not longs or not env:
        errors.append("could not find the tool's verbs, options or variables: "
                      "update tests/docs/check_man.py")
    commands = " ".join(tp_heads(section(page, "COMMANDS")))
    options = " ".join(tp_heads(section(page, "OPTIONS")))
    environment = " ".join(tp_heads(section(page, "ENVIRONMENT")))
    for v in sorted(verbs):
        if not re.search(r"(^|\s)%s(\s|$)" % v, commands):
            errors.append("dialshim(1) COMMANDS: verb '%s' is not documented" % v)
    for o in sorted(["-" + s for s in shorts] + ["--" + s for s in longs]):
        if not re.search(r"(^|[\s,])%s([\s,]|$)" % re.escape(o), options):
            errors.append("dialshim(1) OPTIONS: option '%s' is not documented" % o)
    for e in sorted(env):
        if e not in environment:
            errors.append("dialshim(1) ENVIRONMENT: %s is not documented" % e)
    return len(verbs), len(shorts) + len(longs), len(env)


def unroff(text):
    return re.sub(r"\\[-e&]", lambda m: {"-": "-", "e": "\\", "&": ""}[m.group(0)[1]], text)


def check_examples(errors, tool):
    page = read(path("INI_PAGE", "man/dialshim.ini.5"))
    blocks = [unroff(b) for b in re.findall(r"^\.EX\n(.*?)^\.EE$", page, re.S | re.M)]
    examples = [b for b in blocks if b.lstrip().startswith("[")]
    shown = re.search(r"^\$ dialshim check .*\n(ok: .*)$", "\n".join(blocks), re.M)
    if not examples:
        errors.append("dialshim.ini(5): no INI example found")
    with tempfile.TemporaryDirectory() as d:
        for i, text in enumerate(examples):
            f = os.path.join(d, "example-%d.ini" % (i + 1))
            with open(f, "w") as out:
                out.write(text)
            os.chmod(f, 0o600)
            r = subprocess.run([tool, "check", "-c", f], capture_output=True, text=True,
                               timeout=30)
            if r.returncode != 0 or r.stderr:
                errors.append("dialshim.ini(5) example %d: dialshim check says: %s%s"
                              % (i + 1, r.stdout, r.stderr))
            elif i == 0 and shown and r.stdout.strip() != shown.group(1).strip():
                errors.append("dialshim.ini(5) shows '%s' for the first example; the tool "
                              "prints '%s'" % (shown.group(1), r.stdout.strip()))
    return len(examples)


def check_render(errors):
    for p in (path("INI_PAGE", "man/dialshim.ini.5"), path("TOOL_PAGE", "man/dialshim.1")):
        try:
            r = subprocess.run(["groff", "-man", "-ww", "-z", p], capture_output=True, text=True,
                               timeout=30)
        except FileNotFoundError:
            errors.append("groff is not installed (Debian: groff-base)")
            return
        if r.returncode != 0 or r.stderr:
            errors.append("%s: groff warns:\n%s" % (os.path.relpath(p, ROOT), r.stderr))


def check_architecture(errors):
    page = os.path.join(ROOT, "docs", "architecture.md")
    if not os.path.exists(page):
        errors.append("docs/architecture.md is missing")
        return 0
    text = read(page)
    srcs = []
    for pattern in ("common/**/*.[ch]", "conf/*.[ch]", "shim/*", "tools/*", "tests/**/*.*",
                    "Makefile", "man/*"):
        srcs += glob.glob(os.path.join(ROOT, pattern), recursive=True)
    words = set()
    for p in srcs:
        if os.path.isfile(p):
            with open(p, encoding="utf-8", errors="replace") as f:
                words.update(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", f.read()))
    quoted = re.findall(r"`([^`\n]+)`", text)
    # lower_case names, not parts of file names (t_x.sh) nor prefixes (engine_*)
    token = r"(?<![\w./])([a-z][a-z0-9]*_[a-z0-9_]*[a-z0-9])(?![\w./*])"
    names = {m for q in quoted for m in re.findall(token, q)}
    for n in sorted(names):
        if n not in words and not n.startswith("ares_"):
            errors.append("docs/architecture.md quotes '%s', which no source names" % n)
    paths = {q for q in quoted if re.fullmatch(r"[a-z_./-]+/[a-z0-9_.-]+\.(c|h|sh|py|md|map)", q)}
    tree = {os.path.relpath(p, ROOT) for p in srcs}
    for p in sorted(paths):
        if not any(t == p or t.endswith("/" + p) for t in tree):
            errors.append("docs/architecture.md quotes '%s', which is not a file" % p)
    return len(names) + len(paths)


def main():
    tool = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build", "dialshim")
    errors = []
    nkeys, nkinds = compare_keys(errors)
    nverbs, nopts, nenv = compare_tool(errors)
    nex = check_examples(errors, tool)
    check_render(errors)
    narch = check_architecture(errors)
    for e in errors:
        print("docs: " + e)
    if errors:
        print("docs: FAILED (%d problems)" % len(errors))
        return 1
    print("docs: ok: %d keys in %d section types, %d verbs, %d options, %d variables, "
          "%d examples checked, both pages render cleanly, %d names of the architecture found"
          % (nkeys, nkinds, nverbs, nopts, nenv, nex, narch))
    return 0


if __name__ == "__main__":
    sys.exit(main())
