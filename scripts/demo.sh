#!/bin/sh
# make demo: two zcluster-hello workers on 127.0.0.1:8080 (ZC_DEMO_ADDR to
# change it) with sticky sessions, metrics on 127.0.0.1:8081
# (ZC_DEMO_METRICS). Clients from four addresses of 127.0.0.0/8 show each
# client staying on its slot; a worker is killed and its client's next
# request waits for the respawned worker of the same slot; a rolling
# reload (zclusterctl reload, step by step and with its outcome) replaces
# both workers with nobody moving; a worker made to grow past --max-memory
# is recycled, new one first; zclusterctl status lists them; /metrics then
# shows the requests, the restart, the recycle and the hand-offs. The
# fleet keeps running until ^C, which drains it.
set -eu
build=${1:-build}
addr=${ZC_DEMO_ADDR:-127.0.0.1:8080}
url="http://$addr/"
maddr=${ZC_DEMO_METRICS:-127.0.0.1:8081}
murl="http://$maddr/metrics"

cat <<MSG
== zcluster demo: 2 workers of zcluster-hello on $addr, sticky sessions
== try:  curl -i $url   (again and again: the same worker answers)
==       curl --interface 127.0.0.2 $url   (another client address)
==       kill -9 one worker's pid and watch its slot come back
==       $build/zclusterctl -n demo status   (every worker: pid, state, CPU, RSS)
==       $build/zclusterctl -n demo reload   (rolling reload; exits with its outcome)
==       $build/zclusterctl -n demo scale +1 (one worker more)
==       $build/zclusterctl -n demo logs -f  (the workers' lines, each named)
==       curl ${url}grow?kb=65536  (64 MiB more: over --max-memory, recycled)
==       curl -s $murl   (the fleet's metrics)
== ^C drains the workers and exits
MSG

# who SRC: "client SRC -> slot S, pid P, generation G" for one request.
who() {
    curl -s --interface "$1" -D - -o /dev/null "$url" | tr -d '\r' |
        awk -v c="$1" '/^X-Worker-Slot:/ { s = $2 } /^X-Worker-Pid:/ { p = $2 }
                       /^X-Worker-Generation:/ { g = $2 }
                       END { printf "== client %-10s -> slot %s, pid %s, generation %s\n", c, s, p, g }'
}

# The requests once the fleet answers (bounded wait), in the background:
# zcluster itself runs in the foreground, so ^C reaches it, and only it.
if command -v curl >/dev/null 2>&1; then
    (
        i=0
        while [ $i -lt 50 ] && ! curl -s -o /dev/null "$url"; do
            i=$((i + 1))
            sleep 0.1
        done
        for c in 127.0.0.1 127.0.0.2 127.0.0.3 127.0.0.4 127.0.0.1 127.0.0.2; do
            who "$c"
        done
        victim=$(curl -s -D - -o /dev/null "$url" | tr -d '\r' |
                 sed -n 's/^X-Worker-Pid: //p')
        if [ -n "$victim" ]; then
            echo "== kill -9 $victim: 127.0.0.1's next request waits for its slot's new worker"
            kill -9 "$victim"
            who 127.0.0.1
            who 127.0.0.2
        fi
        echo "== zclusterctl -n demo reload: a rolling reload, step by step"
        "$build/zclusterctl" -n demo reload 2>&1 | sed 's/^/==   /'
        for c in 127.0.0.1 127.0.0.2 127.0.0.3 127.0.0.4; do who "$c"; done
        before=$(curl -s --interface 127.0.0.1 -D - -o /dev/null "$url" | tr -d '\r' |
                 sed -n 's/^X-Worker-Pid: //p')
        echo "== curl --interface 127.0.0.1 ${url}grow?kb=65536: pid $before keeps 64 MiB more, over --max-memory 48M"
        curl -s --interface 127.0.0.1 -o /dev/null "${url}grow?kb=65536"
        i=0
        while [ $i -lt 60 ] && [ "$(curl -s --interface 127.0.0.1 -D - -o /dev/null "$url" |
                tr -d '\r' | sed -n 's/^X-Worker-Pid: //p')" = "$before" ]; do
            i=$((i + 1))
            sleep 0.1
        done
        echo "== recycled (read every 2 s; the new worker first, then pid $before drains):"
        who 127.0.0.1
        echo "== zclusterctl -n demo status:"
        "$build/zclusterctl" -n demo status | sed 's/^/==   /'
        echo "== $murl (part of it):"
        curl -s "$murl" | grep -E '^(hello_requests_total|hello_request_duration_seconds_(count|sum)|zcluster_slot_restarts_total|zcluster_reloads_total\{outcome="done"\}|zcluster_recycles_total|zcluster_workers\{|zcluster_sticky_(handoffs_total|rerouted_total))' |
            sed 's/^/==   /'
    ) &
fi
exec "$build/zcluster" --name demo --sticky -w 2 -l "$addr" --metrics "$maddr" \
    --respawn-delay 250 --watchdog 2s --max-memory 48M -- \
    "$build/zcluster-hello" --startup-delay 300
