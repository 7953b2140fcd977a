#!/bin/sh
# The ABI promise of zcluster.h (docs/library.md, "ABI"): a program built
# against an older header, whose zc_options is smaller, runs against this
# libzcluster.so.0. The older header is this one with the struct's last
# nineteen fields cut (tests/abi/shrink.py): the six of 0.4.0, the seven
# of 0.3.0 and six more; the program is tests/abi/older.c.
#
#   scripts/abi-check.sh BUILD CC [CFLAGS...]
set -eu
build=$1 cc=$2
shift 2
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
python3 tests/abi/shrink.py include/zcluster.h "$dir/zcluster.h" 19
# The program's own struct must really be the smaller one.
if sed -n '/typedef struct zc_options {/,/} zc_options;/p' "$dir/zcluster.h" |
        grep -q 'int kill_mode;'; then
    echo "abi: the header's zc_options was not cut"
    exit 1
fi
$cc -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror "$@" -I"$dir" tests/abi/older.c \
    -o "$dir/older" -L"$build" -lzcluster -Wl,-rpath,"$(pwd)/$build"
cd "$dir" && ./older 2>/dev/null
