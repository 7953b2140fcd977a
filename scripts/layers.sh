#!/bin/sh
# Keeps the tree's shape (docs/architecture.md):
#   1. a layer includes only itself and the layers below it:
#        base < proto < metrics < worker, client < primary
#      (worker and client are siblings: neither includes the other)
#      and tools/ and examples/ include only the public header;
#   2. no file of src/ or tools/ is over 800 lines;
#   3. no cycle of calls between the library's files, read from the
#      objects' symbols (nm), so an extern declaration cannot hide one;
#   4. inside src/primary/, the folders are layers too:
#        core < spread < life < health < control < loop
#      a file includes and calls only its own folder and those below.
#
#   scripts/layers.sh [BUILD]     BUILD: where the objects are (build)
# Prints what is wrong and exits 1, or says what it checked and exits 0.
set -u
cd "$(dirname "$0")/.."
build=${1:-build}
fail=0

# The folders of src/primary/, bottom to top (docs/architecture.md).
group_rank() {
    case $1 in
        core) echo 0 ;; spread) echo 1 ;; life) echo 2 ;; health) echo 3 ;;
        control) echo 4 ;; loop) echo 5 ;; *) echo 9 ;;
    esac
}

rank() {
    case $1 in
        base) echo 0 ;; proto) echo 1 ;; metrics) echo 2 ;;
        worker|client) echo 3 ;; primary) echo 4 ;; *) echo 9 ;;
    esac
}

# 1. Includes. "layer/file.h" names its layer; anything else in quotes
# is the public header or an error.
for f in src/*/*.c src/*/*.h src/primary/*/*.c src/primary/*/*.h; do
    [ -e "$f" ] || continue
    layer=${f#src/}
    layer=${layer%%/*}
    mine=$(rank "$layer")
    case $f in
        src/primary/*/*) group=${f#src/primary/}; group=${group%%/*} ;;
        src/primary/*) echo "$f: every file of src/primary/ is in a folder"; fail=1; group= ;;
        *) group= ;;
    esac
    for inc in $(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f"); do
        case $inc in
            zcluster.h) continue ;;
            */*) theirs=$(rank "${inc%%/*}") ;;
            *) echo "$f: includes \"$inc\": name the layer (\"base/$inc\")"; fail=1; continue ;;
        esac
        if [ -n "$group" ] && [ "${inc%%/*}" = primary ]; then
            theirg=${inc#primary/}
            theirg=${theirg%%/*}
            if [ "$(group_rank "$theirg")" -gt "$(group_rank "$group")" ]; then
                echo "$f: includes \"$inc\": primary/$group may not depend on primary/$theirg, a folder above it"
                fail=1
            fi
        fi
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
for f in src/*/*.c src/*/*.h src/primary/*/*.c src/primary/*/*.h tools/*.c; do
    [ -e "$f" ] || continue
    n=$(wc -l < "$f")
    if [ "$n" -gt 800 ]; then
        echo "$f: $n lines (800 at most: one concern per file; split along its sections)"
        fail=1
    fi
done

# 3. Calls between files, from the symbols each object defines and uses.
objs=
for f in src/*/*.c src/primary/*/*.c; do
    [ -e "$f" ] || continue
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
        split("core spread life health control loop", order, " ")
        for (i = 1; i <= 6; i++) rank[order[i]] = i
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
            # src/primary/GROUP/file.c: calls go to the same folder or below.
            if (a[1] ~ /^src\/primary\/[^\/]+\// && a[2] ~ /^src\/primary\/[^\/]+\//) {
                split(a[1], p1, "/"); split(a[2], p2, "/")
                if (rank[p2[3]] > rank[p1[3]])
                    printf "%s calls %s (%s): primary/%s may not call primary/%s, a folder above it\n", a[1], a[2], why[k], p1[3], p2[3]
            }
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
echo "layers: $(echo $objs | wc -w) objects, no call cycle; every include and call goes down, between layers and between src/primary's folders; no file over 800 lines"
