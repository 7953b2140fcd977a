#!/usr/bin/env bash
# A soak: a fleet under keep-alive load for SECONDS while its workers are
# killed and it is reloaded, watching that nothing leaks and no counter
# goes back (see bench/README.md, "Soak").
#
#   bench/soak.sh [SECONDS] [BALANCE]      default 60 s, least-conn
#
# 4 zcluster-hello workers on 127.0.0.1:PORT, wrk -t2 -c64 (keep-alive) for
# SECONDS; every 2 s a random worker is killed with SIGKILL, every 10 s a
# rolling reload (zclusterctl reload); /metrics is read every second and
# every counter (_total, _count, _sum, _bucket) compared with its last
# value. It prints the requests, the failed ones, the failures per kill
# against the connections a killed worker held, the primary's fds and RSS
# before and after, and the counters that went back (0 is the promise).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

secs=${1:-60}
balance=${2:-least-conn}
port=${ZC_BENCH_PORT:-18197}
mport=$((port + 1))
out=bench/out
mkdir -p "$out"
scripts/deps.sh build bench
make -s all >&2
export RUNTIME_DIRECTORY=$PWD/$out/soak-run
mkdir -p "$RUNTIME_DIRECTORY"
trap cleanup EXIT

build/zcluster -n soak -w 4 --balance "$balance" -l "127.0.0.1:$port" \
    --metrics "127.0.0.1:$mport" --respawn-delay 100 -- build/zcluster-hello \
    >"$out/soak.log" 2>&1 &
pids=($!)
primary=${pids[0]}
wait_port "$port"
fds() { ls "/proc/$primary/fd" | wc -l; }
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$primary/status"; }
series() { curl -s --max-time 2 "http://127.0.0.1:$mport/metrics" | awk '$1 == "zcluster_metrics_series" { print $2 }'; }
fds0=$(fds) rss0=$(rss) series0=$(series)

# counters FILE: every counter sample of a scrape, "key value" a line.
counters() {
    curl -s --max-time 2 "http://127.0.0.1:$mport/metrics" |
        awk '!/^#/ && $1 ~ /(_total|_count|_sum|_bucket)({|$)/ { print $1, $2 }' >"$1"
}

wrk -t2 -c64 -d"${secs}s" "http://127.0.0.1:$port/" >"$out/soak-wrk.txt" 2>&1 &
w=$!
counters "$out/soak-prev.txt"
kills=0 reloads=0 back=0
for t in $(seq 1 "$secs"); do
    sleep 1
    if [ $((t % 2)) -eq 0 ] && [ "$t" -lt "$secs" ]; then
        victim=$(tr ' ' '\n' < "/proc/$primary/task/$primary/children" | grep . | shuf -n 1)
        [ -n "$victim" ] && kill -9 "$victim" 2>/dev/null && kills=$((kills + 1))
    fi
    if [ $((t % 10)) -eq 5 ]; then
        build/zclusterctl -n soak reload --no-wait >/dev/null 2>&1 && reloads=$((reloads + 1))
    fi
    counters "$out/soak-now.txt"
    back=$((back + $(awk 'NR == FNR { v[$1] = $2; next }
                         ($1 in v) && $2 + 0 < v[$1] + 0 { n++ } END { print n + 0 }' \
                     "$out/soak-prev.txt" "$out/soak-now.txt")))
    mv "$out/soak-now.txt" "$out/soak-prev.txt"
done
wait "$w"
sleep 1
fds1=$(fds) rss1=$(rss) series1=$(series)
requests=$(awk '/requests in/ { print $1 }' "$out/soak-wrk.txt")
failed=$(wrk_failures "$out/soak-wrk.txt")

echo "machine: $(nproc) CPUs, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), Linux $(uname -r)"
echo "command: bench/soak.sh $secs $balance"
echo
printf "%-28s %s\n" "requests" "$requests" \
    "failed" "$failed" \
    "kills (SIGKILL)" "$kills" \
    "reloads" "$reloads" \
    "failed per kill" "$(awk -v f="$failed" -v k="$kills" 'BEGIN { printf "%.1f", k ? f / k : 0 }')" \
    "connections a worker held" "16 (64 over 4)" \
    "counters that went back" "$back" \
    "primary fds before, after" "$fds0 -> $fds1" \
    "primary RSS KiB before, after" "$rss0 -> $rss1" \
    "series held before, after" "$series0 -> $series1" | tee "$out/soak.txt"
