#!/usr/bin/env python3
"""A worker that knows only systemd's protocol, for the watchdog tests.

It checks that WATCHDOG_PID is its own pid (as sd_watchdog_enabled()
does), says READY=1, and sends WATCHDOG=1 every third of WATCHDOG_USEC.

  watchdog-worker.py [MODE]
    ping      (default) ping until SIGUSR1, then fall silent (alive)
    never     never ping
    stranger  a child of it pings instead, and it sends WATCHDOG_USEC=

Signals: SIGUSR1 stops the pings; SIGTERM exits 0.
"""
import os
import signal
import socket
import sys
import time

mode = sys.argv[1] if len(sys.argv) > 1 else "ping"
usec = int(os.environ["WATCHDOG_USEC"])
if int(os.environ["WATCHDOG_PID"]) != os.getpid():
    print("WATCHDOG_PID is not mine", file=sys.stderr)
    sys.exit(3)
addr = os.environ["NOTIFY_SOCKET"]
if addr.startswith("@"):
    addr = "\0" + addr[1:]
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)


def notify(msg):
    sock.sendto(msg.encode(), addr)


silent = False


def on_usr1(signum, frame):
    global silent
    silent = True


signal.signal(signal.SIGUSR1, on_usr1)
signal.signal(signal.SIGTERM, lambda s, f: sys.exit(0))
# The first ping goes with READY=1: watched from readiness on, whatever
# happens next.
first = "WATCHDOG=1\n" if mode == "ping" else ""
notify("READY=1\n%sSTATUS=pinging every %d us" % (first, usec // 3))
if mode == "stranger":
    notify("WATCHDOG_USEC=1")
    if os.fork() == 0:
        end = time.monotonic() + 60
        while time.monotonic() < end:
            notify("WATCHDOG=1")
            time.sleep(usec / 3e6)
        sys.exit(0)
deadline = time.monotonic() + 60
told = False
while time.monotonic() < deadline:
    if silent and not told:
        notify("STATUS=stopped pinging on purpose")
        told = True
    elif mode == "ping" and not silent:
        notify("WATCHDOG=1")
    time.sleep(usec / 3e6)
