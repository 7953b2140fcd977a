#!/usr/bin/env bash
# zcluster benchmarks, side by side in one run (see bench/README.md).
#
#   bench/run.sh [ROUNDS] [SECONDS]      defaults: 5 rounds of 5 s each
#   ZC_BENCH_BEFORE=DIR bench/run.sh     also another tree's build (DIR
#                                        has its zcluster, zcluster-hello),
#                                        shared socket, in the same rounds
#   ZC_BENCH_BEFORE_LABEL=3f48e6a        what to call it (default: before)
#
# 1. Throughput of 2 zcluster-hello workers, with wrk, new connection per
#    request and keep-alive, three ways: under zcluster sharing the
#    primary's socket (the default), under zcluster binding SO_REUSEPORT
#    themselves, and the same 2 processes binding SO_REUSEPORT with no
#    manager. The order rotates every round so drift on a shared machine
#    hits all alike; medians and ratios to "no manager".
# 2. The primary's memory (RSS and PSS) with 2 and 64 workers, and its
#    wake-ups over 5 idle seconds.
# 3. kill -9 to replacement answering (--respawn-delay 0), against the
#    worker's own start-up time.
#
# Everything runs on 127.0.0.1; every loop is bounded.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

rounds=${1:-5}
secs=${2:-5}
port=${ZC_BENCH_PORT:-18180}
conns=${ZC_BENCH_CONNS:-256}
out=bench/out
mkdir -p "$out"
scripts/deps.sh build bench
make -s all bench >&2

zc=build/zcluster
hello=build/zcluster-hello
before=${ZC_BENCH_BEFORE:-}
before_label=${ZC_BENCH_BEFORE_LABEL:-before}
trap cleanup EXIT


start_zcluster() {   # start_zcluster WORKERS [extra options]
    local n=$1
    shift
    "$zc" -w "$n" -l "127.0.0.1:$port" "$@" -- "$hello" 2>>"$out/zcluster.log" &
    pids=("$!")
    wait_port "$port"
}

# The workers bind the port themselves; zcluster only supervises them.
start_zcluster_reuseport() {
    "$zc" -w 2 -- "$hello" -l "127.0.0.1:$port" --reuseport 2>>"$out/zcluster.log" &
    pids=("$!")
    wait_port "$port"
}

start_bare() {
    "$hello" -l "127.0.0.1:$port" --reuseport 2>>"$out/bare.log" &
    pids=("$!")
    "$hello" -l "127.0.0.1:$port" --reuseport 2>>"$out/bare.log" &
    pids+=("$!")
    wait_port "$port"
}

stop_all() {
    for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
    pids=()
}

# wrk_rps [wrk options...]: requests/s of one run; fails on socket errors
# or non-2xx answers (a failed request is never a throughput figure).
wrk_rps() {
    local res
    res=$(wrk -t2 -c"$conns" -d"${secs}s" "$@" "http://127.0.0.1:$port/")
    if grep -qE "Socket errors|Non-2xx" <<<"$res"; then
        echo "$res" >&2
        echo "wrk reported errors" >&2
        return 1
    fi
    awk '/^Requests\/sec:/ { printf "%d\n", $2 }' <<<"$res"
}


one_run() {   # one_run MODE [wrk options...]: prints req/s
    local mode=$1 r
    shift
    case $mode in
        shared) start_zcluster 2 ;;
        reuseport) start_zcluster_reuseport ;;
        bare) start_bare ;;
        before)
            zc=$before/zcluster hello=$before/zcluster-hello
            start_zcluster 2
            zc=build/zcluster hello=build/zcluster-hello
            ;;
    esac
    r=$(wrk_rps "$@")
    stop_all
    echo "$r"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }

throughput() {   # throughput LABEL [wrk options...]
    local label=$1 modes=(shared reuseport bare) s=() u=() b=() o=() sm um bm om m r
    shift
    [ -n "$before" ] && modes+=(before)
    for i in $(seq 1 "$rounds"); do
        for k in $(seq 0 $((${#modes[@]} - 1))); do
            m=${modes[$(((i + k) % ${#modes[@]}))]}
            r=$(one_run "$m" "$@")
            case $m in shared) s+=("$r") ;; reuseport) u+=("$r") ;; bare) b+=("$r") ;;
                       before) o+=("$r") ;; esac
        done
        echo "  $label round $i: shared ${s[-1]}, zcluster+reuseport ${u[-1]}, no manager ${b[-1]}${before:+, $before_label ${o[-1]}} req/s" >&2
    done
    sm=$(printf '%s\n' "${s[@]}" | median)
    um=$(printf '%s\n' "${u[@]}" | median)
    bm=$(printf '%s\n' "${b[@]}" | median)
    printf '| %s | %s (%s) | %s (%s) | %s |' "$label" "$sm" "$(ratio "$sm" "$bm")" \
        "$um" "$(ratio "$um" "$bm")" "$bm"
    if [ -n "$before" ]; then
        om=$(printf '%s\n' "${o[@]}" | median)
        printf ' %s (%s; after/before %s) |' "$om" "$(ratio "$om" "$bm")" "$(ratio "$sm" "$om")"
    fi
    echo
}

mem_line() {   # mem_line WORKERS [BINARY LABEL]
    local n=$1 rss pss w1 w2
    zc=${2:-build/zcluster}
    start_zcluster "$n"
    # Let every worker be ready (the log says so), bounded.
    for _ in $(seq 1 100); do
        grep -q "all $n workers ready" "$out/zcluster.log" && break
        sleep 0.05
    done
    rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/${pids[0]}/status")
    pss=$(awk '/^Pss:/ { print $2 }' "/proc/${pids[0]}/smaps_rollup")
    w1=$(awk '/ctxt_switches/ { s += $2 } END { print s }' "/proc/${pids[0]}/status")
    sleep 5
    w2=$(awk '/ctxt_switches/ { s += $2 } END { print s }' "/proc/${pids[0]}/status")
    stop_all
    : > "$out/zcluster.log"
    printf '| %s | %d | %d KiB | %d KiB | %d |\n' "${3:-static (default)}" "$n" "$rss" "$pss" $((w2 - w1))
    zc=build/zcluster
}

echo "# zcluster bench, $(date -u +%Y-%m-%dT%H:%MZ)"
echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(uname -sr), $(. /etc/os-release; echo "$PRETTY_NAME")"
echo "cpu: $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)"
echo "wrk -t2 -c$conns -d${secs}s, $rounds rounds each, order rotating; figures are medians"
echo
echo "## Throughput: 2 workers of zcluster-hello"
echo
if [ -n "$before" ]; then
    echo "| traffic | zcluster, shared socket (ratio) | zcluster, workers bind SO_REUSEPORT (ratio) | no manager, SO_REUSEPORT | $before_label, shared socket |"
    echo "| --- | --- | --- | --- | --- |"
else
    echo "| traffic | zcluster, shared socket (ratio) | zcluster, workers bind SO_REUSEPORT (ratio) | no manager, SO_REUSEPORT |"
    echo "| --- | --- | --- | --- |"
fi
throughput "keep-alive"
throughput "Connection: close" -H "Connection: close"
echo
echo "## The primary's memory and idle wake-ups"
echo
echo "| zcluster build | workers | RSS | PSS | context switches in 5 s idle |"
echo "| --- | --- | --- | --- | --- |"
mem_line 2
mem_line 64
if [ -n "$before" ]; then
    mem_line 2 "$before/zcluster" "$before_label"
    mem_line 64 "$before/zcluster" "$before_label"
fi
make -s STATIC=0 BUILD=build-dyn build-dyn/zcluster >&2
mem_line 2 build-dyn/zcluster "dynamic (STATIC=0)"
echo
echo "## kill -9 to replacement answering (--respawn-delay 0, 1 worker)"
echo
start_zcluster 1 --respawn-delay 0
echo "- $(build/bench/respawn "$port" 50)"
stop_all
echo "- $(build/bench/respawn --startup "$hello" "$port" 50)"
