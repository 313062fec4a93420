#!/bin/bash
# Fake addresses shared by all processes of a user (state_dir): a name one process
# resolved can be connected to from another, through the proxy by name; many
# processes resolving and connecting at once get one address per name, and a
# process killed while it works on the table (SIGKILL) leaves it usable; a full
# range refuses new names in every process and keeps the old ones' addresses; a
# file of another version is not read; a full file system under state_dir
# refuses names instead of killing the program (SIGBUS).
# Verified to fail on the code before the shared table: the second process's
# connect to the first one's fake address was refused (EHOSTUNREACH, "fake
# address with no name").
. "$(dirname "$0")/lib.sh"
. "$IT_DIR/proxy_lib.sh"
. "$IT_DIR/names_lib.sh"
names_lab_up
shim_present
NETNS_SRV_ETC=/etc/netns/$SRV
share_down() {
    local rc=$?
    rm -rf "$NETNS_SRV_ETC"
    (exit "$rc")
    names_down
}
trap share_down EXIT
for _i in 1 2 3 4 5; do
    mkdir -p "$NETNS_SRV_ETC" 2>/dev/null &&
        printf '127.0.0.1 localhost\n203.0.113.2 far.example\n' >"$NETNS_SRV_ETC/hosts" 2>/dev/null &&
        break
    sleep 0.1
done
dns_start
srv_start far $FAR4:8081
start_dante dante 1081 none $FAR4
LOG=$T/far.log DL=$T/dante.log
mkdir -m 700 "$T/state"

RDNS=$(write_conf rdns <<EOF
[global]
state_dir = $T/state

[dialer p]
type = socks5
server = $B4_SRV:1081
remote_dns = true

[app all]
match = *
dialer = p
EOF
)
FK=$(write_conf fk <<EOF
[global]
state_dir = $T/state

[resolver fk]
servers = 192.0.2.2
mode = fake_ip
timeout = 2s

[dialer main]
type = direct
domain_resolver = fk

[app all]
match = *
dialer = main
EOF
)
RESOLVE='import socket, sys; print("addr=" + socket.getaddrinfo(sys.argv[1], 8081, socket.AF_INET, socket.SOCK_STREAM)[0][4][0])'
CONNECT='import socket, sys
try:
    c = socket.create_connection((sys.argv[1], 8081), timeout=5)
    c.sendall(b"hello\n"); print("reply=" + c.recv(100).decode().strip())
except OSError as e:
    print("error=%s" % e.errno)'

case_begin "one process resolves, another connects: through the proxy by name"
out=$(shim "$RDNS" "$PY" -c "$RESOLVE" far.example)
fake=$(kv "$out" addr)
assert_match "$fake" '^198\.1[89]\.' "the first process's fake address"
out=$(shim "$RDNS" "$PY" -c "$CONNECT" "$fake")
assert_eq "$(kv "$out" reply)" "you are $FAR4" "the second process's reply (dante's address)"
assert_saw "$LOG" $FAR4 "far server"
assert_match "$(cat "$DL")" "tcp/connect .* -> .*$FAR4\.8081" "dante connected"
assert_eq "$(dns_queries | wc -l)" 0 "queries dnsmasq saw"
out=$(shim "$RDNS" "$PY" -c "$RESOLVE" far.example)
assert_eq "$(kv "$out" addr)" "$fake" "a third process gets the same address"

case_begin "explain says where the table is"
out=$("$DIALSHIM" explain -c "$RDNS" far.example 8081 2>&1)
assert_match "$out" "fake addresses: one table for every process of this user and configuration, in $T/state/fakes-v[0-9]*-" "explain"

case_begin "50 processes resolve and connect at once, one killed mid-way: the others complete"
: >"$LOG"
# the victim adds names to the shared table again and again (a new name each time)
in_cli timeout 20 env LD_PRELOAD="$SHIM" DIALSHIM_CONFIG="$FK" sh -c 'echo $$ >"$0"; exec "$@"' \
    "$T/victim.pid" "$PY" -c '
import socket
for i in range(100000):
    try:
        socket.getaddrinfo("v%d.www.example" % i, 80, socket.AF_INET)
    except OSError:
        pass' &
vwrap=$!
sleep 0.3
victim=$(cat "$T/victim.pid")
pids=()
for i in $(seq 1 50); do
    in_cli timeout 20 env LD_PRELOAD="$SHIM" DIALSHIM_CONFIG="$FK" "$PY" -c "
import socket
a = socket.getaddrinfo('www.example', 8081, socket.AF_INET, socket.SOCK_STREAM)[0][4][0]
b = socket.getaddrinfo('n$i.www.example', 8081, socket.AF_INET, socket.SOCK_STREAM)[0][4][0]
c = socket.create_connection((b, 8081), timeout=5)
c.sendall(b'hello\n')
print('shared=' + a, 'reply=' + c.recv(100).decode().strip())
" >"$T/p$i.out" 2>"$T/p$i.err" &
    pids+=($!)
    [ "$i" = 25 ] && kill -KILL "$victim" 2>/dev/null
    :
done
kill -KILL "$victim" 2>/dev/null
wait "$vwrap"
assert_eq "$?" 137 "the victim died of SIGKILL"
ok=0
for p in "${pids[@]}"; do wait "$p" && ok=$((ok + 1)); done
assert_eq "$ok" 50 "processes that completed"
assert_eq "$(cat "$T"/p*.out | grep -c "reply=you are $A4_CLI")" 50 "replies from the far server"
assert_eq "$(cat "$T"/p*.out | sed -n 's/.*shared=\([^ ]*\).*/\1/p' | sort -u | wc -l)" 1 "addresses www.example got"
assert_eq "$(peers "$LOG" | wc -l)" 50 "connections the far server saw"
for i in $(seq 1 50); do
    grep -q "reply=you are" "$T/p$i.out" || note "p$i: $(cat "$T/p$i.out" "$T/p$i.err" | tr '\n' '|' | cut -c1-600)"
done

case_begin "a /30 shared by processes: the third name is EAI_AGAIN in another process, the first address keeps its name"
mkdir -m 700 "$T/tiny"
TINY=$(sed "s|^state_dir = .*|state_dir = $T/tiny\nfake_ip_range = 198.18.0.0/30|" "$RDNS" | write_conf tiny)
GAI='import socket, sys
try:
    print("addr=" + socket.getaddrinfo(sys.argv[1], 8081, socket.AF_INET, socket.SOCK_STREAM)[0][4][0])
except socket.gaierror as e:
    print("gai=%d" % e.errno)'
: >"$LOG"
: >"$DL"
: >"$DNS_LOG"
a=$(kv "$(shim "$TINY" "$PY" -c "$GAI" far.example)" addr)
b=$(kv "$(shim "$TINY" "$PY" -c "$GAI" b.www.example)" addr)
assert_eq "$a $b" "198.18.0.1 198.18.0.2" "the two addresses, one per process"
out=$(in_cli timeout "$CTMO" env LD_PRELOAD="$SHIM" DIALSHIM_CONFIG="$TINY" DIALSHIM_LOG=info \
    "$PY" -c "$GAI" c.www.example 2>"$T/tiny.err")
assert_eq "$(kv "$out" gai)" -3 "a third process's new name: EAI_AGAIN"
assert_match "$(cat "$T/tiny.err")" "all 2 IPv4 addresses of the shared table were handed out: c.www.example refused" "its log line"
out=$(shim "$TINY" "$PY" -c "$CONNECT" 198.18.0.1)
assert_eq "$(kv "$out" reply)" "you are $FAR4" "a fourth process connects to the first address: far.example's reply"
assert_match "$(cat "$DL")" "tcp/connect .* -> .*$FAR4\.8081" "dante connected to far.example"
assert_eq "$(grep -c "c\.www\.example" "$DL")" 0 "dante never heard of c.www.example"
assert_eq "$(dns_queries | wc -l)" 0 "queries dnsmasq saw"

case_begin "a table file of another version is not read: the process keeps its own table and says so"
mkdir -m 700 "$T/other"
OTHER=$(sed "s|^state_dir = .*|state_dir = $T/other|" "$RDNS" | write_conf other)
a=$(kv "$(shim "$OTHER" "$PY" -c "$GAI" far.example)" addr)
file=$("$DIALSHIM" explain -c "$OTHER" far.example 8081 2>&1 | sed -n 's/.* in \([^ ]*\) (addresses.*/\1/p')
assert_match "$file" "^$T/other/fakes-v[0-9]*-" "the table's file"
# the header's version (bytes 16..19) made another one's
printf '\377\377\377\177' | dd of="$file" bs=1 seek=16 conv=notrunc status=none
out=$(in_cli timeout "$CTMO" env LD_PRELOAD="$SHIM" DIALSHIM_CONFIG="$OTHER" DIALSHIM_LOG=info \
    "$PY" -c "$CONNECT" "$a" 2>"$T/other.err")
assert_eq "$(kv "$out" error)" 113 "a connect to the first process's address: EHOSTUNREACH (the file is not read)"
assert_match "$(cat "$T/other.err")" "another version or configuration made it" "the log line"
out=$(shim "$OTHER" "$PY" -c "$RESOLVE; print('reply=' + socket.create_connection((sys.argv[1], 8081), timeout=5).makefile().readline().strip())" far.example)
assert_eq "$(kv "$out" reply)" "you are $FAR4" "names still resolve and connect (the process's own table)"

case_begin "a full file system under state_dir: new names are refused (EAI_AGAIN, logged), no SIGBUS"
# state_dir on a 512 KiB tmpfs of a mount namespace of its own: the table's
# index, metadata and first names fit, a few more chunks of names, then none.
mkdir -m 700 "$T/small"
SMALL=$(write_conf small <<EOF
[global]
state_dir = $T/small/d
fake_ip_range = 198.18.0.0/20
fake_ip6_range = fc00::/116

[resolver f]
mode = fake_ip

[dialer d]
type = direct
domain_resolver = f

[app all]
match = *
dialer = d
EOF
)
MANY='import socket
n = 0
try:
    for i in range(4000):
        socket.getaddrinfo("m%d.www.example" % i, 80, socket.AF_INET)
        n += 1
    print("names=%d" % n)
except socket.gaierror as e:
    print("names=%d\ngai=%d" % (n, e.errno))'
out=$(in_cli timeout "$CTMO" unshare -m --propagation private sh -c '
    mount -t tmpfs -o size=512k,mode=700 tmpfs "$0" && mkdir -m 700 "$0/d" && exec "$@"' "$T/small" \
    env LD_PRELOAD="$SHIM" DIALSHIM_CONFIG="$SMALL" DIALSHIM_LOG=info "$PY" -c "$MANY" 2>"$T/small.err")
rc=$?
note "$(tail -n 3 "$T/small.err" | tr '\n' '|' | cut -c1-400)"
assert_eq "$rc" 0 "the program's exit status (135 would be SIGBUS)"
assert_eq "$(kv "$out" gai)" -3 "the name past the full file system: EAI_AGAIN"
assert_match "$(kv "$out" names)" '^[0-9]{3,}$' "names that got an address before"
assert_match "$(cat "$T/small.err")" "the shared table's file cannot grow .*refused" "the log line"

case_begin "without a state_dir each process keeps its own table, and explain says so"
NOSTATE=$(sed 's/^state_dir = .*/state_dir =/' "$RDNS" | write_conf nostate)
out=$(shim "$NOSTATE" "$PY" -c "$RESOLVE" far.example)
fake=$(kv "$out" addr)
out=$(shim "$NOSTATE" "$PY" -c "$CONNECT" "$fake")
assert_eq "$(kv "$out" error)" 113 "the other process: EHOSTUNREACH"
out=$("$DIALSHIM" explain -c "$NOSTATE" far.example 8081 2>&1)
assert_match "$out" "fake addresses: each process has its own table" "explain"

case_begin "a state_dir this user cannot use (another user's): names still resolve, each process keeps its own table"
# $T/state is root's, mode 700: to nobody it is no state_dir at all. The shim and
# the file are copied where nobody may read them.
mkdir -p "$T/pub" && chmod 711 "$T" && chmod 755 "$T/pub"
cp "$SHIM" "$T/pub/libdialshim.so" && cp "$RDNS" "$T/pub/rdns.ini" && chmod 644 "$T/pub/rdns.ini"
: >"$DNS_LOG"
: >"$LOG"
out=$(in_cli timeout "$CTMO" setpriv --reuid=65534 --regid=65534 --clear-groups \
    env LD_PRELOAD="$T/pub/libdialshim.so" DIALSHIM_CONFIG="$T/pub/rdns.ini" DIALSHIM_LOG=info \
    "$PY" -c "$RESOLVE; print('reply=' + socket.create_connection((sys.argv[1], 8081), timeout=5).makefile().readline().strip())" far.example 2>"$T/nobody.err")
note "$(tr '\n' '|' <"$T/nobody.err" | cut -c1-400)"
assert_match "$(kv "$out" addr)" '^198\.1[89]\.' "the fake address"
assert_match "$(cat "$T/nobody.err")" "state_dir unusable .*this process's own" "the log line"
assert_eq "$(kv "$out" reply)" "you are $FAR4" "the reply (dante's address)"
assert_saw "$LOG" $FAR4 "far server"
assert_eq "$(dns_queries | wc -l)" 0 "queries dnsmasq saw"

finish
