#!/usr/bin/env bash
# Suricata's cost with embargo.so's EVE filetype against the same Suricata writing
# `regular` EVE, on the same capture, in the same run of this script.
#   bench/suricata-overhead.sh PLUGIN [RUNS] [REPEAT]
#     PLUGIN  path to embargo.so (e.g. build/plugin/suricata/embargo.so)
#     RUNS    runs per configuration, alternated (default 5); the median is reported
#     REPEAT  copies of the repository's captures concatenated into the input (default 300)
# The input: every Ethernet pcap of pcaps/ and tests/pcap/, REPEAT times over, each copy
# with its IPv4 addresses moved (second and third octet) and its timestamps shifted so
# that each copy is new flows. Prints median wall and CPU (user+sys) seconds of each,
# embargo's extra CPU per record, and the ratios embargo/regular against the target
# (<= 1.05x, issue 17). The machine is shared: compare runs made at the same load.
set -euo pipefail
plugin="$(readlink -f "${1:?usage: bench/suricata-overhead.sh PLUGIN [RUNS] [REPEAT]}")"
cd "$(dirname "$0")/.."
runs="${2:-5}"
repeat="${3:-300}"
work="$(mktemp -d /tmp/embargo-bench.XXXXXX)"
[ -n "${KEEP:-}" ] || trap 'rm -rf "$work"' EXIT

/usr/bin/python3 - "$plugin" "$runs" "$repeat" "$work" "$PWD" <<'PY'
import glob, os, resource, statistics, struct, subprocess, sys

plugin, runs, repeat, work, root = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]

def packets(path):
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return
    magic = data[:4]
    if magic == b"\xd4\xc3\xb2\xa1":
        e = "<"
    elif magic == b"\xa1\xb2\xc3\xd4":
        e = ">"
    else:
        return  # pcapng or not a capture
    if struct.unpack(e + "I", data[20:24])[0] != 1:
        return  # Ethernet only
    off = 24
    while off + 16 <= len(data):
        sec, usec, incl, orig = struct.unpack(e + "IIII", data[off:off + 16])
        body = data[off + 16:off + 16 + incl]
        if len(body) < incl:
            return
        yield sec + usec / 1e6, body, orig
        off += 16 + incl

# Each file on its own stretch of time (its own start at 0), one after the other.
pkts, base = [], 0.0
for p in sorted(glob.glob(os.path.join(root, "pcaps", "*.pcap")) +
                glob.glob(os.path.join(root, "tests", "pcap", "*", "*.pcap"))):
    ps = list(packets(p))
    if not ps:
        continue
    start = ps[0][0]
    pkts.extend((base + max(0.0, t - start), b, o) for t, b, o in ps)
    base = pkts[-1][0] + 1.0
t0 = 0.0
span = base + 60
capture = os.path.join(work, "bench.pcap")
n = 0
with open(capture, "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    for k in range(repeat):
        for t, body, orig in pkts:
            b = bytearray(body)
            if len(b) >= 34 and b[12:14] == b"\x08\x00":
                for a in (26, 30):  # IPv4 source and destination: same map on both sides
                    b[a + 1] ^= k & 0xff
                    b[a + 2] ^= (k >> 8) & 0xff
            elif k > 0:
                continue  # non-IPv4 packets: first copy only
            ts = t - t0 + 1e9 + k * span
            f.write(struct.pack("<IIII", int(ts), int(round((ts % 1) * 1e6)) % 1000000,
                                len(b), orig))
            f.write(b)
            n += 1
print("capture: %d packets, %.1f MB (%d copies of %d packets of the repository's pcaps)"
      % (n, os.path.getsize(capture) / 1e6, repeat, len(pkts)))

types = '[alert, dns, tls, {http: {extended: yes}}, quic, flow]'
def conf(filetype):
    path = os.path.join(work, filetype + ".yaml")
    with open(path, "w") as f:
        f.write("%%YAML 1.1\n---\nplugins: [%s]\noutputs:\n  - eve-log:\n"
                "      enabled: yes\n      filetype: %s\n      filename: eve.json\n"
                "      types: %s\n      embargo:\n        rules: %s\n"
                "app-layer:\n  protocols:\n    quic: {enabled: yes}\n"
                % (plugin, filetype, types, os.path.join(root, "rules")))
    return path

def run(filetype):
    d = os.path.join(work, "log-" + filetype)
    os.makedirs(d, exist_ok=True)
    for f in os.listdir(d):
        os.unlink(os.path.join(d, f))
    cmd = ["suricata", "-r", capture, "-c", conf(filetype), "-l", d, "-k", "none",
           "--runmode", "single", "-S", "/dev/null"]
    import time
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    p = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        sys.exit("suricata failed (%d): %s" % (p.returncode, " ".join(cmd)))
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    with open(os.path.join(d, "eve.json"), "rb") as f:
        lines = f.read().count(b"\n")
    alerts = 0
    with open(os.path.join(d, "eve.json"), "rb") as f:
        alerts = sum(1 for l in f if b'"event_type":"alert"' in l)
    return wall, cpu, lines, alerts

TARGET = 1.05  # issue 17: Suricata 7 with embargo's output at most 5% over `regular`
res = {"regular": [], "embargo": []}
run("regular"); run("embargo")  # warm the page cache
for i in range(runs):
    for ft in ("regular", "embargo"):
        res[ft].append(run(ft))
for ft in ("regular", "embargo"):
    r = res[ft]
    print("%-8s median wall %.3f s, cpu %.3f s (%d runs); eve.json %d lines, %d alerts"
          % (ft, statistics.median(x[0] for x in r), statistics.median(x[1] for x in r),
             len(r), r[0][2], r[0][3]))
med = {ft: (statistics.median(x[0] for x in res[ft]), statistics.median(x[1] for x in res[ft]))
       for ft in res}
w = med["embargo"][0] / med["regular"][0]
c = med["embargo"][1] / med["regular"][1]
records = res["regular"][0][2]
print("embargo's cost per record Suricata wrote: %.2f us CPU (%d records, %d alerts)"
      % ((med["embargo"][1] - med["regular"][1]) / max(records, 1) * 1e6, records,
         res["embargo"][0][3]))
print("S7 + embargo output / S7 regular: CPU %.3fx, wall %.3fx (target <= %.2fx: %s)"
      % (c, w, TARGET, "met" if c <= TARGET and w <= TARGET else "not met"))
PY
