#!/usr/bin/env python3
"""Reads a fleet's output written with --log-format json (so every line,
the primary's and the workers', is JSON) with Python's own json module.

    json-lines.py FILE LENGTH

Every line must be one JSON object: a worker's has zc_time, zc_fleet,
zc_slot, zc_worker, zc_pid, zc_gen and zc_stream with their types; the
primary's has level, zc_ns, zc_pid and msg. A worker line whose msg is
"S<slot> P<pid> ..." (tests/helpers.c, lines) must be under that slot and
pid and, when LENGTH is not 0, whole: LENGTH - 1 characters ending in $.
Prints one line "ok: ..." and exits 0, or the errors and exits 1.
"""
import json
import re
import sys

path, length = sys.argv[1], int(sys.argv[2])
errors, whole, worker, primary, parts, last_part = [], 0, 0, 0, 0, 0
types = {"zc_time": str, "zc_fleet": str, "zc_slot": int, "zc_worker": int,
         "zc_pid": int, "zc_gen": int, "zc_stream": str}

with open(path, "rb") as f:
    lines = f.read().split(b"\n")
if lines and lines[-1] == b"":
    lines.pop()
for i, raw in enumerate(lines, 1):
    try:
        o = json.loads(raw)
    except ValueError as e:
        errors.append("line %d is not JSON (%s): %r" % (i, e, raw[:80]))
        continue
    if not isinstance(o, dict):
        errors.append("line %d is not an object" % i)
    elif "zc_stream" in o:
        worker += 1
        for k, t in types.items():
            if not isinstance(o.get(k), t):
                errors.append("line %d: %s is not a %s" % (i, k, t.__name__))
        if o.get("zc_stream") not in ("out", "err"):
            errors.append("line %d: zc_stream %r" % (i, o.get("zc_stream")))
        if "zc_part" in o:
            parts += 1
            if o.get("zc_last"):
                last_part = o["zc_part"]
        msg = o.get("msg", "")
        m = re.match(r"S(\d+) P(\d+) ", msg)
        if m:
            if (int(m.group(1)), int(m.group(2))) != (o["zc_slot"],
                                                      o["zc_pid"]):
                errors.append("line %d: slot %s pid %s under slot %d pid %d"
                              % (i, m.group(1), m.group(2), o["zc_slot"],
                                 o["zc_pid"]))
            elif length and (len(msg) != length - 1 or msg[-1] != "$"):
                errors.append("line %d: %d characters, not %d"
                              % (i, len(msg), length - 1))
            else:
                whole += 1
    elif {"level", "zc_ns", "zc_pid", "msg"} <= o.keys():
        primary += 1
    else:
        errors.append("line %d: neither a worker's nor the primary's: %r"
                      % (i, raw[:80]))
if errors:
    print("\n".join(errors[:20]))
    sys.exit(1)
print("ok: %d worker lines whole, %d worker lines, %d primary lines, every "
      "line JSON, %d parts, last part %d" % (whole, worker, primary, parts,
                                               last_part))
