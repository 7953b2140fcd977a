#!/usr/bin/env bash
# The primary upgraded in place under load, side by side in one run with a
# rolling reload, HAProxy's own in-place re-execution, and no event at all
# (see bench/README.md, "Upgrade").
#
#   bench/upgrade.sh [ROUNDS] [EVENTS]      defaults: 3 rounds of 5 events
#
# Each round, for each case, wrk keeps CONNS (32) connections busy for
# EVENTS x GAP (1 s) + 1 seconds, once with keep-alive and once with
# "Connection: close", while EVENTS events happen GAP apart:
#   upgrade   zcluster -w 2 -- zcluster-hello, started from a symlink that is
#             re-pointed between two builds of the tool with different
#             versions (build/zcluster, build/tests/zcluster-b) before each
#             `zclusterctl upgrade`
#   reload    the same fleet, `zclusterctl reload` (every worker replaced)
#   haproxy   haproxy -W (master-worker) answering every request itself
#             (http-request return), `kill -USR2` of its master: the master
#             re-executes itself in place and starts new workers, the old
#             ones finish (HAProxy's upgrade and reload are one)
#   idle      the same zcluster fleet, no event: the baseline
# Figures: wrk's failed requests (socket errors and non-2xx), its latency
# max and 99th percentile; for upgrades, the time the primary was away
# (zcluster's own figure: from the old image's exec to the new image's loop
# running, GET /upgrade's away_ms) and zclusterctl upgrade's wall time
# (preflight, exec, take-over, and the client's asking again).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

rounds=${1:-3}
events=${2:-5}
port=${ZC_BENCH_PORT:-18290}
conns=${ZC_BENCH_CONNS:-32}
gap=${ZC_BENCH_GAP:-1}
out=bench/out
mkdir -p "$out"
scripts/deps.sh build bench
command -v haproxy >/dev/null || { echo "bench/upgrade.sh needs haproxy (apt-get install haproxy)" >&2; exit 1; }
make -s all >&2

work=$(mktemp -d)
trap 'cleanup; rm -rf "$work"' EXIT
image=$work/zcluster
ln -s "$PWD/build/zcluster" "$image"
ctl="build/zclusterctl -n zcbench"

cat >"$work/haproxy.cfg" <<EOF
global
    nbthread 2
defaults
    mode http
    timeout client 10s
    timeout connect 5s
    timeout server 10s
frontend hello
    bind 127.0.0.1:$port
    http-request return status 200 content-type text/plain string "hello"
EOF

start() {   # start CASE LOG
    case $1 in
        haproxy) haproxy -W -db -f "$work/haproxy.cfg" >"$2" 2>&1 & ;;
        *) ln -sfn "$PWD/build/zcluster" "$image"
           "$image" -w 2 -l "127.0.0.1:$port" --name zcbench -- \
               "$PWD/build/zcluster-hello" >"$2" 2>&1 & ;;
    esac
    pids=($!)
    wait_port "$port"
    sleep 0.5   # every worker up, not only the first
}

# One event of CASE, the n-th; an upgrade's figures appended to FILE.
event() {   # event CASE N FILE
    case $1 in
        upgrade)
            if [ $(($2 % 2)) -eq 1 ]; then target=build/tests/zcluster-b; else target=build/zcluster; fi
            ln -sfn "$PWD/$target" "$image.new" && mv -T "$image.new" "$image"
            t0=$(date +%s%N)
            json=$($ctl --json upgrade 2>>"$3.log") || echo "upgrade failed" >>"$3.log"
            t1=$(date +%s%N)
            away=$(echo "$json" | sed -n 's/.*"away_ms": \([0-9.]*\).*/\1/p')
            echo "$away $(( (t1 - t0) / 1000 ))" >>"$3" ;;
        reload) $ctl reload 2>>"$3.log" >/dev/null || echo "reload failed" >>"$3.log" ;;
        haproxy) kill -USR2 "${pids[0]}" ;;
        idle) : ;;
    esac
}

# wrk's latency field in ms: "812.00us", "1.20ms", "1.01s".
to_ms() {
    awk '{ v = $1; if (v ~ /us$/) { sub("us", "", v); v /= 1000 }
           else if (v ~ /ms$/) { sub("ms", "", v) }
           else if (v ~ /s$/) { sub("s", "", v); v *= 1000 }
           printf "%.2f\n", v }'
}

run() {   # run CASE MODE ROUND
    local case=$1 mode=$2 r=$3 base="$out/upgrade-$1-$2-$3"
    local hdr=() secs=$((events * gap + 1))
    [ "$mode" = close ] && hdr=(-H "Connection: close")
    : >"$base.events"
    start "$case" "$base.server.log"
    wrk -t1 -c"$conns" -d"${secs}s" --latency "${hdr[@]}" \
        "http://127.0.0.1:$port/" >"$base.wrk" 2>&1 &
    local wrk_pid=$!
    sleep 0.5
    for n in $(seq 1 "$events"); do
        event "$case" "$n" "$base.events"
        sleep "$gap"
    done
    wait "$wrk_pid"
    cleanup
    wait_free "$port"
    local failed max p99 reqs
    failed=$(wrk_failures "$base.wrk")
    reqs=$(awk '/requests in/ { print $1 }' "$base.wrk")
    max=$(awk '/^    Latency/ { print $4 }' "$base.wrk" | to_ms)
    p99=$(awk '/^ +99%/ { print $2 }' "$base.wrk" | to_ms)
    echo "$case $mode $r $failed $reqs $max $p99" >>"$out/upgrade-summary.txt"
}

: >"$out/upgrade-summary.txt"
cases=(upgrade reload haproxy idle)
for r in $(seq 1 "$rounds"); do
    for k in "${!cases[@]}"; do
        # The order rotates every round.
        c=${cases[$(( (k + r) % ${#cases[@]} ))]}
        run "$c" keep-alive "$r"
        run "$c" close "$r"
    done
done

echo "# $(date -u +%F), bench/upgrade.sh $rounds $events: $(nproc) CPUs," \
     "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)," \
     "$(uname -r), $(haproxy -v | head -1)"
echo "# case mode: failed (sum) of requests (sum); latency max, 99% (ms), median of $rounds rounds"
for c in "${cases[@]}"; do
    for m in keep-alive close; do
        rows=$(awk -v c="$c" -v m="$m" '$1 == c && $2 == m' "$out/upgrade-summary.txt")
        fsum=$(echo "$rows" | awk '{ s += $4 } END { print s + 0 }')
        rsum=$(echo "$rows" | awk '{ s += $5 } END { print s + 0 }')
        printf '%-8s %-10s failed %s of %s; max %s ms (worst %s), p99 %s ms\n' "$c" "$m" \
            "$fsum" "$rsum" "$(echo "$rows" | awk '{ print $6 }' | median)" \
            "$(echo "$rows" | awk '{ print $6 }' | sort -n | tail -1)" \
            "$(echo "$rows" | awk '{ print $7 }' | median)"
    done
done
cat "$out"/upgrade-upgrade-*.events 2>/dev/null | awk 'NF == 2' >"$work/away"
if [ -s "$work/away" ]; then
    echo "# upgrades: $(wc -l <"$work/away"); away (exec to loop), ms: median" \
         "$(awk '{ print $1 }' "$work/away" | median), max" \
         "$(awk '{ print $1 }' "$work/away" | sort -n | tail -1);" \
         "zclusterctl upgrade wall time, ms: median" \
         "$(awk '{ printf "%.1f\n", $2 / 1000 }' "$work/away" | median), max" \
         "$(awk '{ printf "%.1f\n", $2 / 1000 }' "$work/away" | sort -n | tail -1)"
fi
