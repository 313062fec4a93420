#!/bin/bash
# Stress (dialshim(1) BEHAVIOUR "any number of threads may connect and resolve at once"): one
# process, 64 threads x 500 connections each (STRESS_THREADS, STRESS_PER), through a
# local SOCKS5 proxy (microsocks in the server namespace), then directly (a dialer with
# routing_mark, so every connect is seen to take the shim's fast path), then 64 threads
# resolving names in fake-IP mode and connecting to some of them. Every time: zero
# failures, the far side saw exactly the connections it should (the proxy's address for
# proxied ones, link B's for marked ones, never the client's link A address), the
# process's descriptor count (/proc/self/fd) back where it started, and no sanitizer
# report when the shim is an instrumented build (make check SANITIZE=...: the sanitizer
# runtime is preloaded first, see tests/stress/lib.sh). The same stress with the
# ASan/UBSan build, when the shim under test is a plain one: t_stress_san.sh.
# Verified to fail without the shim (SHIM=/nonexistent): the far side then sees
# 192.0.2.1 for every connection, and no name resolves at all.
. "$(dirname "$0")/lib.sh"
. "$IT_DIR/proxy_lib.sh"
. "$IT_DIR/names_lib.sh"
. "$ROOT/tests/stress/lib.sh"
names_lab_up
shim_present
shim_kind_note
stress_build
stress_sysctls
dns_start
serve_start echo $FAR4:9000
start_microsocks ms $B4_SRV 1080
. "$ROOT/tests/stress/conns_cases.sh"

finish
