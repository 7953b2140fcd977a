#!/usr/bin/env python3
"""Writes a copy of zcluster.h whose zc_options ends KEEP fields earlier:
the header of an older release, as far as the struct is concerned.

    shrink.py IN OUT CUT   drops the last CUT members of zc_options
"""
import re
import sys

src, dst, cut = sys.argv[1], sys.argv[2], int(sys.argv[3])
text = open(src).read()
start = text.index("typedef struct zc_options {")
body_at = text.index("{", start) + 1
end = text.index("} zc_options;", body_at)
body = text[body_at:end]

# Members end with ';' outside comments; comments stay with the member
# that follows them, so a member's end is what we cut after.
plain = re.sub(r"/\*.*?\*/", lambda m: " " * len(m.group(0)), body, flags=re.S)
ends = [m.end() for m in re.finditer(";", plain)]
if cut < 1 or cut >= len(ends):
    sys.exit("shrink.py: cannot cut %d of %d members" % (cut, len(ends)))
keep = body[: ends[-cut - 1]] + "\n"
open(dst, "w").write(text[:body_at] + keep + text[end:])
