#!/usr/bin/env bash
# Keep-alive clients across rolling reloads of a Node.js cluster app,
# under Node's own primary and under `zcluster --node`, side by side in one
# run, with zcluster's own server (zcluster-hello) under zcluster as the
# reference (see bench/README.md, "Node.js apps: keep-alive across
# reloads").
#
#   bench/node-keepalive.sh [RUNS]      default 3 runs of each
#
# Each run: 2 workers on 127.0.0.1:PORT, wrk -t2 -c4 (keep-alive) for
# 12 s, 5 reloads (SIGHUP) 2 s apart from its second second. A request
# lost on a keep-alive connection the server closed is one of wrk's read
# errors. The app is bench/reload-node.js (its primary branch does the
# rolling reload under node; under zcluster only its worker branch runs).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

runs=${1:-3}
port=${ZC_BENCH_PORT:-18196}
out=bench/out
mkdir -p "$out"
scripts/deps.sh build bench
command -v node >/dev/null || { echo "bench/node-keepalive.sh needs node (apt-get install nodejs)" >&2; exit 1; }
make -s all >&2
export RUNTIME_DIRECTORY=$PWD/$out/node-ka-run
mkdir -p "$RUNTIME_DIRECTORY"
trap cleanup EXIT

# start SETUP: 2 workers on $port, its primary's pid in pids.
start() {
    case $1 in
        node) node bench/reload-node.js "$port" 2 0 >"$out/node-ka-$1.log" 2>&1 & ;;
        zcluster-node) build/zcluster --node -n benchka -w 2 \
                           -- node bench/reload-node.js "$port" 2 0 >"$out/node-ka-$1.log" 2>&1 & ;;
        zcluster-hello) build/zcluster -n benchka -w 2 -l "127.0.0.1:$port" \
                            -- build/zcluster-hello >"$out/node-ka-$1.log" 2>&1 & ;;
    esac
    pids=($!)
    wait_port "$port"
}

echo "machine: $(nproc) CPUs, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), Linux $(uname -r), node $(node --version)"
echo "command: bench/node-keepalive.sh $runs"
echo
printf "%-15s %-24s %-8s %12s\n" setup "lost requests per run" median "requests/run"
for setup in node zcluster-node zcluster-hello; do
    lost=() total=()
    for _ in $(seq 1 "$runs"); do
        start "$setup"
        wrk -t2 -c4 -d12s "http://127.0.0.1:$port/" >"$out/node-ka-wrk.txt" 2>&1 &
        w=$!
        sleep 1
        for _ in 1 2 3 4 5; do kill -HUP "${pids[0]}"; sleep 2; done
        wait "$w"
        lost+=("$(wrk_failures "$out/node-ka-wrk.txt")")
        total+=("$(awk '/requests in/ { print $1 }' "$out/node-ka-wrk.txt")")
        cleanup
        pids=()
    done
    printf "%-15s %-24s %-8s %12s\n" "$setup" "${lost[*]}" \
        "$(printf '%s\n' "${lost[@]}" | median)" "$(printf '%s\n' "${total[@]}" | median)"
done | tee "$out/node-keepalive.txt"
