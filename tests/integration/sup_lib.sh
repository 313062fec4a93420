# shellcheck shell=bash
# Sourced after lib.sh by t_supervise*.sh: the Go client (supervise_go.go), built
# once into $BUILD/tests/supervise_go with the standard library only (offline;
# GOCACHE under build/, so the second file does not compile the library again),
# and a runner for `dialshim` that keeps its log.
SUPGO=$BUILD/tests/supervise_go
BUSYBOX=$(command -v busybox || echo /bin/busybox)

sup_build_go() {
    command -v go >/dev/null 2>&1 || { echo "FAIL - supervise: go not installed (make deps: golang-go)"; exit 1; }
    [ -x "$BUSYBOX" ] || { echo "FAIL - supervise: busybox not installed (make deps: busybox-static)"; exit 1; }
    if [ ! -x "$SUPGO" ] || [ "$IT_DIR/supervise_go.go" -nt "$SUPGO" ]; then
        mkdir -p "$BUILD/tests" "$BUILD/gocache" "$T/gopath"
        (cd "$IT_DIR" && timeout 300 env GOCACHE="$BUILD/gocache" GOPATH="$T/gopath" \
            GO111MODULE=off CGO_ENABLED=0 go build -o "$SUPGO.tmp" supervise_go.go) &&
            mv "$SUPGO.tmp" "$SUPGO" || { echo "FAIL - supervise: go build failed"; exit 1; }
    fi
}

# run_tool CONF CMD...: CMD through `dialshim -c CONF -l debug`, in the client
# namespace. Sets RC, OUT (stdout), ERR (stderr: dialshim's log and warnings).
run_tool() {
    local conf=$1
    shift
    in_cli timeout "$CTMO" "$DIALSHIM" -c "$conf" -l debug "$@" >"$T/run.out" 2>"$T/run.err"
    RC=$?
    OUT=$(cat "$T/run.out")
    ERR=$(cat "$T/run.err")
    note "\$ dialshim $*  -> rc=$RC"
    [ -n "$OUT" ] && note "stdout: $(printf '%s' "$OUT" | tr '\n' '|')"
    [ -n "$ERR" ] && printf '%s\n' "$ERR" | head -n 20 | sed 's/^/    #   log: /' >&2
    return 0
}

# sup_lab_up: names_lab_up, torn down on exit together with the server
# namespace's /etc/netns directory (SRV_ETC, for its resolv.conf), and the Go
# client built.
sup_lab_up() {
    SRV_ETC=/etc/netns/$SRV
    names_lab_up
    trap sup_down EXIT
    sup_build_go
}

sup_down() {
    local rc=$?
    rm -rf "$SRV_ETC"
    (exit "$rc")
    names_down
}
