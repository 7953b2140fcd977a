#!/usr/bin/env bash
# Metrics: what counting costs in a worker, and what a scrape costs, for
# zcluster and for Node's cluster with prom-client, in one run.
#
#   bench/metrics.sh [ROUNDS] [SCRAPES]     defaults: 3 rounds of 30 scrapes
#
# 1. ns per counter increment on a labelled series (and per histogram
#    observation): zcluster's zc_metric_inc against prom-client's inc(),
#    100 M and 10 M operations; 2 threads on one counter for zcluster.
# 2. Scrape latency with 64 workers of 1000 series each: zcluster's
#    /metrics (shared memory, summed in the primary) against Node's
#    cluster with prom-client's AggregatorRegistry (a snapshot over IPC
#    from every worker at each scrape). curl's time_total, median and max.
#
# Everything runs on 127.0.0.1; every loop is bounded.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

rounds=${1:-3}
scrapes=${2:-30}
workers=64
series=1000
mport=${ZC_BENCH_PORT:-18190}
out=bench/out
mkdir -p "$out"
scripts/deps.sh build bench
make -s all bench >&2
node_ok=0
if command -v node >/dev/null && [ -d "$out/node_modules/prom-client" ] ||
   (cd "$out" && timeout 120 npm install --silent --no-audit --no-fund prom-client@15 >/dev/null 2>&1); then
    node_ok=1
    export NODE_PATH="$PWD/$out/node_modules"
else
    echo "prom-client could not be installed: the Node columns are left out" >&2
fi

trap cleanup EXIT

# scrape_times URL N: time_total of N scrapes, in ms, one per line.
scrape_times() {
    for _ in $(seq 1 "$2"); do
        curl -s -o /dev/null -m 30 -w '%{time_total}\n' "$1"
    done | awk '{ printf "%.2f\n", $1 * 1000 }'
}

res=$out/metrics-results.txt
: > "$res"
for r in $(seq 1 "$rounds"); do
    echo "round $r: increments" >&2
    echo "inc zcluster $(build/bench/metrics inc 100000000)" >> "$res"
    echo "inc2 zcluster $(build/bench/metrics inc2 50000000)" >> "$res"
    echo "observe zcluster $(build/bench/metrics observe 50000000)" >> "$res"
    if [ "$node_ok" = 1 ]; then
        echo "inc node $(node bench/metrics-node.js inc 10000000)" >> "$res"
        echo "observe node $(node bench/metrics-node.js observe 10000000)" >> "$res"
    fi

    echo "round $r: scrapes, $workers workers x $series series" >&2
    build/zcluster -w "$workers" --metrics "127.0.0.1:$mport" -- \
        build/bench/metrics worker "$series" 2> "$out/metrics-zcluster.log" &
    pids=($!)
    wait_url "http://127.0.0.1:$mport/readyz" 1200
    curl -s "http://127.0.0.1:$mport/metrics" > "$out/metrics-zcluster.txt"
    scrape_times "http://127.0.0.1:$mport/metrics" "$scrapes" | sed 's/^/scrape zcluster /' >> "$res"
    echo "rss zcluster $(awk '/VmRSS/ { print $2 }' "/proc/${pids[0]}/status" 2>/dev/null || echo 0)" >> "$res"
    cleanup
    pids=()
    if [ "$node_ok" = 1 ]; then
        node bench/metrics-node.js cluster "$workers" "$series" "$mport" > "$out/metrics-node.log" 2>&1 &
        pids=($!)
        wait_url "http://127.0.0.1:$mport/metrics" 1200
        curl -s "http://127.0.0.1:$mport/metrics" > "$out/metrics-node.txt"
        scrape_times "http://127.0.0.1:$mport/metrics" "$scrapes" | sed 's/^/scrape node /' >> "$res"
        echo "rss node $(awk '/VmRSS/ { print $2 }' "/proc/${pids[0]}/status" 2>/dev/null || echo 0)" >> "$res"
        cleanup
        pids=()
    fi
done

echo
echo "metrics, $rounds rounds; $(nproc) CPUs, $(uname -r)"
printf '%-28s %12s %12s\n' "" zcluster "node+prom-client"
row() {     # row LABEL KIND UNIT
    local z n
    z=$(awk -v k="$2" '$1 == k && $2 == "zcluster" { print $3 }' "$res" | median)
    n=$(awk -v k="$2" '$1 == k && $2 == "node" { print $3 }' "$res" | median)
    printf '%-28s %12s %12s\n' "$1" "${z:--}" "${n:--}"
}
row "counter inc, ns" inc
row "counter inc, 2 threads, ns" inc2
row "histogram observe, ns" observe
row "scrape, ms (median)" scrape
printf '%-28s %12s %12s\n' "scrape, ms (max)" \
    "$(awk '$1 == "scrape" && $2 == "zcluster" { print $3 }' "$res" | sort -n | tail -1)" \
    "$(awk '$1 == "scrape" && $2 == "node" { print $3 }' "$res" | sort -n | tail -1)"
row "primary RSS, KiB" rss
printf '%-28s %12s %12s\n' "exposition, bytes" \
    "$(wc -c < "$out/metrics-zcluster.txt")" \
    "$( [ -f "$out/metrics-node.txt" ] && wc -c < "$out/metrics-node.txt" || echo -)"
