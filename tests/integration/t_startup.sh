#!/bin/bash
# Start-up: the shim reads its file and the environment when the program starts
# and parses them on the first network call. The policy is the file as it was at
# start, even if the program clears its environment or the file changes before it
# connects; a file that is a FIFO never blocks the start; a program that never
# touches the network hears nothing from the shim, even about a broken file.
# Verified to fail without the shim (SHIM=/nonexistent): the first two cases reach
# the server by link A / connect, the third gets no EACCES.
. "$(dirname "$0")/lib.sh"
lab_up
shim_present
srv_start far $FAR4:8080
LOG=$T/far.log

CFG=$(write_conf viab <<'EOF'
[dialer viab]
type = direct
bind_interface = vb

[app all]
match = *
dialer = viab
EOF
)

case_begin "policy fixed at start: environment cleared, file replaced by a broken one, then connect by link B"
out=$(shim "$CFG" $PY -c '
import os, socket, sys
path = os.environ.pop("DIALSHIM_CONFIG")       # unsetenv too
os.rename(path, path + ".old")
with open(path, "w") as f:
    f.write("this is not a configuration\n")
s = socket.create_connection((sys.argv[1], 8080), timeout=5)
print("reply=" + s.recv(100).decode().strip())
' $FAR4 2>"$T/err")
assert_eq "$?" 0 "client exit status ($out $(head -c 300 "$T/err"))"
assert_eq "$(kv "$out" reply)" "you are $B4_CLI" "reply"
assert_saw "$LOG" $B4_CLI "server"
assert_eq "$(grep -c dialshim: "$T/err")" 0 "dialshim lines on stderr"
mv "$CFG.old" "$CFG"

case_begin "DIALSHIM_CONFIG names a FIFO: the program starts at once, connect fails closed"
mkfifo "$T/fifo.ini"
t0=$(date +%s.%N)
out=$(shim "$T/fifo.ini" $PY $PYCLIENT tcp $FAR4 8080 2>"$T/err")
rc=$?
took=$(echo "$(date +%s.%N) - $t0" | bc)
assert_eq "$rc" 3 "client exit status ($out)"
assert_le "$took" 3 "seconds to run"
assert_eq "$(kv "$out" errno)" EACCES "errno"
assert_match "$(cat "$T/err")" "^dialshim: .*fifo\\.ini:0: cannot open: not a regular file" "stderr"
assert_saw_nothing "$LOG" "server"

case_begin "broken file, program without network calls: its own output and status, nothing from the shim"
printf '[app all]\nthis line is broken\n' >"$T/broken.ini"
out=$(shim "$T/broken.ini" sh -c 'echo hello; exit 7' 2>"$T/err")
rc=$?
assert_eq "$rc" 7 "exit status"
assert_eq "$out" hello "stdout"
assert_eq "$(cat "$T/err")" "" "stderr"
out=$(shim "$T/broken.ini" $PY $PYCLIENT tcp $FAR4 8080 2>"$T/err")
assert_eq "$(kv "$out" errno)" EACCES "then a connect: errno"
assert_match "$(cat "$T/err")" "^dialshim: .*broken\\.ini:2: " "then a connect: stderr"

case_begin "DIALSHIM_CONFIG names a missing file: silent without network calls; a connect fails closed, the reason in the log"
out=$(shim "$T/missing.ini" sh -c 'echo hello' 2>"$T/err")
assert_eq "$out" hello "stdout"
assert_eq "$(cat "$T/err")" "" "stderr without network calls"
out=$(shim "$T/missing.ini" $PY $PYCLIENT tcp $FAR4 8080 2>"$T/err")
assert_eq "$(kv "$out" errno)" EACCES "then a connect: errno"
assert_match "$(cat "$T/err")" "^dialshim: .*missing\\.ini:0: cannot open: No such file or directory" "then a connect: stderr"
assert_saw_nothing "$LOG" "server"

case_begin "a program that never touches the network: the start adds the file's four system calls and no futex call"
# strace sees what the kernel was asked, from /bin/true's execve on (env's own
# calls come before), and /bin/true alone makes no futex call. The file's calls
# prove the shim ran; pthread_once's unconditional wake at the end of the
# constructor was one more system call in every process start.
printf '[global]\nlog_level = warn\n' >"$T/tiny.ini"
timeout "$CTMO" strace -f -qq -o "$T/strace" env LD_PRELOAD="$SHIM" DIALSHIM_CONFIG="$T/tiny.ini" /bin/true
assert_eq "$?" 0 "exit status"
awk '/execve\("\/bin\/true"/ { on = 1 } on' "$T/strace" >"$T/true.strace"
assert_eq "$(grep -c 'tiny\.ini' "$T/true.strace")" 1 "calls naming the file (one openat)"
assert_eq "$(grep -c 'futex(' "$T/true.strace")" 0 "futex calls of /bin/true"
assert_eq "$(awk '/tiny\.ini/ { seen = 1; next } seen' "$T/true.strace" |
    grep -cE '^[0-9]+ +(newfstatat|pread64|close)\(3')" 3 "fstat, pread and close of the file after it"

case_begin "a connect from another library's constructor, on its own thread while the shim's constructor runs: link B"
# libearly.so is preloaded after the shim, so initialised before it; its thread's
# connect reaches the shim before, during or after the shim's constructor reads
# the file, and must get the file's policy whichever comes first.
: >"$LOG"
EARLY=$BUILD/tests/libearly.so
out=$(in_cli timeout "$CTMO" env LD_PRELOAD="$SHIM $EARLY" DIALSHIM_CONFIG="$CFG" EARLY_TO=$FAR4:8080 \
    /bin/true 2>"$T/err")
assert_eq "$?" 0 "exit status ($(head -c 300 "$T/err"))"
assert_eq "$(kv "$out" early_reply)" "you are $B4_CLI" "reply to the early connect"
assert_saw "$LOG" $B4_CLI "server"

# The shim's own lookup (no DIALSHIM_CONFIG): each place is opened in turn.
lookup() {
    in_cli timeout "$CTMO" env -u DIALSHIM_CONFIG -u XDG_CONFIG_HOME LD_PRELOAD="$SHIM" "$@"
}
mkdir -p "$T/xdg/dialshim" "$T/home/.config/dialshim" "$T/dirxdg/dialshim/dialshim.ini"
cp "$CFG" "$T/xdg/dialshim/dialshim.ini"
cp "$CFG" "$T/home/.config/dialshim/dialshim.ini"

case_begin "no DIALSHIM_CONFIG: \$XDG_CONFIG_HOME/dialshim/dialshim.ini is found and applies (link B)"
: >"$LOG"
out=$(lookup XDG_CONFIG_HOME="$T/xdg" HOME="$T/nohome" $PY $PYCLIENT tcp $FAR4 8080 2>"$T/err")
assert_eq "$(kv "$out" reply)" "you are $B4_CLI" "reply"
assert_saw "$LOG" $B4_CLI "server"

case_begin "no DIALSHIM_CONFIG nor XDG_CONFIG_HOME: ~/.config/dialshim/dialshim.ini is found and applies (link B)"
: >"$LOG"
out=$(lookup HOME="$T/home" $PY $PYCLIENT tcp $FAR4 8080 2>"$T/err")
assert_eq "$(kv "$out" reply)" "you are $B4_CLI" "reply"
assert_saw "$LOG" $B4_CLI "server"

case_begin "a directory where \$XDG_CONFIG_HOME's file should be: an unusable file (fail closed), not a missing one"
: >"$LOG"
out=$(lookup XDG_CONFIG_HOME="$T/dirxdg" HOME="$T/home" $PY $PYCLIENT tcp $FAR4 8080 2>"$T/err")
assert_eq "$(kv "$out" errno)" EACCES "errno"
assert_match "$(cat "$T/err")" "^dialshim: .*dirxdg/dialshim/dialshim\\.ini:0: cannot open: Is a directory" "stderr"
assert_saw_nothing "$LOG" "server"

finish
