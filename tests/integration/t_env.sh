#!/bin/bash
# Shell mode (dialshim(1) env, shell): `eval "$(dialshim env -c FILE)"` puts the
# shell's later commands under the shim (the proxy and the far server see curl come
# through microsocks), `eval "$(dialshim env --off)"` takes it out again (the far
# server sees the client itself, the proxy nothing new), and a library already in
# LD_PRELOAD stays loaded through both. The configuration's path holds a space and a
# quote: the export lines must give it back exactly. `dialshim shell` runs a here-doc
# script under the shim with the prompt marked. An invalid file prints nothing on
# stdout (eval changes nothing) and exits 2.
# Verified to fail without the tool (DIALSHIM=/nonexistent): no export lines, every
# curl goes direct, the shell case's curl never runs.
. "$(dirname "$0")/lib.sh"
. "$IT_DIR/proxy_lib.sh"
lab_up
shim_present
srv_start web --http $FAR4:8080
start_microsocks ms $B4_SRV 1090
WLOG=$T/web.log MS=$T/ms.log
OTHER=/lib/x86_64-linux-gnu/libdl.so.2 # a harmless library to preload besides ours
CURL="curl -sS --max-time 5 -o /dev/null -w %{http_code} http://$FAR4:8080/"

DIR="$T/dir with 'quote\" \$x"
mkdir -p "$DIR"
CONF="$DIR/f.ini"
proxy_conf env socks5 $B4_SRV:1090 <<<'connect_timeout = 3s' >/dev/null
mv "$T/env.ini" "$CONF"
BAD=$(write_conf bad <<<'oops')

# A clean bash in the client namespace runs the script on stdin; it prints
# key=value lines. libs: which of the two libraries a process has mapped.
in_bash() { in_cli timeout 20 env -i PATH="$PATH" HOME=/nonexistent LD_PRELOAD="$OTHER" \
    DIALSHIM="$DIALSHIM" CONF="$CONF" CURL="$CURL" bash -s 2>"$T/bash.err"; }

case_begin "env: eval puts curl under the shim, env --off takes it out, the other preload stays"
out=$(in_bash <<'EOF'
export DIALSHIM_APP=left-from-before
libs() { grep -oE '(libdl\.so\.2|libdialshim\.so)$' /proc/self/maps | sort -u | tr '\n' ' '; }
eval "$("$DIALSHIM" env -c "$CONF")"
echo "config=$DIALSHIM_CONFIG"
echo "app=${DIALSHIM_APP-unset}"
echo "on_preload=$LD_PRELOAD"
echo "on_maps=$(libs)"
echo "on_code=$($CURL)"
eval "$("$DIALSHIM" env --off)"
echo "off_preload=$LD_PRELOAD"
echo "off_config=${DIALSHIM_CONFIG-unset}"
echo "off_maps=$(libs)"
echo "off_code=$($CURL)"
EOF
)
note "$(printf '%s' "$out" | tr '\n' '|') $(head -c 300 "$T/bash.err")"
assert_eq "$(kv "$out" config)" "$CONF" "DIALSHIM_CONFIG after eval (a path with a space and quotes)"
assert_eq "$(kv "$out" app)" unset "DIALSHIM_APP exported before, env without -p"
assert_eq "$(kv "$out" on_preload)" "$SHIM:$OTHER" "LD_PRELOAD after env"
assert_eq "$(kv "$out" on_maps)" "libdialshim.so libdl.so.2 " "libraries loaded after env"
assert_eq "$(kv "$out" on_code)" 200 "curl's answer under the shim"
assert_eq "$(kv "$out" off_preload)" "$OTHER" "LD_PRELOAD after env --off"
assert_eq "$(kv "$out" off_config)" unset "DIALSHIM_CONFIG after env --off"
assert_eq "$(kv "$out" off_maps)" "libdl.so.2 " "libraries loaded after env --off"
assert_eq "$(kv "$out" off_code)" 200 "curl's answer without the shim"
assert_eq "$(count_lines "$MS" "$B4_CLI: connected to $FAR4:8080")" 1 "connects the proxy saw (the first curl only)"
assert_saw "$WLOG" "$FAR4 $A4_CLI" "web server: the proxy, then the client itself"
: >"$MS"

case_begin "shell: a here-doc script runs under the shim, the prompt marked"
out=$(in_cli timeout 20 env -i PATH="$PATH" HOME=/nonexistent SHELL=/bin/sh \
    "$DIALSHIM" shell -c "$CONF" 2>"$T/shell.err" <<EOF
echo "ps1=\$PS1"
echo "code=\$($CURL)"
EOF
)
note "$(printf '%s' "$out" | tr '\n' '|') $(head -c 300 "$T/shell.err")"
assert_eq "$(kv "$out" ps1)" '(dialshim) $ ' "PS1 in the shell"
assert_eq "$(kv "$out" code)" 200 "curl's answer"
assert_eq "$(count_lines "$MS" "$B4_CLI: connected to $FAR4:8080")" 1 "connects the proxy saw"
assert_saw "$WLOG" "$FAR4" "web server: the proxy"
: >"$MS"

case_begin "env with an invalid file: nothing on stdout, exit 2, the problem on stderr"
out=$(in_cli timeout 10 "$DIALSHIM" env -c "$BAD" 2>"$T/bad.err")
rc=$?
assert_eq "$rc" 2 "exit status"
assert_eq "$out" "" "stdout"
assert_match "$(cat "$T/bad.err")" "bad.ini:1: " "stderr"
finish
