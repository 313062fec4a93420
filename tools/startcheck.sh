#!/bin/sh
# The data layout of libdialshim.so that keeps a process start cheap
# (shim/start.ld). Used by `make layercheck`:
#
#   sh tools/startcheck.sh build/libdialshim.so
#
# Exits 1, saying why, when
# - the writable LOAD segment has a .bss (MemSiz > FileSiz): the loader then
#   clears the tail of its last file page and may map an anonymous region, a
#   write fault and a mapping at every start;
# - .data.rel.ro, .got or .dynamic lies outside GNU_RELRO (the script must not
#   take the relocated read-only data out of RELRO);
# - the library needs another object than libc.so.6 (each one's versions are
#   checked, its symbols looked up, at every start: ld-linux-x86-64.so.2 came
#   with __libc_stack_end and the general-dynamic TLS model's __tls_get_addr);
# - a relocation outside RELRO, or the constructor's data (state, capture_once,
#   crtbegin's completed flag), lies beyond the two pages from .got.plt on: each
#   further page written at start is one more copy-on-write fault.
set -eu
lib=$1

readelf -lW "$lib" | awk -v lib="$lib" '
    $1 == "LOAD" && $7 ~ /W/ && $6 != $5 {
        printf "startcheck: %s: writable LOAD with MemSiz %s > FileSiz %s (a .bss)\n", lib, $6, $5 > "/dev/stderr"
        bad = 1
    }
    END { exit bad }'

needed=$(readelf -dW "$lib" | awk '$2 == "(NEEDED)" && $5 != "[libc.so.6]" { printf " %s", $5 }')
if [ -n "$needed" ]; then
    echo "startcheck: $lib: needs more than libc.so.6:$needed" >&2
    exit 1
fi

relro=$(readelf -lW "$lib" | awk -v lib="$lib" '$1 == "GNU_RELRO" { print $3, $6 }')
set -- $relro
lo=$(($1)) hi=$(($1 + $2))
sec() { readelf -SW "$lib" | sed 's/^ *\[ *[0-9]*\] *//' | awk -v n="$1" '$1 == n { print "0x" $3, "0x" $5 }'; }
for s in .data.rel.ro .got .dynamic; do
    set -- $(sec $s)
    [ $# = 2 ] || continue
    if [ $(($1)) -lt $lo ] || [ $(($1 + $2)) -gt $hi ]; then
        echo "startcheck: $lib: $s lies outside GNU_RELRO" >&2
        exit 1
    fi
done

set -- $(sec .got.plt)
first=$(($1 / 4096 * 4096))
last=$((first + 2 * 4096))
{
    readelf -rW "$lib" | awk '$3 ~ /^R_X86_64_|^R_AARCH64_/ { print "0x" $1, "relocation" }'
    nm "$lib" | awk '$3 == "state" || $3 == "capture_once" || $3 == "completed.0" { print "0x" $1, $3 }'
} | while read -r a what; do
    a=$(($a))
    if { [ $a -lt $lo ] || [ $a -ge $hi ]; } && { [ $a -lt $first ] || [ $a -ge $last ]; }; then
        printf 'startcheck: %s: %s at 0x%x, beyond the pages written at start (0x%x-0x%x)\n' \
            "$lib" "$what" $a $first $last >&2
        exit 1
    fi
done

# The constructor's code reads nothing of the library's read-only pages past
# the first 64 KiB (the loader's first fault maps those): a constant loaded from
# .rodata (a vector the compiler put in its constant pool, say) is one more fault
# at every start. Loads from the GOT and the data segment are fine.
rw=$(readelf -lW "$lib" | awk '$1 == "LOAD" && $7 ~ /W/ { print $3; exit }')
for f in shim_constructor capture state_capture state_wants_exe slash_matches line_start match_line keep join state_env \
    state_secure state_find_config rawfile_open rawfile_stat rawfile_pread rawfile_close; do
    objdump -d --no-show-raw-insn --disassemble="$f" "$lib" |
        awk -v f="$f" -v rw=$(($rw)) -v lib="$lib" '
        /\(%rip\)/ && $2 !~ /^lea/ && match($0, /# [0-9a-f]+ /) {
            a = substr($0, RSTART + 2, RLENGTH - 3)
            n = 0
            for (i = 1; i <= length(a); i++) n = n * 16 + index("0123456789abcdef", substr(a, i, 1)) - 1
            if (n >= 65536 && n < rw) {
                printf "startcheck: %s: %s reads 0x%s, past the first 64 KiB\n", lib, f, a > "/dev/stderr"
                bad = 1
            }
        }
        END { exit bad }'
done
