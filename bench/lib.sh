# Shared by the bench scripts (sourced).

# wait_url URL [TRIES]: bounded wait (TRIES x 0.05 s, default 200) until
# URL answers HTTP 2xx.
wait_url() {
    for _ in $(seq 1 "${2:-200}"); do
        curl -sf -o /dev/null "$1" && return 0
        sleep 0.05
    done
    echo "nothing answers at $1" >&2
    return 1
}

# wait_port PORT: the same for anything that answers on 127.0.0.1:PORT.
wait_port() { wait_url "http://127.0.0.1:$1/"; }

# wait_free PORT: bounded wait (10 s) until nothing listens on PORT: the
# workers of a fleet just stopped may still be draining (Node's, with
# SCHED_NONE, hold the socket themselves).
wait_free() {
    for _ in $(seq 1 200); do
        [ -z "$(ss -Hltn "sport = :$1" 2>/dev/null)" ] && return 0
        sleep 0.05
    done
    echo "something still listens on port $1" >&2
    return 1
}

# The processes a bench has started, in pids: cleanup sends them TERM and
# waits (the scripts run it at exit, and between runs).
pids=()
cleanup() {
    for p in "${pids[@]:-}"; do
        [ -n "$p" ] && kill -TERM "$p" 2>/dev/null || true
    done
    wait 2>/dev/null || true
}

# wrk_failures FILE: the failed requests of a wrk run's summary, its socket
# errors (connect, read, write, timeout) and non-2xx answers.
wrk_failures() {
    awk '/Socket errors/ { gsub(",", ""); for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+$/) n += $i }
         /Non-2xx/ { n += $NF } END { print n + 0 }' "$1"
}

# median: of the numbers on stdin, one per line.
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
