#!/usr/bin/env python3
"""A zcluster worker in Python, standard library only.

It speaks the worker protocol (docs/protocol.md) over ZC_IPC_FD:

  - says hello (protocol version 1), a status line, and ready;
  - answers "ping" with "pong" carrying "<worker id>:<payload>";
  - reports its metrics as Prometheus text ("zc.metrics") once at start,
    then whenever the primary asks ("zc.metrics.collect"), for the
    primary's --metrics endpoint to sum with the other workers';
  - with zcluster --sticky, takes the connections the primary hands it
    ("zc.conn": one fd and one "LISTENER CLIENT PORT SERVER PORT" line
    each) and answers each with one line naming itself and the client;
  - on "shutdown" says "stopping", finishes, and exits 0;
  - exits 0 when the primary goes away (end of stream on the link).

Run it under a primary:  zcluster -w 2 --ready notify -- python3 examples/worker.py
"""
import os
import select
import signal
import socket
import struct
import sys

HEADER = struct.Struct("<IBBH")  # payload length, type length, fd count, flags
TYPE_MAX = 64
FDS_MAX = 16


class ProtocolError(Exception):
    pass


class Link:
    """One end of the frame stream: encode, decode, carry fds."""

    def __init__(self, fd, max_payload):
        self.sock = socket.socket(fileno=fd)
        self.sock.setblocking(True)
        self.max_payload = max_payload
        self.buf = bytearray()
        self.fds = []  # received, waiting for the frame that announced them

    def send(self, type_, payload=b"", fds=()):
        t = type_.encode("ascii")
        frame = HEADER.pack(len(payload), len(t), len(fds), 0) + t + payload
        # The fds go with the first byte of their frame.
        sent = socket.send_fds(self.sock, [frame], list(fds)) if fds else 0
        self.sock.sendall(frame[sent:])

    def receive(self):
        """Reads once; returns the complete frames as (type, payload, fds),
        or None at the end of the stream."""
        data, fds, flags, _ = socket.recv_fds(self.sock, 65536, FDS_MAX)
        if flags & socket.MSG_CTRUNC:
            raise ProtocolError("more fds than a frame may carry")
        self.fds.extend(fds)
        if not data:
            if self.buf:
                raise ProtocolError("the primary closed the link mid-frame")
            return None
        self.buf += data
        frames = []
        while len(self.buf) >= HEADER.size:
            length, type_len, n_fds, flags = HEADER.unpack_from(self.buf)
            if flags or not 1 <= type_len <= TYPE_MAX or n_fds > FDS_MAX:
                raise ProtocolError("malformed frame header")
            if length > self.max_payload:
                raise ProtocolError("frame larger than the limit")
            total = HEADER.size + type_len + length
            if len(self.buf) < total:
                break
            if n_fds > len(self.fds):
                raise ProtocolError("frame announces fds that did not arrive")
            type_ = self.buf[HEADER.size:HEADER.size + type_len].decode("ascii")
            payload = bytes(self.buf[HEADER.size + type_len:total])
            taken, self.fds = self.fds[:n_fds], self.fds[n_fds:]
            del self.buf[:total]
            frames.append((type_, payload, taken))
        return frames


def metrics_text(worker_id, messages):
    """A snapshot in the Prometheus text format, as any client library
    (prometheus_client's generate_latest(), say) would write it."""
    return (
        "# HELP worker_py_messages_total Messages received from the primary.\n"
        "# TYPE worker_py_messages_total counter\n"
        f"worker_py_messages_total {messages}\n"
        "# HELP worker_py_up Python workers running.\n"
        "# TYPE worker_py_up gauge\n"
        "worker_py_up 1\n"
        "# HELP worker_py_start_seconds Time the worker took to start.\n"
        "# TYPE worker_py_start_seconds histogram\n"
        'worker_py_start_seconds_bucket{le="0.5"} 1\n'
        'worker_py_start_seconds_bucket{le="+Inf"} 1\n'
        "worker_py_start_seconds_sum 0.25\n"
        "worker_py_start_seconds_count 1\n"
    ).encode()


def serve_connections(payload, fds, worker_id):
    """Sticky sessions: one record per fd, in the same order."""
    records = payload.decode("ascii", "replace").splitlines()
    slot = os.environ.get("ZC_WORKER_SLOT", "?")
    for i, fd in enumerate(fds):
        fields = records[i].split(" ") if i < len(records) else []
        with socket.socket(fileno=fd) as conn:
            if len(fields) != 5:
                continue  # a record that does not parse: just close it
            _listener, client, port, _server, _sport = fields
            conn.setblocking(True)
            conn.sendall(f"python worker {worker_id} (slot {slot}) for "
                         f"{client} port {port}\n".encode())


def log(text):
    print(f"worker.py[{os.getpid()}] {text}", file=sys.stderr, flush=True)


def main():
    if "ZC_IPC_FD" not in os.environ:
        log("not started by a zcluster primary (no ZC_IPC_FD)")
        return 2
    worker_id = os.environ.get("ZC_WORKER_ID", "0")
    max_payload = int(os.environ.get("ZC_IPC_MAX_MESSAGE", 16 * 1024 * 1024))
    link = Link(int(os.environ["ZC_IPC_FD"]), max_payload)
    # The stop signal means the same as a shutdown message.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))

    # For the tests: a worker that never answers a metrics collection.
    deaf = os.environ.get("WORKER_PY_DEAF_METRICS") == "1"
    messages = 0

    link.send("hello", b"1")
    link.send("status", b"python worker up")
    link.send("zc.metrics", metrics_text(worker_id, messages))
    link.send("ready")
    while True:
        select.select([link.sock], [], [])
        frames = link.receive()
        if frames is None:
            log("the primary is gone; exiting")
            return 0
        for type_, payload, fds in frames:
            if type_ == "zc.conn":
                serve_connections(payload, fds, worker_id)
                continue
            for fd in fds:  # no other message brings fds it wants
                os.close(fd)
            messages += 1
            if type_ == "zc.metrics.collect" and not deaf:
                link.send("zc.metrics", metrics_text(worker_id, messages))
            elif type_ == "ping":
                link.send("pong", worker_id.encode() + b":" + payload)
            elif type_ == "shutdown":
                # Nothing is in flight here; a server would drain first,
                # within the milliseconds the payload gives.
                link.send("stopping")
                log(f"shutdown requested ({payload.decode()} ms); exiting")
                return 0


if __name__ == "__main__":
    sys.exit(main())
