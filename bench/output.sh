#!/usr/bin/env bash
# The workers' output through the primary, against none (see
# bench/README.md, "Worker output"): one worker, bench/writer, writes
# LINES lines of BYTES bytes to its stdout, one write(2) a line as a
# logging library does; the primary's stdout is a pipe that `cat` empties
# into /dev/null, as a journal or a container runtime reads it. For
# --output inherit (the worker writes to that pipe itself), prefix and
# json, in an order that rotates every round:
#   - the worker's throughput, MiB/s, as it times its own writes;
#   - the primary's CPU time (user + system, from /proc) per MiB it passed.
#
#   bench/output.sh [ROUNDS]       default 5; ZC_BENCH_LINES (1000000) and
#                                  ZC_BENCH_BYTES (120) size each run
# Everything is local; every wait is bounded.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

rounds=${1:-5}
lines=${ZC_BENCH_LINES:-1000000}
bytes=${ZC_BENCH_BYTES:-120}
out=bench/out
mkdir -p "$out"
scripts/deps.sh build >&2
make -s all bench >&2
trap cleanup EXIT
tick=$(getconf CLK_TCK)
modes=(inherit prefix json)

# run MODE: prints "MiB/s cpu_ms_per_MiB" for one run.
run() {
    local mode=$1 log=$out/output-$mode.log fifo=$out/output.fifo zpid
    rm -f "$fifo" "$log"
    mkfifo "$fifo"
    cat "$fifo" >/dev/null &
    pids+=($!)
    build/zcluster -w 1 --control none --respawn never --output "$mode" -- \
        /bin/sh -c "build/bench/writer $lines $bytes; sleep 1" \
        >"$fifo" 2>"$log" &
    zpid=$!
    pids+=("$zpid")
    for _ in $(seq 1 1200); do
        grep -q "wrote .* MiB in" "$log" && break
        sleep 0.05
    done
    grep -q "wrote .* MiB in" "$log" || { echo "no result in $log" >&2; exit 1; }
    # what is left in the pipe and the queue (at most a few hundred KiB)
    sleep 0.3
    awk -v t="$tick" '{ print ($14 + $15) / t }' "/proc/$zpid/stat" > "$out/output.cpu"
    wait "$zpid" || true
    rm -f "$fifo"
    sed -n 's/.*wrote \([0-9.]*\) MiB in \([0-9.]*\) s.*/\1 \2/p' "$log" | head -1 |
        awk -v cpu="$(cat "$out/output.cpu")" '{ printf "%.1f %.3f\n", $1 / $2, cpu * 1000 / $1 }'
}

declare -A rate cpu
for r in $(seq 1 "$rounds"); do
    for k in 0 1 2; do
        mode=${modes[$(( (k + r) % 3 ))]}
        read -r mibs ms < <(run "$mode")
        rate[$mode]+="$mibs "
        cpu[$mode]+="$ms "
        echo "round $r: $mode: $mibs MiB/s, the primary $ms ms of CPU per MiB" >&2
    done
done

med() { tr ' ' '\n' | grep . | median; }
base=$(echo "${rate[inherit]}" | med)
{
    echo "worker output, $lines lines of $bytes bytes, median of $rounds rounds"
    echo "machine: $(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(uname -r)"
    printf "| --output | worker MiB/s | ratio to inherit | the primary's CPU, ms per MiB |\n"
    printf "| --- | --- | --- | --- |\n"
    for m in "${modes[@]}"; do
        r=$(echo "${rate[$m]}" | med)
        printf "| %s | %s | %.2f | %s |\n" "$m" "$r" "$(echo "$r $base" | awk '{ print $1 / $2 }')" \
            "$(echo "${cpu[$m]}" | med)"
    done
} | tee "$out/output.txt"
