#!/bin/sh
# The Debian package, built and used as a user gets it:
#   1. dpkg-buildpackage -us -uc -b in a copy of the tree (git's files);
#   2. lintian on the .changes: no error (warnings are printed, and listed
#      with their reasons in docs/packaging.md);
#   3. each .deb extracted with dpkg-deb -x, the files each must hold;
#   4. systemd-analyze verify on zcluster@.service, in the extracted root;
#   5. the packaged zcluster and zclusterctl run a fleet from the packaged
#      example configuration: it serves, zclusterctl reload re-reads it,
#      zclusterctl config prints it, zclusterctl stop ends it.
# Prints "N passed, M failed" last; exits 1 if any failed.
#
#   scripts/package-check.sh [WORKDIR]
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-$(mktemp -d)}
passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok - $1"; }
bad() { failed=$((failed + 1)); echo "not ok - $1"; }
end() {
    [ -n "${primary:-}" ] && kill -TERM "$primary" 2>/dev/null
    echo "$passed passed, $failed failed"
    [ "$failed" = 0 ]
    exit $?
}

version=$(sed -n 's/^#define ZC_VERSION "\(.*\)"/\1/p' "$top/include/zcluster.h")
src="$work/zcluster-$version"
rm -rf "$src" && mkdir -p "$src"
(cd "$top" && git ls-files -z | xargs -0 tar -cf -) | (cd "$src" && tar -xf -)

# 1. The build.
if (cd "$src" && dpkg-buildpackage -us -uc -b) > "$work/build.log" 2>&1; then
    ok "dpkg-buildpackage -us -uc -b"
else
    tail -30 "$work/build.log"
    bad "dpkg-buildpackage -us -uc -b"
    end
fi
# Every exported symbol is in debian/libzcluster0.symbols: one added or
# gone is a change to the ABI, said there.
if grep -q 'dpkg-gensymbols: warning' "$work/build.log"; then
    grep -A20 'dpkg-gensymbols: warning' "$work/build.log" | head -30
    bad "debian/libzcluster0.symbols is not the library's symbols"
else
    ok "debian/libzcluster0.symbols is the library's symbols"
fi
# The changelog's version is the header's.
grep -q "^zcluster ($version)" "$src/debian/changelog" &&
    ok "debian/changelog is at $version" || bad "debian/changelog is not at $version"

# 2. lintian: errors fail, the rest is shown.
changes=$(ls "$work"/zcluster_"$version"_*.changes)
lintian --info --display-level '>=warning' "$changes" > "$work/lintian.log" 2>&1
echo "# lintian:"
sed 's/^/#   /' "$work/lintian.log"
if grep -q '^E: ' "$work/lintian.log"; then
    bad "lintian: errors"
else
    ok "lintian: no errors ($(grep -c '^W: ' "$work/lintian.log") warnings)"
fi

# 3. The packages' contents.
root="$work/root"
rm -rf "$root" && mkdir -p "$root"
for deb in "$work"/*_"$version"_*.deb; do
    dpkg-deb -x "$deb" "$root"
done
arch=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
for f in usr/bin/zcluster usr/bin/zclusterctl usr/bin/zcluster-hello \
         usr/share/man/man1/zcluster.1.gz usr/share/man/man1/zclusterctl.1.gz \
         lib/systemd/system/zcluster@.service etc/zcluster/example.conf \
         "usr/lib/$arch/libzcluster.so.0" "usr/lib/$arch/libzcluster.so" \
         "usr/lib/$arch/libzcluster.a" "usr/lib/$arch/pkgconfig/zcluster.pc" \
         usr/include/zcluster.h; do
    [ -e "$root/$f" ] || { missing="${missing:-} $f"; }
done
[ -z "${missing:-}" ] && ok "every file in its package" ||
    bad "missing from the packages:$missing"
soname=$(objdump -p "$root/usr/lib/$arch/libzcluster.so.0" | awk '/SONAME/ {print $2}')
[ "$soname" = libzcluster.so.0 ] && ok "SONAME libzcluster.so.0" ||
    bad "SONAME is '$soname'"
dpkg-deb -I "$work"/zcluster_"$version"_*.deb | grep -q 'Depends:.*libzcluster0' &&
    ok "zcluster depends on libzcluster0" || bad "zcluster does not depend on libzcluster0"
dpkg-deb -e "$work"/zcluster_"$version"_*.deb "$work/control" &&
    grep -q '^/etc/zcluster/example.conf$' "$work/control/conffiles" &&
    ok "example.conf is a conffile" || bad "example.conf is not a conffile"

# 4. The unit, against the extracted files and the host's targets.
mkdir -p "$root/lib/systemd/system"
for t in /lib/systemd/system/*.target; do
    [ -e "$root/lib/systemd/system/${t##*/}" ] || cp "$t" "$root/lib/systemd/system/"
done
out=$(systemd-analyze verify --root="$root" --man=no 'zcluster@example.service' 2>&1)
rc=$?
if [ $rc = 0 ] && [ -z "$out" ]; then
    ok "systemd-analyze verify zcluster@example.service"
else
    echo "$out" | sed 's/^/#   /'
    bad "systemd-analyze verify zcluster@example.service"
fi

# 5. A fleet from the packaged example, with the packaged tools. The
# example's paths are the installed ones; the command line puts the
# extracted binaries in their place, as an operator's drop-in would.
export LD_LIBRARY_PATH="$root/usr/lib/$arch"
zc="$root/usr/bin/zcluster" ctl="$root/usr/bin/zclusterctl"
hello="$root/usr/bin/zcluster-hello"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
conf="$work/example.conf"
sed "s/127.0.0.1:8080/127.0.0.1:$port/" "$root/etc/zcluster/example.conf" > "$conf"
# Workers run as nobody: the path to the binary must be theirs to walk.
chmod 755 "$work" "$root" "$root/usr" "$root/usr/bin" "$root/usr/lib" \
    "$root/usr/lib/$arch"
sock="$work/example.sock"
"$zc" --check-config "$conf" -- "$hello" > "$work/check.out" 2>&1 &&
    grep -q "^user = nobody$" "$work/check.out" &&
    ok "zcluster --check-config on the example" ||
    { cat "$work/check.out"; bad "zcluster --check-config on the example"; }
"$zc" --config "$conf" --name example --control "$sock" -- "$hello" \
    > "$work/fleet.log" 2>&1 &
primary=$!
# Two workers ready within 10 s.
i=0
until "$ctl" -s "$sock" status --json 2>/dev/null | grep -q '"wanted": 2, "ready": 2'; do
    i=$((i + 1))
    [ $i -gt 100 ] && break
    sleep 0.1
done
[ $i -le 100 ] && ok "the packaged fleet is ready" || bad "the packaged fleet is not ready"
"$ctl" -s "$sock" status --json | grep -q '"user": "nobody"' &&
    ok "its workers run as nobody (the example's user)" ||
    bad "its workers do not run as nobody"
answer=$(curl -s --max-time 5 "http://127.0.0.1:$port/")
case "$answer" in
    *"hello from worker"*) ok "it serves: $answer" ;;
    *) bad "it does not serve: '$answer'" ;;
esac
sed -i 's/^workers = 2$/workers = 3/' "$conf"
"$ctl" -s "$sock" reload > "$work/reload.out" 2>&1 &&
    "$ctl" -s "$sock" status --json | grep -q '"wanted": 3, "ready": 3' &&
    ok "zclusterctl reload re-read the file: 3 workers" ||
    { cat "$work/reload.out"; bad "zclusterctl reload with 3 workers"; }
echo "workers = lots" >> "$conf"
if "$ctl" -s "$sock" reload > "$work/refused.out" 2>&1; then
    bad "a broken file was not refused"
else
    grep -q "example.conf:[0-9]*: " "$work/refused.out" &&
        ok "a broken file is refused: $(cat "$work/refused.out")" ||
        { cat "$work/refused.out"; bad "the refusal does not name the line"; }
fi
"$ctl" -s "$sock" config | grep -q '^workers = 3$' &&
    ok "zclusterctl config" || bad "zclusterctl config"
"$ctl" -s "$sock" stop > /dev/null 2>&1 && wait "$primary" &&
    ok "zclusterctl stop: the fleet exited 0" || bad "zclusterctl stop"
primary=
end
