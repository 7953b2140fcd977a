#!/usr/bin/env bash
# Worker health, what it costs (see bench/README.md, "Worker health"):
#
#   bench/health.sh [SECONDS]     idle window, default 10 s
#
# (a) a watchdog ping: zc_worker_dispatch() with --watchdog and without
#     (the ping is an atomic add into shared memory), the systemd
#     protocol's WATCHDOG=1 datagram, and gunicorn's heartbeat
#     (WorkerTmp.notify(): an fchmod of a temp file), per ping;
# (b) system calls per dispatch, with and without the watchdog (strace -f
#     -c over the whole fleet);
# (c) wake-ups in an idle window: the zcluster primary without a watchdog,
#     with --watchdog 1s and 100ms, one of its workers, and gunicorn's
#     arbiter and worker (--timeout 30, its default).
# Everything runs on 127.0.0.1 and is bounded in count and time.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

secs=${1:-10}
port=${ZC_BENCH_PORT:-18400}
out=bench/out
mkdir -p "$out"
scripts/deps.sh build bench
make -s all bench >&2
trap cleanup EXIT

# dispatch_ns [WATCHDOG-ARGS...]: median ns per dispatch over 5 runs.
dispatch_ns() {
    for _ in 1 2 3 4 5; do
        build/zcluster -w 1 --control none "$@" -- build/bench/dispatch 2000000 \
            2>/dev/null | awk '/^dispatch:/ { print $4 }'
    done | median
}

# wakeups PID: voluntary context switches of PID over the window.
wakeups() {
    local a b
    a=$(awk '/^voluntary_ctxt_switches/ { print $2 }' "/proc/$1/status")
    sleep "$secs"
    b=$(awk '/^voluntary_ctxt_switches/ { print $2 }' "/proc/$1/status")
    echo $((b - a))
}

echo "# bench/health.sh, $(date -u +%Y-%m-%dT%H:%MZ)"
echo "machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%d GiB", $2 / 1048576 }' /proc/meminfo), $(uname -r)"
echo "cpu: $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)"
echo
echo "## (a) A ping"
echo
off=$(dispatch_ns)
on=$(dispatch_ns --watchdog 1s)
notify=$(build/zcluster -w 1 --control none --watchdog 1s -- \
         build/bench/dispatch --notify 200000 2>/dev/null | awk '/^notify:/ { print $4 }')
gunicorn=$(/usr/bin/python3 - <<'EOF'
import time
from gunicorn.workers.workertmp import WorkerTmp
class Cfg:
    umask = 0
    worker_tmp_dir = None
    uid = None
    gid = None
import os
Cfg.uid, Cfg.gid = os.geteuid(), os.getegid()
t = WorkerTmp(Cfg)
n = 200000
t0 = time.perf_counter_ns()
for _ in range(n):
    t.notify()
print("%.1f" % ((time.perf_counter_ns() - t0) / n))
EOF
)
echo "| what | ns per call |"
echo "| --- | --- |"
echo "| zc_worker_dispatch(), no watchdog | $off |"
echo "| zc_worker_dispatch(), --watchdog (the ping inside) | $on |"
echo "| WATCHDOG=1 datagram (systemd protocol, from C) | $notify |"
echo "| gunicorn WorkerTmp.notify() (fchmod, Python) | $gunicorn |"
echo
echo "## (b) System calls, 200000 dispatches, the whole fleet under strace -f -c"
echo
echo "| watchdog | epoll_wait | all system calls | per dispatch |"
echo "| --- | --- | --- | --- |"
for wd in off 1s; do
    args=()
    [ "$wd" = off ] || args=(--watchdog "$wd")
    strace -f -c -o "$out/health-strace-$wd.txt" build/zcluster -w 1 --control none \
        "${args[@]}" -- build/bench/dispatch 200000 >/dev/null 2>&1
    awk -v wd="$wd" '$NF == "epoll_wait" { e = $4 } $NF == "total" { t = $4 }
        END { printf "| %s | %d | %d | %.4f |\n", wd, e, t, t / 200000 }' \
        "$out/health-strace-$wd.txt"
done
echo
echo "## (c) Wake-ups in ${secs} s, idle (voluntary context switches)"
echo
echo "| process | wake-ups |"
echo "| --- | --- |"
for wd in off 1s 100ms; do
    args=()
    [ "$wd" = off ] || args=(--watchdog "$wd")
    build/zcluster -w 2 -l "127.0.0.1:$port" --control none "${args[@]}" -- \
        build/zcluster-hello 2>>"$out/health.log" &
    pids=("$!")
    wait_port "$port"
    worker=$(pgrep -P "${pids[0]}" | head -1)
    if [ "$wd" = 1s ]; then
        # both in one window
        a=$(awk '/^voluntary/ { print $2 }' "/proc/$worker/status")
        echo "| zcluster primary, --watchdog $wd | $(wakeups "${pids[0]}") |"
        b=$(awk '/^voluntary/ { print $2 }' "/proc/$worker/status")
        echo "| a zcluster-hello worker, --watchdog $wd | $((b - a)) |"
    else
        echo "| zcluster primary, --watchdog $wd | $(wakeups "${pids[0]}") |"
    fi
    cleanup
    pids=()
done
cat > "$out/health_app.py" <<'EOF'
def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"hello\n"]
EOF
/usr/bin/python3 -m gunicorn -w 2 -b "127.0.0.1:$port" --chdir "$out" health_app:app \
    2>>"$out/health.log" &
pids=("$!")
wait_port "$port"
worker=$(pgrep -P "${pids[0]}" | head -1)
a=$(awk '/^voluntary/ { print $2 }' "/proc/$worker/status")
echo "| gunicorn arbiter (--timeout 30) | $(wakeups "${pids[0]}") |"
b=$(awk '/^voluntary/ { print $2 }' "/proc/$worker/status")
echo "| a gunicorn sync worker | $((b - a)) |"
cleanup
pids=()
