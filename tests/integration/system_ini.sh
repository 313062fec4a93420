# shellcheck shell=bash
# Sourced by t_system.sh and tests/bench/system.sh: a machine-wide
# /etc/dialshim.ini as an administrator would write it for per-program policy.
#
# system_ini N MATCH PROXY: N [app] sections (N >= 1), each naming two programs
# by name (no path pattern: a path would make every program read /proc/self/exe
# at start), with a few routes, over five proxy dialers; the last app matches
# MATCH and goes through the SOCKS5 proxy PROXY (host:port), all others through
# proxies on addresses nobody uses. default_app = direct: every other program goes
# direct. on_config_error is left to its default (fail_closed) unless
# SYSTEM_ON_ERROR is set.
system_ini() {
    local n=$1 match=$2 proxy=$3 i d
    printf '; /etc/dialshim.ini: per-program policy for the whole machine\n'
    printf '[global]\nlog_level = warn\ndefault_app = direct\n'
    [ -n "${SYSTEM_ON_ERROR:-}" ] && printf 'on_config_error = %s\n' "$SYSTEM_ON_ERROR"
    printf '\n[dialer last]\ntype = socks5\nserver = %s\nhandshake = lockstep\nconnect_timeout = 3s\n' "$proxy"
    for d in 1 2 3 4 5; do
        printf '\n[dialer proxy%d]\ntype = %s\nserver = 192.0.2.%d:%d\nconnect_timeout = 3s\n' \
            "$d" "$([ $((d % 2)) = 0 ] && echo http || echo socks5)" $((200 + d)) $((1080 + d))
    done
    printf '\n[app direct]\ndialer = direct\n'
    for i in $(seq 1 "$n"); do
        if [ "$i" = "$n" ]; then
            printf '\n[app a%02d]\nmatch = %s\ndialer = last\n' "$i" "$match"
        else
            printf '\n[app a%02d]\nmatch = prog%02d, prog%02d-helper\ndialer = proxy%d\n' \
                "$i" "$i" "$i" $((i % 5 + 1))
            printf 'route = cidr:10.%d.0.0/16 -> direct\nroute = port:25 -> block\n' "$i"
        fi
    done
}
