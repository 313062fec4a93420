#!/bin/bash
# The Debian package (make deb), installed the way dpkg would lay it out but into
# a throw-away root (dpkg -x into the lab's temporary directory: the host's /usr
# and /etc are never touched), then used from there: the installed tool must find
# the installed library (not build/'s), carry curl through a SOCKS5 proxy in the
# lab, and the library must load the system's c-ares only when a lookup through
# a [resolver] needs it (the package links c-ares dynamically, CARES=shared).
# Run by `make debcheck` (after `make deb`); DEB=path picks another .deb.
. "$(dirname "$0")/../integration/lib.sh"
. "$IT_DIR/proxy_lib.sh"
. "$IT_DIR/names_lib.sh"

ARCH=$(dpkg --print-architecture)
MA=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || echo x86_64-linux-gnu)
DEB=${DEB:-$(ls -t "$ROOT"/build/debs/dialshim_*_"$ARCH".deb 2>/dev/null | head -n 1)}
[ -f "$DEB" ] || { echo "FAIL - deb: no package (run make deb first, or DEB=path)"; exit 1; }
ROOTFS=$T/root
LIB=$ROOTFS/usr/lib/$MA/libdialshim.so
TOOL=$ROOTFS/usr/bin/dialshim

names_lab_up
dns_start
srv_start web --http $FAR4:8080
start_microsocks ms $B4_SRV 1080
WLOG=$T/web.log MS=$T/ms.log

case_begin "the package unpacks to the Debian layout, /etc/dialshim.ini a conffile"
dpkg -x "$DEB" "$ROOTFS"
for f in usr/bin/dialshim "usr/lib/$MA/libdialshim.so" usr/share/man/man1/dialshim.1.gz \
    usr/share/man/man5/dialshim.ini.5.gz etc/dialshim.ini usr/share/doc/dialshim/copyright; do
    [ -f "$ROOTFS/$f" ] || fail "missing /$f"
done
assert_eq "$(dpkg-deb -f "$DEB" Package)" dialshim "package name"
assert_match "$(dpkg-deb -f "$DEB" Depends)" "libc-ares2" "Depends names c-ares (loaded at run time)"
assert_eq "$(dpkg-deb --ctrl-tarfile "$DEB" | tar -xOf - ./conffiles)" /etc/dialshim.ini "conffiles"
assert_no_match "$(readelf -d "$LIB")" "NEEDED.*libcares" "the library does not load c-ares at start"
assert_match "$(readelf -d "$LIB")" "SONAME.*libdialshim\.so" "soname"

case_begin "the installed tool checks the shipped /etc/dialshim.ini (it changes nothing)"
out=$("$TOOL" check -c "$ROOTFS/etc/dialshim.ini" 2>&1)
assert_eq "$?" 0 "dialshim check exit status ($out)"

case_begin "the installed tool preloads the installed library, not another one"
out=$(in_cli timeout "$CTMO" "$TOOL" -c "$ROOTFS/etc/dialshim.ini" -- sh -c 'echo "$LD_PRELOAD"')
assert_eq "$out" "$LIB" "LD_PRELOAD inside the command"

CONF=$(proxy_conf deb socks5 $B4_SRV:1080 <<<'connect_timeout = 3s')
case_begin "installed dialshim -- curl goes through the SOCKS5 proxy"
out=$(in_cli timeout "$CTMO" "$TOOL" -c "$CONF" -- curl -sS --max-time 5 http://$FAR4:8080/ 2>&1)
assert_eq "$?" 0 "curl exit status ($out)"
assert_eq "$out" "you are $FAR4" "page (the proxy's address, as the web server saw it)"
assert_saw "$WLOG" $FAR4 "web server"
assert_match "$(cat "$MS")" "$B4_CLI: connected to $FAR4:8080" "microsocks log"

NAMES=$(write_conf names <<EOF
[resolver lab]
servers = 192.0.2.2
timeout = 1s

[dialer main]
type = direct
domain_resolver = lab

[app all]
match = *
dialer = main
EOF
)
# python3 prints whether libcares is mapped before and after one lookup
MAPS='import socket
def cares():
    return any("libcares" in l for l in open("/proc/self/maps"))
print("before=%d" % cares())
a = socket.getaddrinfo("www.example", 80, socket.AF_INET, socket.SOCK_STREAM)
print("addr=%s" % a[0][4][0])
print("after=%d" % cares())'
case_begin "a lookup through [resolver lab] loads the system's c-ares then, not at start"
out=$(in_cli timeout "$CTMO" "$TOOL" -c "$NAMES" -- $PY -c "$MAPS" 2>&1)
assert_eq "$?" 0 "python3 exit status ($out)"
assert_eq "$(kv "$out" before)" 0 "libcares mapped before the first lookup"
assert_eq "$(kv "$out" addr)" "$FAR4" "www.example's address"
assert_eq "$(kv "$out" after)" 1 "libcares mapped after it"
assert_match "$(dns_queries)" "query\[A\] www\.example from $A4_CLI" "dnsmasq got the query"

case_begin "the c-ares the library loads binds its libc calls to libc, not to the shim's hooks (RTLD_DEEPBIND)"
in_cli timeout "$CTMO" env LD_DEBUG=bindings LD_DEBUG_OUTPUT="$T/ld" "$TOOL" -c "$NAMES" -- \
    $PY -c "$MAPS" >/dev/null 2>&1
b=$(cat "$T"/ld.* 2>/dev/null | grep "binding file [^ ]*libcares")
note "$(printf '%s\n' "$b" | grep -c .) bindings of libcares"
assert_match "$b" "to [^ ]*libc\.so\.6 .*symbol .(connect|socket|close|recvfrom)'" "a hooked name bound to libc"
assert_no_match "$b" "to [^ ]*libdialshim" "a libcares binding into the shim"

finish
