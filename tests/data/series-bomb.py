# A worker that reports ever new series in its Prometheus text snapshots:
# 20 snapshots of 100,000 new label values each, then ready. The primary
# must keep no more than its limits, whatever a worker sends.
import os
import select
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "examples"))
from worker import Link  # noqa: E402

link = Link(int(os.environ["ZC_IPC_FD"]),
            int(os.environ.get("ZC_IPC_MAX_MESSAGE", 16 * 1024 * 1024)))
link.send("hello", b"1")
for n in range(20):
    lines = ["# TYPE bomb_total counter"]
    lines += ['bomb_total{id="%d-%d"} 1' % (n, i) for i in range(100000)]
    link.send("zc.metrics", ("\n".join(lines) + "\n").encode())
link.send("ready")
while True:
    select.select([link.sock], [], [])
    if link.receive() is None:
        sys.exit(0)
