#!/usr/bin/env bash
# Load spread, side by side in one run (see bench/README.md, "Load
# spread"): zcluster's shared socket, its SO_REUSEPORT group (round-robin
# with eBPF, and at random without CAP_BPF) and least-conn, against Node's cluster with its round-robin scheduling and
# with SCHED_NONE (workers accept from one shared socket).
#
#   bench/balance.sh [SECONDS]        default 5 s per run
#   ZC_BENCH_SERVER_CPUS=0-11 ZC_BENCH_CLIENT_CPUS=12-15 bench/balance.sh
#                                     a CPU split (taskset -c): the fleets
#                                     on some cores, wrk on the others, for
#                                     honest figures on a larger host
#
# (a) wrk keep-alive, 64 and 256 connections, 2 and 4 workers: requests
#     per worker, max/min (a worker with none makes it "inf": an idle
#     worker);
# (b) uneven load, 4 workers, 64 connections, every 10th request
#     /burn?us=2000: throughput and latency p50/p99/max;
# (c) 4 workers, c256, REPEAT runs (5) of shared and reuseport: max/min.
# Everything runs on 127.0.0.1; every run is bounded by wrk's -d.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

secs=${1:-5}
port=${ZC_BENCH_PORT:-18300}
out=bench/out
mkdir -p "$out"
scripts/deps.sh build bench
make -s all >&2
command -v node >/dev/null || { echo "bench/balance.sh needs node (apt-get install nodejs)" >&2; exit 1; }
trap cleanup EXIT

# The CPU split: empty (the default) runs everything anywhere.
srv=()
cli=()
[ -n "${ZC_BENCH_SERVER_CPUS:-}" ] && srv=(taskset -c "$ZC_BENCH_SERVER_CPUS")
[ -n "${ZC_BENCH_CLIENT_CPUS:-}" ] && cli=(taskset -c "$ZC_BENCH_CLIENT_CPUS")
if [ ${#srv[@]} -gt 0 ] || [ ${#cli[@]} -gt 0 ]; then
    command -v taskset >/dev/null || { echo "the CPU split needs taskset (util-linux)" >&2; exit 1; }
fi

start() {   # start MODE WORKERS
    local mode=$1 n=$2
    wait_free "$port"
    case $mode in
        node-rr)
            "${srv[@]}" node bench/balance-node.js "$port" "$n" 2>>"$out/balance.log" & ;;
        node-none)
            NODE_CLUSTER_SCHED_POLICY=none "${srv[@]}" node bench/balance-node.js \
                "$port" "$n" 2>>"$out/balance.log" & ;;
        reuseport-random)   # no CAP_BPF: the classic program's random pick
            "${srv[@]}" setpriv --reuid=65534 --regid=65534 --clear-groups build/zcluster \
                -w "$n" -l "127.0.0.1:$port" --balance reuseport --control none \
                -- build/zcluster-hello 2>>"$out/balance.log" & ;;
        *)
            "${srv[@]}" build/zcluster -w "$n" -l "127.0.0.1:$port" --balance "$mode" -- \
                build/zcluster-hello 2>>"$out/balance.log" & ;;
    esac
    pids=("$!")
    wait_port "$port"
}

# run CONNS [BURN_EVERY BURN_US]: wrk's output for the fleet started.
run() {
    "${cli[@]}" wrk -t2 -c"$1" -d"${secs}s" -s bench/balance.lua "http://127.0.0.1:$port/" \
        -- "${2:-0}" "${3:-0}" 2>&1
}

# ratio N: max/min over the "slots" line, for N workers.
ratio() {
    awk -v n="$1" '/^slots/ { k = NF - 1; max = 0; min = -1
        for (i = 2; i <= NF; i++) { if ($i > max) max = $i; if (min < 0 || $i < min) min = $i }
        if (k < n || min == 0) print "inf (" k " of " n " busy)"; else printf "%.2f\n", max / min }'
}

# reuseport is round-robin (eBPF) as root, reuseport-random what a primary
# without CAP_BPF does; the latter needs root to drop it (setpriv).
modes="shared reuseport least-conn node-rr node-none"
[ "$(id -u)" = 0 ] && command -v setpriv >/dev/null &&
    modes="shared reuseport reuseport-random least-conn node-rr node-none"
echo "# bench/balance.sh, $(date -u +%Y-%m-%dT%H:%MZ)"
echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%d GiB", $2 / 1048576 }' /proc/meminfo), $(uname -r)"
echo "cpu: $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)"
echo "wrk -t2 -d${secs}s, keep-alive; zcluster-hello under zcluster, the same server in Node under Node's cluster"
if [ ${#srv[@]} -gt 0 ] || [ ${#cli[@]} -gt 0 ]; then
    echo "CPU split: fleets on CPUs ${ZC_BENCH_SERVER_CPUS:-any}, wrk on CPUs ${ZC_BENCH_CLIENT_CPUS:-any}"
fi
echo
echo "## Requests per worker, max/min"
echo
echo "| mode | 2 workers, c64 | 2 workers, c256 | 4 workers, c64 | 4 workers, c256 |"
echo "| --- | --- | --- | --- | --- |"
for mode in $modes; do
    row="| $mode |"
    for n in 2 4; do
        start "$mode" "$n"
        for c in 64 256; do
            run "$c" > "$out/balance-$mode-$n-$c.txt"
            row="$row $(ratio "$n" < "$out/balance-$mode-$n-$c.txt") |"
        done
        cleanup
        pids=()
    done
    echo "$row"
done
echo
echo "## Uneven load: 4 workers, c64, every 10th request burns 2 ms of CPU"
echo
echo "| mode | requests/s | p50 | p99 | max | per worker max/min | errors |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
for mode in $modes; do
    start "$mode" 4
    run 64 10 2000 > "$out/balance-$mode-burn.txt"
    cleanup
    pids=()
    awk -v m="$mode" -v r="$(ratio 4 < "$out/balance-$mode-burn.txt")" '
        /^Requests\/sec/ { rps = $2 }
        /^latency p50/ { p50 = $3; p99 = $5; max = $7 }
        /^requests / { err = $4 }
        END { printf "| %s | %.0f | %.2f ms | %.2f ms | %.1f ms | %s | %s |\n", m, rps,
              p50 / 1000, p99 / 1000, max / 1000, r, err }' "$out/balance-$mode-burn.txt"
done
echo
echo "## The reuseport target, repeated: 4 workers, c256, ${REPEAT:=5} runs"
echo
echo "| mode | max/min, each run | median |"
echo "| --- | --- | --- |"
for mode in shared reuseport reuseport-random; do
    case " $modes " in *" $mode "*) ;; *) continue ;; esac
    start "$mode" 4
    runs=()
    for i in $(seq "$REPEAT"); do
        run 256 > "$out/balance-$mode-repeat.txt"
        runs+=("$(ratio 4 < "$out/balance-$mode-repeat.txt")")
    done
    cleanup
    pids=()
    echo "| $mode | ${runs[*]} | $(printf '%s\n' "${runs[@]}" | grep -v inf | median) |"
done
