# A worker that speaks Node's channel by hand: it asks for two servers at
# once (ports PORT and PORT2), then, before it acknowledges the first
# socket, says how many answers came ("answers before the ack: N") and
# whether PORT2 is bound ("port2 refused" or "port2 bound"). Then it
# acknowledges, reads the second answer ("reply errno E" for each) and
# says it listens.
import json, os, select, socket, sys

fd = int(os.environ["NODE_CHANNEL_FD"])
ports = (int(os.environ["PORT"]), int(os.environ["PORT2"]))
ch = socket.socket(fileno=fd)
ch.setblocking(True)
buf = b""
def send(m):
    ch.sendall((json.dumps(m) + "\n").encode())
def answers(timeout):
    global buf
    got = []
    while select.select([ch], [], [], timeout)[0]:
        data, fds, _, _ = socket.recv_fds(ch, 65536, 4)
        for f in fds:
            os.close(f)
        if not data:
            sys.exit(0)
        buf += data
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            m = json.loads(line)
            m = m.get("msg", m)
            if "errno" in m:
                print("reply errno %d" % m["errno"], file=sys.stderr, flush=True)
                got.append(m)
        if got:
            timeout = 0.3
    return got
send({"cmd": "NODE_CLUSTER", "act": "online", "seq": 0})
for seq, port in ((1, ports[0]), (2, ports[1])):
    send({"cmd": "NODE_CLUSTER", "act": "queryServer", "index": seq, "data": None,
          "address": "127.0.0.1", "port": port, "addressType": 4, "seq": seq})
first = answers(2.0)
print("answers before the ack: %d" % len(first), file=sys.stderr, flush=True)
probe = socket.socket()
try:
    probe.connect(("127.0.0.1", ports[1]))
    print("port2 bound", file=sys.stderr, flush=True)
except ConnectionRefusedError:
    print("port2 refused", file=sys.stderr, flush=True)
probe.close()
send({"cmd": "NODE_HANDLE_ACK"})
second = answers(5.0)
print("answers after the ack: %d" % len(second), file=sys.stderr, flush=True)
send({"cmd": "NODE_CLUSTER", "act": "listening", "address": "127.0.0.1",
      "port": ports[0], "addressType": 4, "seq": 3})
while ch.recv(65536):
    pass
