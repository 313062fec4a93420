#!/bin/sh
# The rule that common/, conf/ and the libraries linked into libdialshim.so never
# call a function the shim hooks by its name (common/sys.h). Used by the Makefile:
#
#   sh tools/layer.sh hooked                 the hooked names (shim/exports.map)
#   sh tools/layer.sh rewrite SRC.a DST.a    copy an archive, every hooked name it
#                                            calls renamed NAME -> sys_libc_NAME
#                                            (common/sys.c defines those)
#   sh tools/layer.sh check FILE...          exit 1, naming each, when an object or
#                                            archive leaves a hooked name undefined
set -eu
map=${EXPORTS_MAP:-shim/exports.map}

hooked() {
    sed -n '/global:/,/local:/p' "$map" | sed 's/global://; s/local:.*//' |
        tr ';' '\n' | tr -d ' \t' | grep -v '^$' | sort -u
}

# Undefined symbols of FILE that are hooked names, one a line.
calls() {
    nm -u "$1" 2>/dev/null | awk '{print $NF}' | sort -u | grep -Fx -f "$tmp" || true
}

tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
hooked >"$tmp"

case ${1:-} in
hooked)
    cat "$tmp"
    ;;
rewrite)
    src=$2 dst=$3
    set --
    for s in $(calls "$src"); do
        set -- "$@" --redefine-sym "$s=sys_libc_$s"
    done
    objcopy "$@" "$src" "$dst.tmp"
    mv "$dst.tmp" "$dst"
    ;;
check)
    shift
    bad=0
    for f in "$@"; do
        for s in $(calls "$f"); do
            echo "layercheck: $f calls $s by name (hooked: use sys.$s, common/sys.h)" >&2
            bad=1
        done
    done
    [ "$bad" = 0 ] && echo "layercheck: $# files call no hooked name"
    exit "$bad"
    ;;
*)
    echo "usage: sh tools/layer.sh hooked | rewrite SRC DST | check FILE..." >&2
    exit 2
    ;;
esac
