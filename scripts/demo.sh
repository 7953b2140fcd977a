#!/bin/sh
# make demo: two zcluster-hello workers on 127.0.0.1:8080 (ZC_DEMO_ADDR to
# change it). A few requests show who answers, a rolling reload (SIGHUP)
# replaces both workers, and the answers show the new generation; then the
# fleet keeps running until ^C, which drains it.
set -eu
build=${1:-build}
addr=${ZC_DEMO_ADDR:-127.0.0.1:8080}
url="http://$addr/"

cat <<MSG
== zcluster demo: 2 workers of zcluster-hello on $addr
== try:  curl -i $url
==       kill -9 one worker's pid and watch its slot come back
==       kill -HUP $$  (rolling reload), -TTIN / -TTOU (one worker more / less)
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
        # $$ is the shell that exec's zcluster below: the primary.
        echo "== sending SIGHUP to zcluster (pid $$): a rolling reload"
        kill -HUP $$
        sleep 2
        for n in 1 2 3; do
            curl -s -D - -o /dev/null "$url" | grep -i '^X-Worker-\(Pid\|Generation\)' |
                tr -d '\r' | paste -sd ' ' | sed 's/^/== answer: /'
        done
    ) &
fi
exec "$build/zcluster" -w 2 -l "$addr" --respawn-delay 250 -- \
    "$build/zcluster-hello" --startup-delay 300
