#!/bin/bash
# Old libc calls that connect and look names up inside libc, where no hook sees
# them: rcmd(3) and rexec(3) (libc's own connect and getaddrinfo) and
# getnetbyname(3) (NSS "networks", here answered by DNS: nsswitch.conf in the
# client namespace says `networks: dns`). They go ahead only when every destination
# of the app goes direct with no option to set; otherwise they fail as for an
# unknown host or network, with a log line, and nothing leaves.
# Verified to fail on the library before these hooks: the far server saw rcmd and
# rexec connect from link A past the block rule, and dnsmasq saw the PTR query of
# getnetbyname under a SOCKS5 proxy with remote_dns.
. "$(dirname "$0")/lib.sh"
. "$IT_DIR/names_lib.sh"
names_lab_up
shim_present
dns_start
printf 'nameserver %s\noptions timeout:1 attempts:1\n' "$A4_SRV" >"$NETNS_ETC/resolv.conf"
printf 'hosts: files\nnetworks: dns\n' >"$NETNS_ETC/nsswitch.conf"
srv_start far $FAR4:8081 $FAR4:8082
LOG=$T/far.log
LEGACY=$IT_DIR/legacy_client.py

BLOCK=$(write_conf block <<EOF2
[global]
log_file = $T/block.log

[app all]
match = *
route = port:8081 -> block
EOF2
)
PROXY=$(write_conf proxy <<EOF2
[global]
log_file = $T/proxy.log

[dialer p]
type = socks5
server = $B4_SRV:1080
remote_dns = true

[app all]
match = *
dialer = p
EOF2
)
PLAIN=$(write_conf plain <<'EOF2'
[app all]
match = *
EOF2
)

case_begin "rcmd and rexec under a policy with a block rule: refused (EACCES) and logged, nothing arrives"
bare $PY $LEGACY rcmd:$FAR4:8081 >/dev/null 2>&1
assert_saw "$LOG" $A4_CLI "bare rcmd"
out=$(shim "$BLOCK" $PY $LEGACY rcmd:$FAR4:8081 rexec:$FAR4:8082 2>/dev/null)
assert_eq "$(printf '%s\n' "$out" | grep '^rcmd:' | cut -d' ' -f2-)" "rc=-1 errno=EACCES" "rcmd"
assert_eq "$(printf '%s\n' "$out" | grep '^rexec:' | cut -d' ' -f2-)" "rc=-1 errno=EACCES" "rexec"
assert_match "$(cat "$T/block.log" 2>/dev/null)" 'rcmd_af app=all result=EACCES' "log line"
assert_saw_nothing "$LOG" "far server"

case_begin "getnetbyname and getnetbyname_r under a remote_dns proxy: no network, no query"
: >"$DNS_LOG"
bare $PY $LEGACY net:lab.example >/dev/null 2>&1
assert_match "$(dns_queries | tr '\n' '|')" 'lab\.example from 192\.0\.2\.1' "bare lookup reaches dnsmasq"
: >"$DNS_LOG"
out=$(shim "$PROXY" $PY $LEGACY net:lab.example net_r:lab2.example 2>/dev/null)
assert_eq "$(printf '%s\n' "$out" | grep '^net:' | cut -d' ' -f2-)" "found=0" "getnetbyname"
assert_eq "$(printf '%s\n' "$out" | grep '^net_r:' | cut -d' ' -f2-)" "found=0 rc=2" "getnetbyname_r"
assert_match "$(cat "$T/proxy.log" 2>/dev/null)" 'getnetbyname app=all result=EACCES' "log line"
sleep 0.2
assert_eq "$(dns_queries | tr '\n' '|')" "" "DNS queries seen by dnsmasq"

case_begin "guard: under an all-direct policy with no options they go ahead (rcmd reaches the server, getnetbyname asks DNS)"
: >"$DNS_LOG"
shim "$PLAIN" $PY $LEGACY rcmd:$FAR4:8082 net:lab3.example >/dev/null 2>&1
assert_saw "$LOG" $A4_CLI "rcmd"
assert_match "$(dns_queries | tr '\n' '|')" 'lab3\.example from 192\.0\.2\.1' "getnetbyname"

finish
