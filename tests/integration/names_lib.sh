# shellcheck shell=bash
# Sourced after lib.sh by t_names_*.sh: a real dnsmasq in the server namespace is
# the only working DNS server; the client namespace's resolv.conf names a dead
# address (ip netns exec bind-mounts /etc/netns/$CLI/resolv.conf over
# /etc/resolv.conf), so a name resolves only through the shim's own resolver.
#
# Safety: dnsmasq listens on 192.0.2.2 and 203.0.113.2 inside the server namespace
# only, answers names under .example from its command line (--local=/example/: any
# other .example name is NXDOMAIN) and forwards nothing (--no-resolv). The file
# under /etc/netns carries this run's namespace name and the EXIT trap removes it.

DNSMASQ=/usr/sbin/dnsmasq
NAMES_CLIENT=$IT_DIR/names_client.py
NETNS_ETC=/etc/netns/$CLI
DNS_LOG=$T/dnsmasq.log
DEAD_DNS=192.0.2.99 # on link A's subnet, nobody there: no answer, no ICMP

names_down() {
    local rc=$?
    rm -rf "$NETNS_ETC"
    rmdir /etc/netns 2>/dev/null
    (exit "$rc")
    lab_down
}

# names_lab_up: the lab, and the client namespace's dead resolv.conf. A bare
# lookup waits for it once (timeout:2), so the timing cases tell the two apart.
names_lab_up() {
    [ -x "$DNSMASQ" ] || { echo "FAIL - names: $DNSMASQ not installed (make deps)"; exit 1; }
    lab_up || exit 1
    trap names_down EXIT
    # retried: a parallel test's names_down may rmdir an empty /etc/netns between
    # our two mkdirs
    local i
    for i in 1 2 3 4 5; do
        mkdir -p "$NETNS_ETC" 2>/dev/null &&
            printf 'nameserver %s\noptions timeout:2 attempts:1\n' "$DEAD_DNS" \
                >"$NETNS_ETC/resolv.conf" 2>/dev/null && break
        sleep 0.1
    done
    [ -f "$NETNS_ETC/resolv.conf" ] || { echo "FAIL - names: cannot write $NETNS_ETC/resolv.conf"; exit 1; }
}

# dns_start [dnsmasq options]: dnsmasq on 192.0.2.2:53 and 203.0.113.2:53, logging
# each query with its source to $DNS_LOG; www.example is 203.0.113.2 and
# 2001:db8:f::2 (and so is every name below it). Waits (bounded) until it answers.
dns_start() {
    : >"$DNS_LOG"
    in_srv timeout 150 "$DNSMASQ" --no-daemon --conf-file=/dev/null --no-resolv --no-hosts \
        --pid-file= --user=root --group=root --bind-interfaces \
        --listen-address=192.0.2.2 --listen-address=203.0.113.2 \
        --log-queries=extra --log-facility="$DNS_LOG" --local=/example/ \
        --address=/www.example/203.0.113.2 --address=/www.example/2001:db8:f::2 \
        "$@" 2>"$T/dnsmasq.err" &
    BG_PIDS+=($!)
    wait_listen "$SRV" udp 192.0.2.2 53 && wait_listen "$SRV" udp 203.0.113.2 53
}

# dns_queries: the "query[TYPE] NAME from IP" lines dnsmasq logged so far.
dns_queries() { grep -o 'query\[[A-Z]*\] [^ ]* from [0-9a-f.:]*' "$DNS_LOG" 2>/dev/null; }

# names CONF ARGS...: names_client.py through the shim; bare_names ARGS...: without.
names() {
    local conf=$1
    shift
    shim "$conf" "$PY" "$NAMES_CLIENT" "$@"
}
bare_names() { bare "$PY" "$NAMES_CLIENT" "$@"; }
