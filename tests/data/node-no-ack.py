# A worker that speaks Node's channel by hand and never acknowledges the
# socket it is sent: it asks for two servers, then prints the errno of each
# answer ("reply errno 0", "reply errno -11") and waits for TERM.
import json, os, socket, sys

fd = int(os.environ["NODE_CHANNEL_FD"])
ch = socket.socket(fileno=fd)
ch.setblocking(True)
def send(m):
    ch.sendall((json.dumps(m) + "\n").encode())
send({"cmd": "NODE_CLUSTER", "act": "online", "seq": 0})
for seq in (1, 2):
    send({"cmd": "NODE_CLUSTER", "act": "queryServer", "index": seq, "data": None,
          "address": "127.0.0.1", "port": 0, "addressType": 4, "seq": seq})
buf, seen = b"", 0
while seen < 2:
    data, fds, _, _ = socket.recv_fds(ch, 65536, 4)
    for f in fds:
        os.close(f)
    if not data:
        break
    buf += data
    while b"\n" in buf:
        line, buf = buf.split(b"\n", 1)
        m = json.loads(line)
        m = m.get("msg", m)
        if "errno" in m:
            print("reply errno %d" % m["errno"], file=sys.stderr, flush=True)
            seen += 1
send({"cmd": "NODE_CLUSTER", "act": "listening", "address": "127.0.0.1",
      "port": 1, "addressType": 4, "seq": 3})
while ch.recv(65536):
    pass
