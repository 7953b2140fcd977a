#!/bin/sh
# Keeps the tree's shape (docs/architecture.md):
#   1. a layer includes only itself and the layers below it:
#        base < proto < metrics < worker, client < primary
#      (worker and client are siblings: neither includes the other)
#      and tools/ and examples/ include only the public header;
#   2. no file of src/ or tools/ is over 800 lines;
#   3. no cycle of calls between the library's files, read from the
#      objects' symbols (nm), so an extern declaration cannot hide one.
#
#   scripts/layers.sh [BUILD]     BUILD: where the objects are (build)
# Prints what is wrong and exits 1, or says what it checked and exits 0.
set -u
cd "$(dirname "$0")/.."
build=${1:-build}
fail=0

rank() {
    case $1 in
        base) echo 0 ;; proto) echo 1 ;; metrics) echo 2 ;;
        worker|client) echo 3 ;; primary) echo 4 ;; *) echo 9 ;;
    esac
}

# 1. Includes. "layer/file.h" names its layer; anything else in quotes
# is the public header or an error.
for f in src/*/*.c src/*/*.h; do
    layer=${f#src/}
    layer=${layer%%/*}
    mine=$(rank "$layer")
    for inc in $(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f"); do
        case $inc in
            zcluster.h) continue ;;
            */*) theirs=$(rank "${inc%%/*}") ;;
            *) echo "$f: includes \"$inc\": name the layer (\"base/$inc\")"; fail=1; continue ;;
        esac
        if [ "$theirs" -gt "$mine" ]; then
            echo "$f: includes \"$inc\": $layer may not depend on ${inc%%/*}, a layer above it"
            fail=1
        elif [ "$theirs" -eq "$mine" ] && [ "${inc%%/*}" != "$layer" ]; then
            echo "$f: includes \"$inc\": $layer and ${inc%%/*} are siblings; neither depends on the other"
            fail=1
        fi
    done
done
for f in tools/*.c examples/*.c; do
    [ -e "$f" ] || continue
    for inc in $(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f"); do
        [ "$inc" = zcluster.h ] && continue
        echo "$f: includes \"$inc\": programs use the public header only"
        fail=1
    done
done

# 2. Size.
for f in src/*/*.c src/*/*.h tools/*.c; do
    n=$(wc -l < "$f")
    if [ "$n" -gt 800 ]; then
        echo "$f: $n lines (800 at most: one concern per file; split along its sections)"
        fail=1
    fi
done

# 3. Calls between files, from the symbols each object defines and uses.
objs=
for f in src/*/*.c; do
    [ "$f" = src/base/notls.c ] && continue
    o=$build/${f%.c}.o
    if [ ! -e "$o" ]; then
        echo "$o: missing: build first (make)"
        exit 1
    fi
    objs="$objs $o"
done
cycles=$(nm -A $objs 2>/dev/null | awk -v build="$build/" '
    # "build/src/primary/run.o:0000000000000000 T zc__primary_run", or
    # "build/src/primary/run.o:                 U zc__loop_run"
    {
        file = $1; sub(/:.*/, "", file); sub(build, "", file); sub(/\.o$/, ".c", file)
        if ($(NF - 1) ~ /^[TDBR]$/) def[$NF] = file
        else if ($(NF - 1) == "U") use[file, $NF] = 1
        files[file] = 1
    }
    END {
        for (k in use) {
            split(k, a, SUBSEP)
            if ((a[2] in def) && def[a[2]] != a[1]) {
                edge[a[1], def[a[2]]] = 1
                why[a[1], def[a[2]]] = a[2]
            }
        }
        # Transitive closure (a few dozen files): reach[x,y] when x calls,
        # directly or not, into y.
        for (k in edge) reach[k] = 1
        n = 0
        for (f in files) names[++n] = f
        for (m = 1; m <= n; m++)
            for (i = 1; i <= n; i++)
                if ((names[i], names[m]) in reach)
                    for (j = 1; j <= n; j++)
                        if ((names[m], names[j]) in reach)
                            reach[names[i], names[j]] = 1
        for (k in edge) {
            split(k, a, SUBSEP)
            if ((a[2], a[1]) in reach)
                printf "%s calls %s (%s), which calls back into it\n", a[1], a[2], why[k]
        }
    }' | sort)
if [ -n "$cycles" ]; then
    echo "$cycles"
    fail=1
fi

if [ "$fail" -ne 0 ]; then
    echo "layers: the tree breaks its shape (docs/architecture.md)"
    exit 1
fi
echo "layers: $(echo $objs | wc -w) objects, no call cycle; every include goes down; no file over 800 lines"
