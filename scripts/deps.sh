#!/bin/sh
# Makes sure the Debian packages a task needs are installed.
#   scripts/deps.sh build    compiler and headers (make, make check, make demo)
#   scripts/deps.sh clang    clang, for the second compiler CI builds with
#   scripts/deps.sh ci       clang, valgrind, pkg-config, libFuzzer, node,
#                            clang-format (.ci/run)
#   scripts/deps.sh package  dpkg-dev, debhelper, lintian, systemd-analyze
#                            (scripts/package-check.sh: the Debian package)
#   scripts/deps.sh image    podman, file (scripts/image-check.sh)
#   scripts/deps.sh bench    wrk, hyperfine, curl, Server::Starter, Node,
#                            strace, gunicorn (bench/)
# As root it installs what is missing (apt-get update once, then install);
# otherwise it says exactly what to install and fails.
set -eu

want=""
norec=""
need() {    # need COMMAND-OR-FILE PACKAGE
    case "$1" in
        /*) [ -e "$1" ] && return 0 ;;
        *) command -v "$1" >/dev/null 2>&1 && return 0 ;;
    esac
    want="$want $2"
}

need_pkg() {    # need_pkg PACKAGE: a library with no command to look for
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "ok installed" && return 0
    want="$want $1"
}

for task in "${@:-build}"; do
    case "$task" in
        build)
            need cc gcc
            need make make
            need ar binutils
            need /usr/include/stdio.h libc6-dev
            need /usr/include/microhttpd.h libmicrohttpd-dev   # /metrics
            need curl curl      # make check: curl --unix-socket, a real client
            # make check: workers in Python (the systemd-protocol watchdog,
            # examples/worker.py)
            need /usr/bin/python3 python3
            ;;
        clang)
            need clang clang
            ;;
        ci)
            need clang clang
            need valgrind valgrind
            need pkg-config pkg-config
            # scripts/format-check.sh: git clang-format on what changed
            need git git
            need git-clang-format clang-format
            need_pkg libclang-rt-14-dev     # libFuzzer for make fuzz
            # The sticky tests check the hash and address text against
            # Node itself (against its recorded output without it).
            need node nodejs
            # promtool checks /metrics in make check (skipped without it).
            # Only the package: its recommends would start a Prometheus
            # server and node exporter on a machine with systemd.
            # scripts/k8s-check.py reads the manifests with a YAML parser.
            need /usr/lib/python3/dist-packages/yaml/__init__.py python3-yaml
            # The multi-host test runs real HAProxy in front of 3 fleets.
            need /usr/sbin/haproxy haproxy
            norec="$norec$(command -v promtool >/dev/null 2>&1 || echo ' prometheus')"
            ;;
        package)
            need dpkg-buildpackage dpkg-dev
            need dh debhelper
            need lintian lintian
            need systemd-analyze systemd
            need objdump binutils
            need curl curl
            need /usr/bin/python3 python3
            ;;
        image)
            need podman podman
            need file file
            ;;
        bench)
            need wrk wrk
            need hyperfine hyperfine
            need curl curl
            need start_server libserver-starter-perl   # bench/reload.sh
            need node nodejs        # the Node peers of bench/*.sh
            need strace strace      # bench/health.sh: system calls per ping
            need ss iproute2        # bench/lib.sh: a port free again
            need taskset util-linux # bench/balance.sh: the CPU split
            need haproxy haproxy    # bench/upgrade.sh: HAProxy -W's own
            need /usr/lib/python3/dist-packages/gunicorn/__init__.py gunicorn   # bench/health.sh
            ;;
        *)
            echo "deps.sh: unknown task '$task' (build, clang, ci, package, image, bench)" >&2
            exit 2
            ;;
    esac
done

[ -z "$want$norec" ] && exit 0
if [ "$(id -u)" != 0 ]; then
    echo "zcluster needs these Debian packages:$want$norec" >&2
    [ -n "$want" ] && echo "install them with: sudo apt-get install -y$want" >&2
    [ -n "$norec" ] && echo "and: sudo apt-get install -y --no-install-recommends$norec" >&2
    exit 1
fi
echo "installing Debian packages:$want$norec"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086  # one word per package
[ -z "$want" ] || apt-get install -y -qq $want
# shellcheck disable=SC2086
[ -z "$norec" ] || apt-get install -y -qq --no-install-recommends $norec
