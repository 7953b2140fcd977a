#!/bin/sh
# The container image of contrib/kubernetes/Containerfile, as far as these
# machines allow: its last stage (FROM scratch, the static binaries, the
# user, the entrypoint) built with podman from binaries made here, and the
# image checked to hold nothing else. The first stage is not built (it
# pulls debian:12, and CI reaches no registry), and the image is not run
# (podman's runtime cannot set RLIMIT_NOFILE in CI's sandbox); the
# fleet it would run is what make check runs.
# Prints "N passed, M failed" last; exits 1 if any failed.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"; podman rmi -f localhost/zcluster-check >/dev/null 2>&1' EXIT
passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok - $1"; }
bad() { failed=$((failed + 1)); echo "not ok - $1"; }
end() { echo "$passed passed, $failed failed"; [ "$failed" = 0 ]; exit $?; }

if ! command -v podman >/dev/null 2>&1; then
    echo "# no podman: scripts/deps.sh image installs it"
    bad "podman"
    end
fi
cd "$top"
# The binaries the build stage makes, made here the same way.
make -s BUILD="$work/build" "$work/build/zcluster" "$work/build/zclusterctl" >/dev/null &&
    make -s BUILD="$work/build" LDFLAGS=-static "$work/build/zcluster-hello" >/dev/null ||
    { bad "the static binaries build"; end; }
for f in zcluster zclusterctl zcluster-hello; do
    file -L "$work/build/$f" | grep -q 'statically linked' ||
        bad "$f is not statically linked"
done
ok "zcluster, zclusterctl and zcluster-hello link statically"

# The Containerfile's last stage, its COPY --from=build made local.
ctx="$work/ctx"
mkdir -p "$ctx/src/build"
cp "$work/build/zcluster" "$work/build/zclusterctl" "$work/build/zcluster-hello" \
    "$ctx/src/build/"
awk '/^FROM /{stage++} stage >= 2' contrib/kubernetes/Containerfile |
    sed 's|COPY --from=build /src/|COPY src/|' > "$ctx/Containerfile"
head -1 "$ctx/Containerfile" | grep -q '^FROM scratch' &&
    ok "the last stage is FROM scratch" || bad "the last stage is not FROM scratch"
if podman build -q -t localhost/zcluster-check -f "$ctx/Containerfile" "$ctx" \
        > "$work/build.log" 2>&1; then
    ok "podman builds the image"
else
    cat "$work/build.log"
    bad "podman builds the image"
    end
fi
podman image inspect localhost/zcluster-check \
    --format '{{json .Config.Entrypoint}} {{.Config.User}}' > "$work/inspect" 2>&1
grep -q '\["/usr/bin/zcluster"\] 65534:65534' "$work/inspect" &&
    ok "entrypoint zcluster, user 65534: $(cat "$work/inspect")" ||
    { cat "$work/inspect"; bad "entrypoint and user"; }
# Every file in the image: the two tools and the app, nothing else.
podman save localhost/zcluster-check -o "$work/image.tar" >/dev/null 2>&1
mkdir -p "$work/image" && tar -xf "$work/image.tar" -C "$work/image"
# (the layers are the archive's files that are tars themselves)
files=$(find "$work/image" -type f | while read -r l; do
            tar -tf "$l" 2>/dev/null
        done | grep -v '/$' | sed 's|^\./||' | sort -u | tr '\n' ' ')
[ "$files" = "app/shop usr/bin/zcluster usr/bin/zclusterctl " ] &&
    ok "the image holds: $files" || bad "the image holds: '$files'"
size=$(podman image inspect localhost/zcluster-check --format '{{.Size}}')
echo "# image size: $size bytes"
end
