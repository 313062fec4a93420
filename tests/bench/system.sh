#!/bin/bash
# Bench part: the system-wide mode's start-up cost (issue 16 item 5). Prints
# markdown rows on stdout, details on stderr.
#
# /bin/true, which no app matches, spawned bare, under the shim, under an empty
# preloaded library linked with the compiler's default flags (the floor of any
# preload), under an empty library linked with the shim's own flags (`make
# shim-ldflags`: the floor of ours; the rest is what the shim's size and its
# constructor cost) and under the shim with a two-line file (its cost whatever
# the file), interleaved run by run (startbench.c). The configuration is where a machine-wide one lives:
# /etc/dialshim.ini, 50 [app] sections (tests/integration/system_ini.sh,
# default_app = direct), found by the shim's own lookup (no DIALSHIM_CONFIG, a
# HOME without a per-user file). /etc is an overlay inside a mount namespace of
# this run's own (unshare -m, private propagation; upper layer in $BT): the
# host's /etc is never written. The library comes by LD_PRELOAD, not
# /etc/ld.so.preload, so that the bare variant runs without it; the loader maps
# it the same way either way.
#
# The target (<= 1.05) is judged on the child's CPU time (user + system, from
# wait4: exact, and blind to the wait for a CPU that dominates the wall time on
# a loaded machine); the wall-time ratio is reported beside it.
set -u
. "$(dirname "$0")/lib.sh"
. "$ROOT/tests/integration/system_ini.sh"

N=${BENCH_SYSTEM_STARTS:-1500}
cc -O2 -Wall -Wextra -Werror -o "$BT/startbench" "$BENCH_DIR/startbench.c" || exit 1
echo 'int dialshim_bench_empty;' >"$BT/empty.c"
cc -O2 -shared -fPIC -o "$BT/empty.so" "$BT/empty.c" || exit 1
flags=$(make -s -C "$ROOT" shim-ldflags) || exit 1
(cd "$ROOT" && cc -O2 -shared -fPIC -o "$BT/empty-ours.so" "$BT/empty.c" $flags) || exit 1
mkdir -p "$BT/up" "$BT/work" "$BT/home"
system_ini 50 curl 192.0.2.250:1080 >"$BT/up/dialshim.ini"
printf '[global]\nlog_level = warn\n' >"$BT/tiny.ini"

unshare -m --propagation private sh -c '
    mount -t overlay overlay -o "lowerdir=/etc,upperdir=$1,workdir=$2" /etc || exit 97
    shift 2
    exec "$@"' sh "$BT/up" "$BT/work" \
    env -u DIALSHIM_CONFIG -u DIALSHIM_APP -u DIALSHIM_LOG -u XDG_CONFIG_HOME HOME="$BT/home" \
    "$BT/startbench" "$N" /bin/true "$SHIM" "$BT/empty.so" "DIALSHIM_CONFIG=$BT/tiny.ini@$SHIM" "$BT/empty-ours.so" \
    >"$BT/start" || {
    echo "<!-- system: startbench failed -->"
    exit 1
}
cat "$BT/start" >&2
f() { awk -v v="$1" -v k="$2" '$1 == "variant=" v { for (i = 2; i <= NF; i++) { split($i, a, "="); if (a[1] == k) print a[2] } }' "$BT/start"; }
cpu=$(f 1 cpu_ratio) wall=$(f 1 ratio)
row "process start, /bin/true matched by no app of a 50-app /etc/dialshim.ini (default_app = direct, found in /etc): bare vs under the shim, child's CPU time (median of $N per-run ratios, runs interleaved)" \
    "$(f 0 cpu_us) us" "$(f 1 cpu_us) us" "$cpu" "<= 1.05" "$(yesno "$cpu <= 1.05")"
row "the same, wall time from spawn to exit" "$(f 0 median_us) us" "$(f 1 median_us) us" "$wall" "report" yes
row "the same, an empty preloaded library instead of the shim (the floor of any LD_PRELOAD): CPU time, wall time" \
    "$(f 0 cpu_us) us" "$(f 2 cpu_us) us" "$(f 2 cpu_ratio), $(f 2 ratio)" "report" yes
row "the same, an empty library linked with the shim's flags (make shim-ldflags: the floor of ours, the rest of the shim's figure is its size and its constructor): CPU time, wall time" \
    "$(f 0 cpu_us) us" "$(f 4 cpu_us) us" "$(f 4 cpu_ratio), $(f 4 ratio)" "report" yes
row "the same, the shim with a two-line file (DIALSHIM_CONFIG) instead of the 50 apps: what the shim costs whatever the file: CPU time, wall time" \
    "$(f 0 cpu_us) us" "$(f 3 cpu_us) us" "$(f 3 cpu_ratio), $(f 3 ratio)" "report" yes
row "the same, page faults per start (median, from wait4; on a virtual machine each costs about ten system calls, and the count hardly moves with the machine's load): bare vs the shim; then the empty preload, the shim with the two-line file and the empty library with the shim's flags" \
    "$(f 0 faults)" "$(f 1 faults)" "$(f 2 faults), $(f 3 faults), $(f 4 faults)" "report" yes
