#!/usr/bin/env python3
"""Checks the promises contrib/kubernetes/ makes, with a YAML parser (no
cluster runs on the machines CI uses):

- the Deployment's probes are /healthz (liveness) and /readyz (readiness)
  on the port --metrics gives, and the Prometheus annotations name it;
- the traffic port is --listen's, the Service's targetPort is it, and the
  Service and the PodDisruptionBudget select the pods' labels;
- terminationGracePeriodSeconds is larger than --shutdown-delay plus
  --shutdown-timeout;
- the worker count is left to the CPU limit (no -w, a CPU limit set), and
  no preStop sleep stands in for --shutdown-delay;
- the args are options zcluster takes (zcluster -t, $ZCLUSTER or
  build/zcluster);
- the Containerfile's last stage is FROM scratch and its entrypoint is
  zcluster.

Prints one line per check and "N passed, M failed" last; exits 1 if any
failed.

    scripts/k8s-check.py [DIR]
"""
import os
import re
import subprocess
import sys

import yaml

DIR = sys.argv[1] if len(sys.argv) > 1 else "contrib/kubernetes"
passed = failed = 0


def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
        print("ok - " + what)
    else:
        failed += 1
        print("not ok - " + what)


def load(name):
    with open(f"{DIR}/{name}") as f:
        return yaml.safe_load(f)


def duration_s(text):
    """A zcluster duration ("10s", "500ms", "2m", "1h", "250") in seconds."""
    m = re.fullmatch(r"(\d+)(ms|s|m|h)?", text)
    if not m:
        raise ValueError(f"not a duration: {text}")
    scale = {None: 0.001, "ms": 0.001, "s": 1, "m": 60, "h": 3600}
    return int(m.group(1)) * scale[m.group(2)]


def flag(args, name, default=None):
    """The value of --name=V or --name V in args (before "--")."""
    args = args[:args.index("--")] if "--" in args else args
    for i, a in enumerate(args):
        if a.startswith(f"--{name}="):
            return a.split("=", 1)[1]
        if a == f"--{name}" and i + 1 < len(args):
            return args[i + 1]
    return default


def port_of(addr):
    return int(addr.rsplit(":", 1)[1])


dep = load("deployment.yaml")
svc = load("service.yaml")
pdb = load("pdb.yaml")
check(dep["kind"] == "Deployment" and svc["kind"] == "Service" and
      pdb["kind"] == "PodDisruptionBudget", "the three manifests parse")

pod = dep["spec"]["template"]
spec = pod["spec"]
c = spec["containers"][0]
args = c.get("args", [])
labels = pod["metadata"]["labels"]

metrics = port_of(flag(args, "metrics", ":0"))
listen = port_of(flag(args, "listen", ":0"))
ready = c["readinessProbe"]["httpGet"]
live = c["livenessProbe"]["httpGet"]
check(ready["path"] == "/readyz" and int(ready["port"]) == metrics,
      f"readiness probe: /readyz on the metrics port {metrics}")
check(live["path"] == "/healthz" and int(live["port"]) == metrics,
      f"liveness probe: /healthz on the metrics port {metrics}")
ann = pod["metadata"].get("annotations", {})
check(ann.get("prometheus.io/scrape") == "true" and
      int(ann.get("prometheus.io/port", -1)) == metrics and
      ann.get("prometheus.io/path") == "/metrics",
      "Prometheus annotations: /metrics on the metrics port")
ports = {p["name"]: p["containerPort"] for p in c["ports"]}
check(ports.get("http") == listen and ports.get("metrics") == metrics,
      f"container ports: http {listen} (--listen), metrics {metrics}")
check(any(p["targetPort"] in (listen, "http") for p in svc["spec"]["ports"]),
      "the Service sends to --listen's port")
check(all(labels.get(k) == v for k, v in svc["spec"]["selector"].items()),
      "the Service selects the pods")
check(all(labels.get(k) == v
          for k, v in pdb["spec"]["selector"]["matchLabels"].items()),
      "the PodDisruptionBudget selects the pods")
check(dep["spec"]["selector"]["matchLabels"].items() <= labels.items(),
      "the Deployment's selector matches its pods")

delay = duration_s(flag(args, "shutdown-delay", "0"))
drain = duration_s(flag(args, "shutdown-timeout", "30s"))
grace = spec.get("terminationGracePeriodSeconds", 30)
check(grace > delay + drain,
      f"grace period {grace} s > shutdown delay {delay:g} s + drain "
      f"{drain:g} s")
check(delay > 0, "a shutdown delay, so the pod serves while it leaves the "
      "endpoints")
pre = c.get("lifecycle", {}).get("preStop")
check(pre is None, "no preStop hook: --shutdown-delay is the delay")
check(flag(args, "workers") is None and "-w" not in args and
      "cpu" in c.get("resources", {}).get("limits", {}),
      "no -w: the workers follow the CPU limit "
      f"({c['resources']['limits']['cpu']})")
check(args[0].startswith("--") and "--" in args,
      "the image's entrypoint is zcluster: the args are its options, then "
      "the app")

# The args are options zcluster takes: its own check says so.
zcluster = os.environ.get("ZCLUSTER", "build/zcluster")
if os.access(zcluster, os.X_OK):
    run = subprocess.run([zcluster, "-t"] + args, capture_output=True,
                         text=True)
    check(run.returncode == 0 and "is valid" in run.stdout,
          f"zcluster -t takes the args: {run.stderr.strip() or 'valid'}")
else:
    check(False, f"no {zcluster} to check the args with (make first)")

with open(f"{DIR}/Containerfile") as f:
    stages = [line.split()[1] for line in f
              if line.upper().startswith("FROM ")]
check(stages and stages[-1] == "scratch" and len(stages) >= 2,
      "Containerfile: multi-stage, the last FROM scratch")

print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
