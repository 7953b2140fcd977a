#!/bin/sh
# The format of the C sources (.clang-format), checked two ways:
#   1. no line of src/, tools/, examples/ or bench/ is over 80 columns;
#   2. every line changed since .clang-format last changed is as
#      clang-format writes it (git clang-format --diff against that
#      commit): new code follows the tool, older lines keep their hand
#      wrapping until they are touched.
# Prints what is wrong and exits 1, or says what it checked and exits 0.
set -u
cd "$(dirname "$0")/.."
fail=0

long=$(git ls-files 'src/*.c' 'src/*.h' 'tools/*.c' 'examples/*.c' 'bench/*.c' |
       xargs awk 'length > 80 { print FILENAME ":" FNR ": " length " columns" }')
if [ -n "$long" ]; then
    echo "$long"
    echo "format: lines over 80 columns"
    fail=1
fi

base=$(git log -1 --format=%H -- .clang-format 2>/dev/null)
if [ -z "$base" ]; then
    echo "format: no history of .clang-format here (not a git clone?); only the columns were checked"
    exit "$fail"
fi
out=$(git clang-format --diff --extensions c,h "$base" -- src tools examples \
      bench tests 2>&1)
case $out in
    *"no modified files to format"*|*"did not modify any files"*|"") ;;
    *)
        echo "$out"
        echo "format: lines changed since $(git log -1 --format=%h "$base") are not as .clang-format says (run: git clang-format $base)"
        fail=1
        ;;
esac
[ "$fail" -eq 0 ] && echo "format: no line over 80 columns; every line changed since $(git log -1 --format=%h "$base") is clang-format's"
exit "$fail"
