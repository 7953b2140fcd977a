# A worker that floods the notify socket: 200,000 datagrams as fast as it
# can (STATUS= lines), then says READY=1 and waits.
import os
import signal
import socket

s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
addr = os.environ["NOTIFY_SOCKET"]
if addr.startswith("@"):
    addr = "\0" + addr[1:]
sent = 0
for i in range(200000):
    try:
        s.sendto(b"STATUS=flood %d" % i, addr)
        sent += 1
    except (BlockingIOError, ConnectionRefusedError, OSError):
        pass
s.sendto(b"READY=1\nSTATUS=flooded", addr)
signal.sigwait([signal.SIGTERM])
