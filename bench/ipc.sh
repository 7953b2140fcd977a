#!/usr/bin/env bash
# IPC between a primary and one worker: zcluster against Node's cluster,
# side by side in one run (see bench/README.md, "IPC").
#
#   bench/ipc.sh [ROUNDS]        default 5
#
# Per round, alternating which goes first: messages/s worker -> primary and
# primary -> worker (64-byte payloads), and round-trip latency p50/p99,
# once as the scheduler places the two processes and once with both pinned
# to CPU 0 (taskset), with a raw socketpair ping-pong as the floor. Prints
# the medians over the rounds. Everything is local and bounded.
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=${1:-5}
out=bench/out
zc_n=${ZC_BENCH_IPC_COUNT:-2000000}
node_n=${ZC_BENCH_IPC_NODE_COUNT:-300000}
rtt_n=${ZC_BENCH_IPC_RTT:-50000}
node_rtt_n=${ZC_BENCH_IPC_NODE_RTT:-20000}
mkdir -p "$out"
scripts/deps.sh build bench
command -v node >/dev/null || { echo "bench/ipc.sh needs node (apt-get install nodejs)" >&2; exit 1; }
make -s all bench >&2
export ZC_LOG_LEVEL=error
res="$out/ipc.txt"
: >"$res"

one() {     # LABEL COMMAND...: appends "LABEL <result line>"
    local label=$1
    shift
    echo "$label $(timeout 120 "$@")" >>"$res"
}

for r in $(seq 1 "$rounds"); do
    echo "round $r/$rounds" >&2
    for first in zc node; do
        if { [ $((r % 2)) -eq 1 ] && [ $first = zc ]; } || { [ $((r % 2)) -eq 0 ] && [ $first = node ]; }; then
            for m in w2p p2w; do one "$m" build/bench/ipc $m "$zc_n"; done
            one rtt build/bench/ipc rtt "$rtt_n"
            one rtt-pinned taskset -c 0 build/bench/ipc rtt "$rtt_n"
        else
            for m in w2p p2w; do one "$m" node bench/ipc-node.js $m "$node_n"; done
            one rtt node bench/ipc-node.js rtt "$node_rtt_n"
            one rtt-pinned taskset -c 0 node bench/ipc-node.js rtt "$node_rtt_n"
        fi
    done
    one rtt build/bench/pingpong "$rtt_n"
    one rtt-pinned taskset -c 0 build/bench/pingpong "$rtt_n"
done

# Medians per (measure, who): throughput, or p50 and p99.
awk '
function median(list,   n, a, i, j, t) {
    n = split(list, a, " ")
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++)
        if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
$1 ~ /^(w2p|p2w)$/ { v[$1 " " $2] = v[$1 " " $2] " " $4 }
$1 ~ /^rtt/ { p50[$1 " " $2] = p50[$1 " " $2] " " $5; p99[$1 " " $2] = p99[$1 " " $2] " " $8 }
END {
    for (m in v) { split(m, k, " "); thr[k[1], k[2]] = median(v[m]) }
    for (d = 1; d <= 2; d++) {
        dir = d == 1 ? "w2p" : "p2w"
        z = thr[dir, "zcluster"]; n = thr[dir, "node"]
        printf "%-4s  zcluster %10.0f msgs/s   node %8.0f msgs/s   ratio %.1fx\n", dir, z, n, z / n
    }
    split("rtt rtt-pinned", kinds, " ")
    for (i = 1; i <= 2; i++) for (w = 1; w <= 3; w++) {
        who = w == 1 ? "zcluster" : w == 2 ? "node" : "floor"
        key = kinds[i] " " who
        if (key in p50)
            printf "%-10s %-8s p50 %6.1f us  p99 %6.1f us\n", kinds[i], who, median(p50[key]), median(p99[key])
    }
}' "$res"
echo "(raw results: $res)"
