#!/bin/sh
# make demo: two zcluster-hello workers on 127.0.0.1:8080 (ZC_DEMO_ADDR to
# change it), a few requests to show who answers, then the fleet keeps
# running until ^C, which drains it.
set -eu
build=${1:-build}
addr=${ZC_DEMO_ADDR:-127.0.0.1:8080}
url="http://$addr/"

echo "== zcluster demo: 2 workers of zcluster-hello on $addr"
echo "== try: curl -i $url    kill -9 a worker's pid and watch it come back"
echo "== ^C drains the workers and exits"
"$build/zcluster" -w 2 -l "$addr" --respawn-delay 250 -- "$build/zcluster-hello" &
pid=$!
trap 'kill -INT $pid 2>/dev/null; wait $pid' INT TERM
# Wait (bounded) until the fleet answers, then show a few answers.
i=0
while [ $i -lt 50 ]; do
    if command -v curl >/dev/null 2>&1 && curl -s -o /dev/null "$url"; then
        for n in 1 2 3; do curl -s "$url"; done
        break
    fi
    i=$((i + 1))
    sleep 0.1
done
wait $pid
