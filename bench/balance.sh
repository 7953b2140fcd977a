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
# (c) the default (no --balance) beside shared and reuseport, 4 workers,
#     c64 and c256, REPEAT runs (5): max/min of each run, and its
#     throughput against reuseport's in the same run;
# (d) a deaf worker: 4 workers, slot 3's never accepts (ready by --ready
#     auto's timer), new connections (Connection: close) and keep-alive:
#     throughput, errors, latency;
# (e) what the queue watch costs: the primary's CPU time and system calls
#     under a new-connection load, and its wake-ups idle, against shared.
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

# The workers' command: zcluster-hello, or (deaf) one slot that never
# accepts (sleep holds its socket, ready by --ready auto's timer).
cmd=(build/zcluster-hello)
deaf_cmd=(/bin/sh -c "[ \"\$ZC_WORKER_SLOT\" = 3 ] && exec sleep 600; exec build/zcluster-hello")

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
        default)            # no --balance at all
            "${srv[@]}" build/zcluster -w "$n" -l "127.0.0.1:$port" --control none \
                -- "${cmd[@]}" 2>>"$out/balance.log" & ;;
        default-random)
            "${srv[@]}" setpriv --reuid=65534 --regid=65534 --clear-groups build/zcluster \
                -w "$n" -l "127.0.0.1:$port" --control none \
                -- "${cmd[@]}" 2>>"$out/balance.log" & ;;
        *)
            "${srv[@]}" build/zcluster -w "$n" -l "127.0.0.1:$port" --balance "$mode" -- \
                "${cmd[@]}" 2>>"$out/balance.log" & ;;
    esac
    pids=("$!")
    wait_port "$port"
}

# run CONNS [BURN_EVERY BURN_US [close]]: wrk's output for the fleet started.
run() {
    "${cli[@]}" wrk -t2 -c"$1" -d"${secs}s" -s bench/balance.lua "http://127.0.0.1:$port/" \
        -- "${2:-0}" "${3:-0}" "${4:-}" 2>&1
}

# rps FILE: requests per second of a wrk run.
rps() { awk '/^Requests\/sec/ { printf "%.0f\n", $2 }' "$1"; }

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
echo "## The default beside shared and reuseport: 4 workers, ${REPEAT:=5} runs each"
echo
echo "Targets for the default as root: max/min <= 1.3 at c64 and <= 1.2 at c256"
echo "in every run, no idle worker, throughput >= 0.98 of reuseport's."
echo
echo "| mode | c64 max/min, each run | c256 max/min, each run | c256 requests/s, median | against reuseport, median of the rounds |"
echo "| --- | --- | --- | --- | --- |"
# Every fleet is up at once, each on its own port (an idle fleet costs
# nothing), and the runs alternate between them: run i of each mode sees
# the same machine, so the ratio against reuseport is taken run by run.
fleet_modes="shared reuseport default"
[ "$(id -u)" = 0 ] && command -v setpriv >/dev/null &&
    fleet_modes="$fleet_modes reuseport-random default-random"
base=$port
declare -A fport r64 r256 tput
all=()
k=0
for mode in $fleet_modes; do
    port=$((base + 10 + k))
    fport[$mode]=$port
    start "$mode" 4
    all+=("${pids[@]}")
    k=$((k + 1))
done
for i in $(seq "$REPEAT"); do
    for mode in $fleet_modes; do
        port=${fport[$mode]}
        run 64 > "$out/balance-$mode-repeat.txt"
        r64[$mode]="${r64[$mode]:-} $(ratio 4 < "$out/balance-$mode-repeat.txt")"
        run 256 > "$out/balance-$mode-repeat.txt"
        r256[$mode]="${r256[$mode]:-} $(ratio 4 < "$out/balance-$mode-repeat.txt")"
        tput[$mode]="${tput[$mode]:-} $(rps "$out/balance-$mode-repeat.txt")"
    done
done
pids=("${all[@]}")
cleanup
pids=()
port=$base
for mode in $fleet_modes; do
    # The throughput of each run over reuseport's in the same round.
    against=$(paste <(tr ' ' '\n' <<< "${tput[$mode]}" | grep .) \
                    <(tr ' ' '\n' <<< "${tput[reuseport]}" | grep .) |
              awk '{ printf "%.3f\n", $1 / $2 }' | median)
    med=$(tr ' ' '\n' <<< "${tput[$mode]}" | grep . | median)
    echo "| $mode |${r64[$mode]} |${r256[$mode]} | $med | $against |"
done
echo
echo "## A deaf worker: 4 workers, slot 3's never accepts"
echo
echo "| mode | traffic | requests/s | errors | p99 | max | answered by slot |"
echo "| --- | --- | --- | --- | --- | --- | --- |"
cmd=("${deaf_cmd[@]}")
for mode in shared default default-random; do
    case $mode in *-random) [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null || continue ;; esac
    for traffic in close keep-alive; do
        start "$mode" 4
        sleep 1.2       # the deaf slot is ready by --ready auto's 1 s
        if [ "$traffic" = close ]; then run 64 0 0 close; else run 64; fi \
            > "$out/balance-$mode-deaf-$traffic.txt"
        cleanup
        pids=()
        awk -v m="$mode" -v t="$traffic" -v f="$(wrk_failures "$out/balance-$mode-deaf-$traffic.txt")" '
            /^Requests\/sec/ { rps = $2 }
            /^latency p50/ { p99 = $5; max = $7 }
            /^slots/ { s = $2; for (i = 3; i <= NF; i++) s = s " " $i }
            END { printf "| %s | %s | %.0f | %s | %.2f ms | %.1f ms | %s |\n", m, t, rps, f,
                  p99 / 1000, max / 1000, s }' "$out/balance-$mode-deaf-$traffic.txt"
    done
done
cmd=(build/zcluster-hello)
echo
echo "## What the queue watch costs: 4 workers, c64, a new connection per request"
echo
echo "| mode | requests/s | primary CPU, ms per s | primary system calls per s | idle wake-ups in ${secs} s |"
echo "| --- | --- | --- | --- | --- |"
for mode in shared default; do
    start "$mode" 4
    primary=${pids[0]}
    cpu0=$(awk '{ print $14 + $15 }' "/proc/$primary/stat")
    strace -c -q -p "$primary" -o "$out/balance-$mode-strace.txt" & st=$!
    run 64 0 0 close > "$out/balance-$mode-cost.txt"
    kill -INT "$st" 2>/dev/null || true
    wait "$st" 2>/dev/null || true
    cpu1=$(awk '{ print $14 + $15 }' "/proc/$primary/stat")
    calls=$(awk '$NF == "total" { print $4 }' "$out/balance-$mode-strace.txt")
    sleep 1         # the last tick ends, the sockets are armed again
    w0=$(awk '/^voluntary_ctxt_switches/ { print $2 }' "/proc/$primary/status")
    sleep "$secs"
    w1=$(awk '/^voluntary_ctxt_switches/ { print $2 }' "/proc/$primary/status")
    cleanup
    pids=()
    hz=$(getconf CLK_TCK)
    awk -v m="$mode" -v r="$(rps "$out/balance-$mode-cost.txt")" -v c=$((cpu1 - cpu0)) -v hz="$hz" \
        -v s="$secs" -v n="${calls:-0}" -v w=$((w1 - w0)) \
        'BEGIN { printf "| %s | %s | %.1f | %.0f | %d |\n", m, r, c * 1000 / hz / s, n / s, w }'
done
