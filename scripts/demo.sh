#!/bin/sh
# make demo: two zcluster-hello workers on 127.0.0.1:8080 (ZC_DEMO_ADDR to
# change it), metrics on 127.0.0.1:9100 (ZC_DEMO_METRICS). A few requests
# show who answers, a worker is killed and comes back, a rolling reload
# (SIGHUP) replaces both workers, and the answers show the new generation;
# /metrics then shows the requests, their latency and the restart. The
# fleet keeps running until ^C, which drains it.
set -eu
build=${1:-build}
addr=${ZC_DEMO_ADDR:-127.0.0.1:8080}
url="http://$addr/"
maddr=${ZC_DEMO_METRICS:-127.0.0.1:9100}
murl="http://$maddr/metrics"

cat <<MSG
== zcluster demo: 2 workers of zcluster-hello on $addr
== try:  curl -i $url
==       kill -9 one worker's pid and watch its slot come back
==       kill -HUP $$  (rolling reload), -TTIN / -TTOU (one worker more / less)
==       curl -s $murl   (the fleet's metrics)
== ^C drains the workers and exits
MSG

# A few requests once the fleet answers (bounded wait), in the background:
# zcluster itself runs in the foreground, so ^C reaches it, and only it.
if command -v curl >/dev/null 2>&1; then
    (
        i=0
        while [ $i -lt 50 ] && ! curl -s -o /dev/null "$url"; do
            i=$((i + 1))
            sleep 0.1
        done
        for n in 1 2 3; do curl -s "$url" | sed 's/^/== answer: /'; done
        victim=$(curl -s -D - -o /dev/null "$url" | tr -d '\r' |
                 sed -n 's/^X-Worker-Pid: //p')
        if [ -n "$victim" ]; then
            echo "== kill -9 $victim: its slot restarts"
            kill -9 "$victim"
            sleep 1
        fi
        # $$ is the shell that exec's zcluster below: the primary.
        echo "== sending SIGHUP to zcluster (pid $$): a rolling reload"
        kill -HUP $$
        sleep 2
        for n in 1 2 3; do
            curl -s -D - -o /dev/null "$url" | grep -i '^X-Worker-\(Pid\|Generation\)' |
                tr -d '\r' | paste -sd ' ' | sed 's/^/== answer: /'
        done
        echo "== $murl (part of it):"
        curl -s "$murl" | grep -E '^(hello_requests_total|hello_request_duration_seconds_(count|sum)|hello_request_duration_seconds_bucket\{le="(1e-05|0.0001)"\}|zcluster_slot_restarts_total|zcluster_reloads_total\{outcome="done"\}|zcluster_workers\{)' |
            sed 's/^/==   /'
    ) &
fi
exec "$build/zcluster" -w 2 -l "$addr" --metrics "$maddr" --respawn-delay 250 -- \
    "$build/zcluster-hello" --startup-delay 300
