# Shared by the bench scripts (sourced).

# wait_port PORT: bounded wait until something answers HTTP on 127.0.0.1:PORT.
wait_port() {
    for _ in $(seq 1 200); do
        curl -s -o /dev/null "http://127.0.0.1:$1/" && return 0
        sleep 0.05
    done
    echo "nothing answers on port $1" >&2
    return 1
}

# median: of the numbers on stdin, one per line.
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
