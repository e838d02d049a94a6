#!/usr/bin/python3
"""The live figure of bench/run.sh: packets received and dropped by the kernel.

A veth pair between two network namespaces made for the purpose; tcpreplay
sends a generated capture from one, the capture runs in the other:
  embargo live -j 2                       (PACKET_FANOUT over two rings)
  Suricata 7 af-packet, runmode workers,  2 threads, cluster_flow, the rules of
                                          `embargo rules export --format suricata`
Each trial starts the capture, waits until it is ready, replays the capture at
one rate (tcpreplay --topspeed, then fixed packet rates going down), stops it
and reads the kernel's counts: embargo's from its closing statistics line,
Suricata's from its closing `device: ... packets: N, drops: M` line. Needs
root, `ip netns` and tcpreplay; says why and returns None without them. The
replay and both captures share the machine's cores: compare the two, not the
rates with another machine's.
"""

import os
import re
import shutil
import signal
import subprocess
import time

RATES = [None, 200000, 150000, 100000, 50000]  # None: --topspeed


def _sh(*cmd, check=True):
    return subprocess.run(list(cmd), check=check, capture_output=True, text=True)


class Veth:
    """Two namespaces joined by a veth pair; removed on exit."""

    def __init__(self):
        tag = str(os.getpid())
        self.na, self.nb = "emb-bench-a-" + tag, "emb-bench-b-" + tag
        self.va, self.vb = "ebba" + tag, "ebbb" + tag

    def __enter__(self):
        _sh("ip", "netns", "add", self.na)
        _sh("ip", "netns", "add", self.nb)
        _sh("ip", "link", "add", self.va, "type", "veth", "peer", "name", self.vb)
        _sh("ip", "link", "set", self.va, "netns", self.na)
        _sh("ip", "link", "set", self.vb, "netns", self.nb)
        for ns, v in ((self.na, self.va), (self.nb, self.vb)):
            _sh("ip", "netns", "exec", ns, "sysctl", "-qw",
                "net.ipv6.conf.all.disable_ipv6=1", check=False)
            _sh("ip", "-n", ns, "link", "set", v, "up")
        return self

    def __exit__(self, *exc):
        _sh("ip", "netns", "del", self.na, check=False)
        _sh("ip", "netns", "del", self.nb, check=False)


def _wait_for(path, pattern, proc, seconds):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if os.path.exists(path) and re.search(pattern, open(path, errors="replace").read()):
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.1)
    return False


def _replay(veth, cap, rate):
    cmd = ["ip", "netns", "exec", veth.nb, "tcpreplay", "-i", veth.vb]
    cmd += ["--topspeed"] if rate is None else ["--pps", str(rate)]
    out = _sh(*cmd, cap).stdout
    m = re.search(r"Rated: [\d.]+ Bps, [\d.]+ Mbps, ([\d.]+) pps", out)
    return float(m.group(1)) if m else 0.0


def _trial_embargo(veth, tmp, embargo, env, cap, rate):
    err = os.path.join(tmp, "live.err")
    p = subprocess.Popen(["ip", "netns", "exec", veth.na, embargo, "live", "-i", veth.va, "-j",
                          "2", "-o", os.path.join(tmp, "live.json"), "--force"],
                         stdout=subprocess.DEVNULL, stderr=open(err, "w"), env=env)
    try:
        if not _wait_for(err, "capture threads", p, 30):
            return None
        pps = _replay(veth, cap, rate)
        time.sleep(1)
    finally:
        p.send_signal(signal.SIGINT)
        p.wait(30)
    m = re.search(r"stopping: (\d+) packets received, (\d+) dropped by the kernel",
                  open(err).read())
    return (pps, int(m.group(1)), int(m.group(2))) if m else None


def _trial_suricata(veth, tmp, suricata, rules_file, cap, rate):
    conf = os.path.join(tmp, "suricata-live.yaml")
    with open(conf, "w") as f:
        f.write("%%YAML 1.1\n---\nmpm-algo: hs\nspm-algo: hs\n"
                "af-packet:\n  - interface: %s\n    threads: 2\n    cluster-id: 97\n"
                "    cluster-type: cluster_flow\n    defrag: yes\n"
                "outputs:\n  - eve-log:\n      enabled: yes\n      filename: eve.json\n"
                "      types: [alert]\n"
                "classification-file: /etc/suricata/classification.config\n"
                "reference-config-file: /etc/suricata/reference.config\n" % veth.va)
    logdir = os.path.join(tmp, "sur-live")
    os.makedirs(logdir, exist_ok=True)
    out = os.path.join(tmp, "suricata-live.out")
    p = subprocess.Popen(["ip", "netns", "exec", veth.na, suricata, "-c", conf, "-S", rules_file,
                          "--af-packet=" + veth.va, "--runmode", "workers", "-l", logdir,
                          "-k", "none"], stdout=open(out, "w"), stderr=subprocess.STDOUT)
    try:
        if not _wait_for(out, "Engine started", p, 60):
            return None
        pps = _replay(veth, cap, rate)
        time.sleep(1)
    finally:
        p.send_signal(signal.SIGINT)
        p.wait(60)
    m = re.search(r"packets: (\d+), drops: (\d+)", open(out).read())
    return (pps, int(m.group(1)), int(m.group(2))) if m else None


def usable():
    """None when the live figure can be measured here, else why not."""
    if os.geteuid() != 0:
        return "needs root (network namespaces)"
    if not shutil.which("tcpreplay"):
        return "tcpreplay not installed"
    if not shutil.which("ip") or _sh("ip", "netns", "list", check=False).returncode != 0:
        return "no working `ip netns`"
    return None


def measure(tmp, embargo, env, suricata, rules_file, cap):
    """{tool: [(rate asked, pps sent, received, dropped), ...]} over RATES."""
    got = {"embargo": [], "suricata": []}
    with Veth() as veth:
        for rate in RATES:
            r = _trial_embargo(veth, tmp, embargo, env, cap, rate)
            if r:
                got["embargo"].append((rate,) + r)
            if suricata and rules_file:
                r = _trial_suricata(veth, tmp, suricata, rules_file, cap, rate)
                if r:
                    got["suricata"].append((rate,) + r)
    return got


def highest_clean(trials):
    """The highest rate sent with no kernel drop, or None."""
    clean = [pps for _, pps, recv, drop in trials if drop == 0 and recv > 0]
    return max(clean) if clean else None
