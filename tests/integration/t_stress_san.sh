#!/bin/bash
# The stress of t_stress_conns.sh once more, with the AddressSanitizer/UBSan build of
# the shim ($ROOT/build/san-address,undefined/libdialshim.so, made by
# `make unit SANITIZE=address,undefined`; SAN_SHIM overrides): the sanitizer runtime is
# preloaded before it, every report goes to a file, LeakSanitizer runs at the stress
# program's exit, and any report fails the case. Skipped (one `ok - SKIP ...` line)
# when that build is absent, or when the shim under test is already instrumented
# (make check SANITIZE=...: t_stress_conns.sh then runs under it).
# Verified to fail without the shim (SHIM=/nonexistent): the same clients then run bare
# and fail as in t_stress_conns.sh.
. "$(dirname "$0")/lib.sh"
. "$IT_DIR/proxy_lib.sh"
. "$IT_DIR/names_lib.sh"
. "$ROOT/tests/stress/lib.sh"

# skip_file CASE: one passing case that says why nothing ran (no lab was made).
skip_file() {
    case_begin "$1"
    finish
    local rc=$?
    rm -rf "$T"
    exit "$rc"
}

if [ ! -f "$SHIM" ]; then
    note "shim $SHIM not built: the runs below are bare runs (and must fail)"
    SAN_SHIM=$SHIM
elif [ ! -f "$SAN_SHIM" ]; then
    skip_file "SKIP stress with the ASan/UBSan shim: $SAN_SHIM not built (make unit SANITIZE=address,undefined)"
elif [ -n "$(san_kind "$SHIM")" ]; then
    skip_file "SKIP stress with the ASan/UBSan shim: the shim under test is instrumented already ($(san_kind "$SHIM")), t_stress_conns.sh ran under it"
elif [ -z "$(san_runtime "$SAN_SHIM")" ]; then
    case_begin "stress with the ASan/UBSan shim: $SAN_SHIM is instrumented"
    fail "no sanitizer runtime among its libraries: $(ldd "$SAN_SHIM" 2>&1 | head -c 300)"
    finish
    rm -rf "$T"
    exit 1
fi
SHIM=$SAN_SHIM
names_lab_up
shim_kind_note
stress_build
stress_sysctls
dns_start
serve_start echo $FAR4:9000
start_microsocks ms $B4_SRV 1080
. "$ROOT/tests/stress/conns_cases.sh"

finish
