#!/usr/bin/env bash
# Rolling reload under load, side by side in one run (see bench/README.md).
#
#   bench/reload.sh [ROUNDS] [RELOADS]      defaults: 3 rounds of 5 reloads
#
# Three managers of 2 workers that take STARTUP ms (200) to start, each
# reloaded RELOADS times, GAP seconds (3) apart, while wrk keeps CONNS (32)
# connections busy,
# once with keep-alive and once with "Connection: close":
#   zcluster      zcluster -w 2 -- zcluster-hello, SIGHUP
#   node          Node's cluster doing the spec's reload() (bench/reload-node.js)
#   starter       Server::Starter's start_server running the same
#                 zcluster-hello binary (bench/reload-starter.sh), SIGHUP
# Failed requests are wrk's socket errors (connect, read, write, timeout)
# plus non-2xx answers. A reload's duration is from the SIGHUP to the
# manager's own "done" line (zcluster: "reload to generation G done";
# node: "reload done"; Server::Starter: "old worker ... died"), polled
# every 10 ms. The order of the managers rotates every round.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

rounds=${1:-3}
reloads=${2:-5}
port=${ZC_BENCH_PORT:-18190}
conns=${ZC_BENCH_CONNS:-32}
startup=${ZC_BENCH_STARTUP_MS:-200}
gap=${ZC_BENCH_GAP:-3}
out=bench/out
mkdir -p "$out"
scripts/deps.sh build bench
command -v node >/dev/null || { echo "bench/reload.sh needs node (apt-get install nodejs)" >&2; exit 1; }
command -v start_server >/dev/null || { echo "bench/reload.sh needs start_server (apt-get install libserver-starter-perl)" >&2; exit 1; }
make -s all >&2

hello=$PWD/build/zcluster-hello
pid=
cleanup() { [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null; wait 2>/dev/null || true; }
trap cleanup EXIT


start() {   # start MANAGER LOG
    case $1 in
        zcluster) build/zcluster -w 2 -l "127.0.0.1:$port" -- "$hello" \
                      --startup-delay "$startup" >"$2" 2>&1 & ;;
        node) node bench/reload-node.js "$port" 2 "$startup" >"$2" 2>&1 & ;;
        starter) start_server --port="127.0.0.1:$port" -- bench/reload-starter.sh \
                     "$hello" "$startup" >"$2" 2>&1 & ;;
    esac
    pid=$!
    wait_port "$port"
    sleep 0.5   # every worker up, not only the first
}

done_count() {   # done_count MANAGER LOG
    case $1 in
        zcluster) grep -c "reload to generation .* done in" "$2" ;;
        node) grep -c "^reload done in" "$2" ;;
        starter) grep -c "^old worker .* died" "$2" ;;
    esac
}

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# one MANAGER MODE: prints "failed requests reload_ms..." for one run.
one() {
    local m=$1 mode=$2 log="$out/reload-$1.log" wout="$out/reload-wrk.txt" hdr=()
    local dur=$((reloads * gap + 2)) t0 n ms=() failed total begin wait_ms
    [ "$mode" = close ] && hdr=(-H "Connection: close")
    start "$m" "$log"
    wrk -t1 -c"$conns" -d"${dur}s" "${hdr[@]}" "http://127.0.0.1:$port/" >"$wout" &
    local wrk_pid=$!
    begin=$(now_ms)
    for i in $(seq 1 "$reloads"); do
        # Reload i at 1 s + (i-1) gaps into the load, or at once if late.
        wait_ms=$(( begin + 1000 + (i - 1) * gap * 1000 - $(now_ms) ))
        [ "$wait_ms" -gt 0 ] && sleep "$(awk -v w="$wait_ms" 'BEGIN { print w / 1000 }')"
        n=$(done_count "$m" "$log" || true)
        t0=$(now_ms)
        kill -HUP "$pid"
        for _ in $(seq 1 3000); do      # 30 s at most
            [ "$(done_count "$m" "$log" || true)" -gt "$n" ] && break
            sleep 0.01
        done
        ms+=($(( $(now_ms) - t0 )))
    done
    wait "$wrk_pid"
    kill -TERM "$pid"
    wait "$pid" 2>/dev/null || true
    pid=
    total=$(awk '/requests in/ { print $1 }' "$wout")
    failed=$(wrk_failures "$wout")
    echo "$failed $total ${ms[*]}"
}


managers=(zcluster node starter)
res=$out/reload-results.txt
: >"$res"
for r in $(seq 1 "$rounds"); do
    for mode in keepalive close; do
        for k in 0 1 2; do
            m=${managers[$(((r + k) % 3))]}
            line=$(one "$m" "$mode")
            echo "round $r $mode $m: failed, requests, reload ms: $line" >&2
            echo "$m $mode $line" >>"$res"
        done
    done
done

printf '\n%-9s %-9s %9s %12s %10s %14s\n' manager mode failed "of requests" "reload ms" "(median, max)"
for mode in keepalive close; do
    for m in zcluster node starter; do
        f=$(awk -v m="$m" -v o="$mode" '$1 == m && $2 == o { print $3 }' "$res" | median)
        t=$(awk -v m="$m" -v o="$mode" '$1 == m && $2 == o { print $4 }' "$res" | median)
        rm_=$(awk -v m="$m" -v o="$mode" '$1 == m && $2 == o { for (i = 5; i <= NF; i++) print $i }' "$res" | median)
        mx=$(awk -v m="$m" -v o="$mode" '$1 == m && $2 == o { for (i = 5; i <= NF; i++) if ($i > x) x = $i } END { print x }' "$res")
        sf=$(awk -v m="$m" -v o="$mode" '$1 == m && $2 == o { s += $3 } END { print s }' "$res")
        printf '%-9s %-9s %9s %12s %10s %14s\n' "$m" "$mode" "$f" "$t" "$rm_" "max $mx, sum failed $sf"
    done
done
echo "(failed and requests: medians over $rounds rounds of $reloads reloads; reload ms: median over all reloads)"
