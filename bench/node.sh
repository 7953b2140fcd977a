#!/usr/bin/env bash
# The same Node.js cluster app under Node's own primary and under
# `zcluster --node`, side by side in one run (see bench/README.md, "Node.js
# apps").
#
#   bench/node.sh [SECONDS]        default 5 s per throughput run
#
# The app is bench/reload-node.js: its primary branch (fork WORKERS, fork a
# crashed worker again after RESPAWN_MS, a rolling reload on SIGHUP) runs
# under node; under zcluster only its worker branch runs, and zcluster is
# the primary. 2 workers on 127.0.0.1:PORT. For each manager:
#   - throughput: wrk -t2 -c64 keep-alive, requests/s, and requests per
#     worker max/min (bench/balance.lua counts them by pid);
#   - the primary's RSS with its 2 workers;
#   - 5 reloads, GAP (2) s apart, under wrk -c32 with "Connection: close":
#     failed requests (socket errors and non-2xx);
#   - kill -9 of the only worker of a 1-worker fleet: ms until a request
#     sent right after is answered by its replacement (RESPAWN_MS 100,
#     --respawn-delay 100: the same policy).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

secs=${1:-5}
port=${ZC_BENCH_PORT:-18195}
gap=${ZC_BENCH_GAP:-2}
out=bench/out
mkdir -p "$out"
scripts/deps.sh build bench
command -v node >/dev/null || { echo "bench/node.sh needs node (apt-get install nodejs)" >&2; exit 1; }
make -s all >&2
export RUNTIME_DIRECTORY=$PWD/$out/node-run RESPAWN_MS=100
mkdir -p "$RUNTIME_DIRECTORY"

pid=
cleanup() { [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; return 0; }
trap cleanup EXIT

# start MANAGER N: N workers of the app under node's primary or zcluster.
start() {
    case $1 in
        node) node bench/reload-node.js "$port" "$2" 0 >"$out/node-$1.log" 2>&1 & ;;
        zcluster) build/zcluster --node -n benchnode -w "$2" --respawn-delay 100 \
                      -- node bench/reload-node.js "$port" "$2" 0 >"$out/node-$1.log" 2>&1 & ;;
    esac
    pid=$!
    wait_port "$port"
    for _ in $(seq 1 100); do
        [ "$(wc -w < "/proc/$pid/task/$pid/children")" -ge "$2" ] && return 0
        sleep 0.05
    done
}
stop() { kill -TERM "$pid"; wait "$pid" 2>/dev/null || true; pid=; }

echo "machine: $(nproc) CPUs, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), Linux $(uname -r), node $(node --version)"
echo "command: bench/node.sh $secs"
echo
printf "%-9s %10s %12s %10s %14s %12s\n" manager "req/s" "max/min" "RSS KiB" "reload fails" "kill -9 ms"
for mgr in node zcluster; do
    start "$mgr" 2
    rss=$(awk '/^VmRSS/ { print $2 }' "/proc/$pid/status")
    wrk -t2 -c64 -d"${secs}s" -s bench/balance.lua "http://127.0.0.1:$port/" >"$out/node-wrk.txt" 2>&1
    rps=$(awk '/Requests\/sec/ { printf "%.0f", $2 }' "$out/node-wrk.txt")
    spread=$(awk '/^slots/ { max = 0; min = -1; for (i = 2; i <= NF; i++) {
                    if ($i > max) max = $i; if (min < 0 || $i < min) min = $i }
                  if (min > 0) printf "%.2f", max / min; else print "inf" }' "$out/node-wrk.txt")
    wrk -t2 -c32 -d"$((5 * gap + 2))s" -H "Connection: close" \
        "http://127.0.0.1:$port/" >"$out/node-reload-wrk.txt" 2>&1 &
    w=$!
    sleep 1
    for _ in 1 2 3 4 5; do kill -HUP "$pid"; sleep "$gap"; done
    wait "$w"
    fails=$(wrk_failures "$out/node-reload-wrk.txt")
    stop
    # kill -9 the only worker; a request sent right after waits for the new one
    start "$mgr" 1
    victim=$(cat "/proc/$pid/task/$pid/children" | awk '{ print $1 }')
    t0=$(date +%s%N)
    kill -9 "$victim"
    ms=timeout
    for _ in $(seq 1 100); do
        if curl -s -o /dev/null --max-time 5 "http://127.0.0.1:$port/"; then
            ms=$(( ($(date +%s%N) - t0) / 1000000 ))
            break
        fi
        sleep 0.01
    done
    printf "%-9s %10s %12s %10s %14s %12s\n" "$mgr" "$rps" "$spread" "$rss" "$fails" "$ms"
    stop
done | tee "$out/node.txt"
