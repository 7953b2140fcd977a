#!/usr/bin/env bash
# The control socket's costs, beside PM2's (see bench/README.md, "Control").
#
#   bench/control.sh [WORKERS] [RUNS]      defaults: 1000 workers, 30 runs
#
# 1. Status of a big fleet: zcluster with WORKERS workers (each "sleep",
#    ready at once); RUNS calls of "zclusterctl status" (the table) and of
#    "status --json", timed by hyperfine (no shell in between): wall time
#    of each call, end to end (process start, connect, answer, exit),
#    median and slowest; and the primary's CPU per call (its utime+stime
#    over the runs). "cold" calls come 1.1 s apart, so every worker's
#    /proc/PID/stat is read again (the primary keeps a sample for a
#    second); "warm" calls come back to back. Then PM2 and zcluster side by
#    side with PEER (100) processes each: "pm2 jlist" against "zclusterctl
#    status --json".
# 2. Memory: the primary's RSS with 2 workers and its control socket, after
#    start and after 200 status calls; PM2's daemon with 2 processes.
# 3. Idle: context switches of each manager's main process over IDLE (10) s
#    with 2 idle workers and nobody asking: every one is a wake-up.
#
# PM2 comes from npm (installed under bench/out/pm2 on first use); without
# npm the PM2 columns are left out.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

workers=${1:-1000}
runs=${2:-30}
peer=${ZC_BENCH_PEER:-100}
idle=${ZC_BENCH_IDLE:-10}
out=bench/out
mkdir -p "$out"
scripts/deps.sh build bench
make -s all >&2

zc=$PWD/build/zcluster
ctl=$PWD/build/zclusterctl
export RUNTIME_DIRECTORY=$PWD/$out/control-run
mkdir -p "$RUNTIME_DIRECTORY"
export PM2_HOME=$PWD/$out/pm2-home
pm2=
if [ -x "$out/pm2/node_modules/.bin/pm2" ]; then
    pm2=$PWD/$out/pm2/node_modules/.bin/pm2
elif command -v npm >/dev/null; then
    (mkdir -p "$out/pm2" && cd "$out/pm2" &&
     npm install --no-audit --no-fund --silent pm2@5 >&2) &&
        pm2=$PWD/$out/pm2/node_modules/.bin/pm2 || true
fi

zpid=
cleanup() {
    [ -n "$zpid" ] && kill -TERM "$zpid" 2>/dev/null && wait "$zpid" 2>/dev/null
    [ -n "$pm2" ] && "$pm2" kill >/dev/null 2>&1
    return 0
}
trap cleanup EXIT

ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
rss_kib() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }
switches() {
    awk '/ctxt_switches/ { n += $2 } END { print n }' "/proc/$1/status"
}

# start_fleet N: a fleet "bench" of N sleeping workers; sets zpid.
start_fleet() {
    "$zc" -n bench -w "$1" --ready immediate --shutdown-timeout 5s \
        -- sleep 3600 >"$out/control-zcluster.log" 2>&1 &
    zpid=$!
    for _ in $(seq 1 600); do
        grep -q "all $1 workers ready" "$out/control-zcluster.log" && return 0
        sleep 0.05
    done
    echo "the fleet of $1 did not get ready" >&2
    return 1
}
# (waits for the primary by pid: a bare "wait" would wait for tee too)
stop_fleet() {
    "$ctl" -n bench stop --timeout 20s >/dev/null 2>&1 || true
    wait "$zpid" 2>/dev/null || true
    zpid=
}

# time_calls N PREPARE CMD: "median slowest" in ms of N runs of CMD
# (a string, no shell), PREPARE run before each (untimed; "" for none).
time_calls() {
    local csv=$out/control-hyperfine.csv prep=()
    [ -n "$2" ] && prep=(--prepare "$2")
    hyperfine -N --style none --runs "$1" "${prep[@]}" --export-csv "$csv" "$3" >/dev/null 2>&1
    awk -F, 'NR == 2 { printf "%.2f %.2f\n", $4 * 1000, $8 * 1000 }' "$csv"
}

machine() {
    echo "machine: $(nproc) CPUs, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), Linux $(uname -r)"
}

# Everything said goes to the results file too; no pipeline, so the
# fleets started below are this shell's, and cleanup stops them.
exec > >(tee "$out/control.txt")
machine
echo "command: bench/control.sh $workers $runs (peer $peer, idle ${idle}s)"
echo

# --- 1. status of a big fleet ---
start_fleet "$workers"
hz=$(getconf CLK_TCK)
for form in table json; do
    cmd="$ctl -n bench status"
    [ "$form" = json ] && cmd="$cmd --json"
    for temp in cold warm; do
        prep=
        n=$runs
        [ "$temp" = cold ] && { prep="sleep 1.1"; n=$(( runs < 10 ? runs : 10 )); }
        $cmd >/dev/null
        t0=$(ticks "$zpid")
        read -r med max < <(time_calls "$n" "$prep" "$cmd")
        cpu=$(awk -v a="$t0" -v b="$(ticks "$zpid")" -v n="$((n + 1))" -v hz="$hz" \
              'BEGIN { printf "%.1f", (b - a) * 1000 / hz / n }')
        printf "status (%s, %s), %d workers: median %s ms, slowest %s ms end to end (%d calls); primary CPU %s ms per call\n" \
            "$form" "$temp" "$workers" "$med" "$max" "$n" "$cpu"
    done
done
bytes=$("$ctl" -n bench status --json | wc -c)
echo "status document: $bytes bytes for $workers workers"
stop_fleet

start_fleet "$peer"
read -r zmed zmax < <(time_calls "$runs" "" "$ctl -n bench status --json")
stop_fleet
if [ -n "$pm2" ]; then
    "$pm2" kill >/dev/null 2>&1 || true
    "$pm2" start "$(command -v sleep)" --name bench -f -i "$peer" -- 3600 >/dev/null 2>&1
    read -r pmed pmax < <(time_calls "$runs" "" "$pm2 jlist")
    "$pm2" kill >/dev/null 2>&1
    printf "side by side, %d processes: zclusterctl status --json median %s ms (slowest %s); pm2 jlist median %s ms (slowest %s); PM2/zcluster %s\n" \
        "$peer" "$zmed" "$zmax" "$pmed" "$pmax" \
        "$(awk -v a="$pmed" -v b="$zmed" 'BEGIN { printf "%.0f", a / b }')"
else
    printf "side by side, %d processes: zclusterctl status --json median %s ms (PM2 not available)\n" \
        "$peer" "$zmed"
fi

# --- 2. memory, 3. idle wake-ups ---
start_fleet 2
sleep 1
r0=$(rss_kib "$zpid")
for _ in $(seq 1 200); do "$ctl" -n bench status --json >/dev/null; done
r1=$(rss_kib "$zpid")
s0=$(switches "$zpid")
sleep "$idle"
s1=$(switches "$zpid")
echo "zcluster primary, 2 workers, control socket: RSS ${r0} KiB at start, ${r1} KiB after 200 status calls; $((s1 - s0)) wake-ups in ${idle} s idle"
stop_fleet
if [ -n "$pm2" ]; then
    "$pm2" start "$(command -v sleep)" --name bench -f -i 2 -- 3600 >/dev/null 2>&1
    god=$(cat "$PM2_HOME/pm2.pid")
    sleep 1
    r0=$(rss_kib "$god")
    s0=$(switches "$god")
    sleep "$idle"
    s1=$(switches "$god")
    echo "PM2 daemon, 2 processes: RSS ${r0} KiB; $((s1 - s0)) wake-ups in ${idle} s idle"
    "$pm2" kill >/dev/null 2>&1
fi
