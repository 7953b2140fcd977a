#!/usr/bin/env bash
# Sticky sessions: new connections per second (Connection: close) through
# zcluster's sticky primary, side by side in one run with the same
# workers accepting directly, and with Node's cluster doing the spec's
# hand-off (bench/sticky-node.js); and the primary's CPU time per
# connection it handed off (utime + stime over connections).
#
#   bench/sticky.sh [ROUNDS] [SECONDS]      defaults: 3 rounds of 10 s
#   WRK_THREADS=2 WRK_CONNS=64                wrk's -t and -c (these defaults)
#   ZC_BENCH_BEFORE=DIR                       also another tree's build (its
#                                             zcluster and zcluster-hello),
#                                             sticky, in the same rounds
#
# Each round runs the three in a rotated order: wrk for SECONDS against 2
# workers on 127.0.0.1, after a 1 s warm-up. wrk's connections all come
# from 127.0.0.1, so in both sticky runs one worker serves them all. zcluster's connection count is the
# primary's own zcluster_sticky_handoffs_total; Node's is wrk's request
# count (one request per connection). Medians over the rounds.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

rounds=${1:-3}
secs=${2:-10}
wt=${WRK_THREADS:-2}
wc=${WRK_CONNS:-64}
port=${ZC_BENCH_PORT:-18200}
mport=$((port + 1))
out=bench/out
mkdir -p "$out"
scripts/deps.sh build bench
make -s all >&2
node_ok=0
command -v node >/dev/null && node_ok=1
[ "$node_ok" = 1 ] || echo "node is not installed: the Node column is left out" >&2

trap cleanup EXIT

# ticks PID: utime + stime, in clock ticks.
ticks() { awk '{ sub(/.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)

# handoffs: the sticky primary's count so far.
handoffs() {
    curl -s "http://127.0.0.1:$mport/metrics" |
        awk '$1 == "zcluster_sticky_handoffs_total" { print $2 }'
}

# load: wrk's requests per second and request count.
load() {
    wrk -t"$wt" -c"$wc" -d"${secs}s" -H 'Connection: close' "http://127.0.0.1:$port/" > "$out/sticky-wrk.txt" 2>&1 || true
    awk '/Requests\/sec/ { rps = $2 } / requests in / { n = $1 } END { print rps, n }' "$out/sticky-wrk.txt"
}

run() {   # run direct|sticky|node ROUND
    local kind=$1 t0 t1 h0 h1 res
    case "$kind" in
        direct) build/zcluster -w 2 -l "127.0.0.1:$port" -- build/zcluster-hello \
                    2> "$out/sticky-direct.log" & ;;
        sticky) build/zcluster --sticky -w 2 -l "127.0.0.1:$port" \
                    --metrics "127.0.0.1:$mport" -- build/zcluster-hello \
                    2> "$out/sticky-sticky.log" & ;;
        before) "$ZC_BENCH_BEFORE/zcluster" --sticky -w 2 -l "127.0.0.1:$port" \
                    --metrics "127.0.0.1:$mport" -- "$ZC_BENCH_BEFORE/zcluster-hello" \
                    2> "$out/sticky-before.log" & ;;
        node)   node bench/sticky-node.js "$port" 2 > "$out/sticky-node.log" 2>&1 & ;;
    esac
    pids=($!)
    wait_port "$port"
    # Warm-up, then the measured run.
    wrk -t"$wt" -c"$wc" -d1s -H 'Connection: close' "http://127.0.0.1:$port/" > /dev/null 2>&1 || true
    t0=$(ticks "${pids[0]}")
    case $kind in sticky|before) h0=$(handoffs) ;; esac
    res=$(load)
    t1=$(ticks "${pids[0]}")
    if [ "$kind" = sticky ] || [ "$kind" = before ]; then
        h1=$(handoffs)
        conns=$((h1 - h0))
    else
        conns=${res#* }
    fi
    echo "$kind ${res% *} $(awk -v t=$((t1 - t0)) -v c="$conns" -v hz="$hz" \
        'BEGIN { printf "%.2f", c ? t / hz * 1e6 / c : 0 }') $conns"
    cleanup
    pids=()
}

res=$out/sticky-results.txt
: > "$res"
kinds=(direct sticky)
[ "$node_ok" = 1 ] && kinds+=(node)
[ -n "${ZC_BENCH_BEFORE:-}" ] && kinds+=(before)
for r in $(seq 1 "$rounds"); do
    n=${#kinds[@]}
    for i in $(seq 0 $((n - 1))); do
        k=${kinds[$(((i + r) % n))]}
        echo "round $r: $k" >&2
        run "$k" | tee -a "$res" >&2
    done
done

# kind, median conn/s, median primary us per connection
summary() {
    local kind=$1
    local rate us
    rate=$(awk -v k="$kind" '$1 == k { print $2 }' "$res" | median)
    us=$(awk -v k="$kind" '$1 == k { print $3 }' "$res" | median)
    printf '%-8s %10s conn/s   primary %6s us/conn\n' "$kind" "$rate" "$us"
}
echo
echo "bench/sticky.sh $rounds $secs on $(nproc) CPUs, $(uname -r); wrk -t$wt -c$wc, Connection: close, 2 workers"
for k in "${kinds[@]}"; do summary "$k"; done
direct=$(awk '$1 == "direct" { print $2 }' "$res" | median)
sticky=$(awk '$1 == "sticky" { print $2 }' "$res" | median)
awk -v s="$sticky" -v d="$direct" 'BEGIN { printf "sticky / direct: %.2f\n", s / d }'
if [ -n "${ZC_BENCH_BEFORE:-}" ]; then
    bf=$(awk '$1 == "before" { print $2 }' "$res" | median)
    awk -v s="$sticky" -v b="$bf" 'BEGIN { printf "sticky after / before: %.2f\n", s / b }'
fi
if [ "$node_ok" = 1 ]; then
    nd=$(awk '$1 == "node" { print $2 }' "$res" | median)
    awk -v s="$sticky" -v n="$nd" 'BEGIN { printf "sticky / Node spec-style: %.1fx\n", s / n }'
fi
