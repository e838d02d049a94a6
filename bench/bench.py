#!/usr/bin/python3
"""embargo's benchmark: one command, one table of ratios measured in the same run.

    bench/run.sh [--size MIB] [--runs N] [--real DIR ...]

Every figure is the median of N runs, with wall and CPU time (user + system of
the child) side by side; ratios compare figures of this run only, because this
kind of machine is noisy. Rows:
  floor            a libpcap read loop that touches every packet (bench/floor.c)
  embargo -j1/-j2  embargo scan, databases from the cache, output discarded
  suricata         Suricata (runmode single, Hyperscan) with `embargo rules export`
  ndpiReader       nDPI's reader with the pack's domain names as host rules
  start-up         embargo on a tiny capture with a 10k-indicator pack, cold and cached
  peak RSS         embargo on the capture and on a quarter of it (flat?)
  live             embargo live -j 2 and Suricata af-packet workers on a veth pair,
                   tcpreplay at top speed and at fixed rates (bench/live.py; root)
Every target is printed with its measured ratio and whether it is met.
With --real DIR (repeatable), the same rows and throughput ratios again on a
real-traffic mix: every classic Ethernet pcap under the DIRs (a checkout of
suricata-verify, say; bench/corpora.tsv) concatenated into one capture, each
file's records as they are (bench/README.md says which files and commit).
"""

import argparse
import glob
import os
import re
import struct
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import yaml

import live  # bench/live.py, beside this script
import pcaputil  # bench/pcaputil.py, beside this script

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run(cmd, env=None, stdout=subprocess.DEVNULL):
    """Runs cmd; returns (wall seconds, cpu seconds, exit status, stderr text)."""
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdout=stdout, stderr=subprocess.PIPE, env=env)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - t0
    err = p.stderr.read().decode(errors="replace")
    p.stderr.close()
    return wall, ru.ru_utime + ru.ru_stime, os.waitstatus_to_exitcode(status), err


def median_of(n, cmd, ok=(0, 1), env=None):
    walls, cpus, last_err = [], [], ""
    for _ in range(n):
        w, c, st, err = run(cmd, env=env)
        if st not in ok:
            raise RuntimeError("%s exited %d: %s" % (" ".join(cmd), st, err[-500:]))
        walls.append(w)
        cpus.append(c)
        last_err = err
    return statistics.median(walls), statistics.median(cpus), last_err


def domains_of_pack(rules_dir):
    names = set()
    for f in sorted(os.listdir(rules_dir)):
        if not f.endswith(".yaml"):
            continue
        doc = yaml.safe_load(open(os.path.join(rules_dir, f)))
        for rule in doc.get("rules", []):
            for alt in rule.get("match", []):
                vals = alt.get("domain", [])
                for v in vals if isinstance(vals, list) else [vals]:
                    v = str(v)
                    if v.startswith("re:") or "*" in v:
                        continue
                    names.add(v.lstrip("="))
    return sorted(names)


def write_big_pack(path, n):
    """A pack of n distinct domain indicators over 100 rules, for start-up."""
    with open(path, "w") as f:
        f.write("vendor: bench\nname: Bench\nrules:\n")
        per = n // 100
        for r in range(100):
            f.write("  - sid: %d\n    msg: bench %d\n    channel: cloud\n    match:\n"
                    "      - domain:\n" % (9000000 + r, r))
            for i in range(per):
                f.write("          - h%d-%d.vendor%d.example\n" % (r, i, r % 7))


def peak_rss_kib(err):
    m = re.search(r"peak RSS (\d+) KiB", err)
    return int(m.group(1)) if m else 0


def concat_real(dirs, out):
    """Writes every classic microsecond pcap with Ethernet link type under `dirs` (sorted by
    path), whole records only, into one capture at `out`. Returns (files used, packets)."""
    files = sorted(p for d in dirs for p in glob.glob(os.path.join(d, "**", "*.pcap"),
                                                        recursive=True))
    used = npkts = 0
    with open(out, "wb") as o:
        o.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, 1))
        for path in files:
            data = open(path, "rb").read()
            end = pcaputil.byte_order(data)
            if end is None or struct.unpack(end + "I", data[20:24])[0] != 1:
                continue
            recs = [struct.pack("<IIII", sec, usec, cap, length) + b
                    for sec, usec, cap, length, b in pcaputil.records(data)]
            if recs:
                o.write(b"".join(recs))
                used += 1
                npkts += len(recs)
    return used, npkts


def compare(a, tmp, env, embargo, floor, rules, cap, pkts):
    """floor, embargo -j1/-j2, Suricata and ndpiReader on `cap`: {row: (wall, cpu)}."""
    got = {}
    run([floor, cap])  # warm the page cache and the database cache
    run([embargo, "scan", "-q", "-o", "/dev/null", cap], env=env)
    got["floor"] = median_of(a.runs, [floor, cap])[:2]
    got["j1"] = median_of(a.runs, [embargo, "scan", "-q", "-o", "/dev/null", cap], env=env)[:2]
    got["j2"] = median_of(a.runs, [embargo, "scan", "-q", "-j", "2", "-o", "/dev/null", cap],
                          env=env)[:2]
    suricata = shutil.which("suricata")
    exp = subprocess.run([embargo, "rules", "export", "--format", "suricata", rules],
                         capture_output=True, text=True)
    if suricata and exp.returncode == 0 and exp.stdout.strip():
        rfile = os.path.join(tmp, "embargo.rules")
        open(rfile, "w").write(exp.stdout)
        conf = os.path.join(tmp, "suricata.yaml")
        open(conf, "w").write(
            "%YAML 1.1\n---\nmpm-algo: hs\nspm-algo: hs\n"
            "outputs:\n  - eve-log:\n      enabled: yes\n      filename: eve.json\n"
            "      types: [alert]\n"
            "classification-file: /etc/suricata/classification.config\n"
            "reference-config-file: /etc/suricata/reference.config\n")
        logdir = os.path.join(tmp, "sur")
        os.makedirs(logdir, exist_ok=True)
        cmd = [suricata, "-c", conf, "-S", rfile, "-r", cap, "-l", logdir, "-k", "none",
               "--runmode", "single"]
        try:
            got["suricata"] = median_of(a.runs, cmd)[:2]
        except RuntimeError as e:  # a crash is a finding, not the end of the benchmark
            print("suricata row skipped: %s" % str(e).split(":")[0].split("/")[-1]
                  + " " + str(e).split(" exited ")[-1][:40])
    else:
        print("suricata row skipped: %s" % ("no suricata" if not suricata else
                                             "embargo rules export unavailable"))
    ndpi = shutil.which("ndpiReader")
    if ndpi:
        protos = os.path.join(tmp, "protos.txt")
        with open(protos, "w") as f:
            for d in domains_of_pack(rules):
                f.write('host:"%s"@Banned\n' % d)
        try:
            got["ndpi"] = median_of(a.runs, [ndpi, "-i", cap, "-p", protos, "-q"])[:2]
        except RuntimeError as e:
            print("ndpiReader row skipped: exited " + str(e).split(" exited ")[-1][:40])
    else:
        print("ndpiReader row skipped: install libndpi-bin")
    return got


NAMES = [("floor", "floor (libpcap read loop)"), ("j1", "embargo scan -j 1"),
         ("j2", "embargo scan -j 2"), ("suricata", "suricata 7 (single, hs, exported rules)"),
         ("ndpi", "ndpiReader 4.2 (pack names as host rules)")]


def verdict(ok):
    return "met" if ok else "NOT met"


def print_compare(got, pkts):
    print("%-44s %9s %9s %12s" % ("", "wall s", "CPU s", "pkts/CPU-s"))
    for key, name in NAMES:
        if key in got:
            w, c = got[key]
            print("%-44s %9.3f %9.3f %12.0f" % (name, w, c, pkts / c if c > 0 else 0))
    print()
    fw, fc = got["floor"]
    ew, ec = got["j1"]
    print("%-48s %9s   %-26s %s" % ("target (ratios of this run)", "measured", "target", ""))
    row = "%-48s %8.2fx   %-26s %s"
    print(row % ("embargo -j1 vs floor, wall", ew / fw, "<= 1.5x (stretch 1.25x)",
                 verdict(ew / fw <= 1.5) + (", stretch too" if ew / fw <= 1.25 else "")))
    print(row % ("embargo -j1 vs floor, CPU", ec / fc, "<= 1.5x", verdict(ec / fc <= 1.5)))
    if "suricata" in got:
        r = got["suricata"][1] / ec
        print(row % ("packets per CPU-second, embargo / suricata", r, ">= 10x", verdict(r >= 10)))
    if "ndpi" in got:
        r = got["ndpi"][1] / ec
        print(row % ("packets per CPU-second, embargo / ndpiReader", r, ">= 8x", verdict(r >= 8)))
    r = ew / got["j2"][0]
    print(row % ("-j 2 vs -j 1, wall speed-up", r, ">= 1.8x", verdict(r >= 1.8)))


def print_live(got):
    print("%-30s %10s %10s %10s %10s" % ("live (veth, tcpreplay)", "rate asked", "pps sent",
                                         "received", "kernel drop"))
    for tool, name in (("embargo", "embargo live -j 2"), ("suricata", "suricata af-packet x2")):
        for rate, pps, recv, drop in got[tool]:
            print("%-30s %10s %10.0f %10d %10d" % (name, "top" if rate is None else rate, pps,
                                                   recv, drop))
    clean_e, clean_s = live.highest_clean(got["embargo"]), live.highest_clean(got["suricata"])
    print("highest drop-free rate: embargo %s pps, suricata %s pps"
          % ("%.0f" % clean_e if clean_e else "none", "%.0f" % clean_s if clean_s else "none"))
    # at every rate where Suricata dropped, embargo did not
    sur = {rate: drop for rate, _, _, drop in got["suricata"]}
    emb = {rate: drop for rate, _, _, drop in got["embargo"]}
    where = [rate for rate, drop in sur.items() if drop > 0 and rate in emb]
    ok = all(emb[rate] == 0 for rate in where)
    print("%-48s %9s   %-26s %s" % ("live: no kernel drops where suricata drops",
                                     "%d/%d rates" % (sum(emb[r] == 0 for r in where), len(where)),
                                     "all", verdict(ok) if where else "n/a (suricata never "
                                     "dropped)"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    ap.add_argument("--size", type=int, default=1024, help="MiB of mixed traffic")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--real", action="append", default=[],
                    help="a directory of captures for the real-traffic mix (repeatable)")
    ap.add_argument("--live-size", type=int, default=64,
                    help="MiB of mixed traffic replayed for the live figure (0: none)")
    a = ap.parse_args()
    b = a.build
    embargo, gen, floor = b + "/embargo", b + "/bench/gen-traffic", b + "/bench/floor"
    rules = os.path.join(ROOT, "rules")
    tmp = tempfile.mkdtemp(prefix="embargo-bench-")
    env = dict(os.environ, EMBARGO_CACHE_DIR=os.path.join(tmp, "cache"))
    try:
        mix = os.path.join(tmp, "mix.pcap")
        quarter = os.path.join(tmp, "quarter.pcap")
        subprocess.run([gen, "-m", str(a.size), "-o", mix], check=True)
        subprocess.run([gen, "-m", str(max(a.size // 4, 1)), "-o", quarter], check=True)
        out = subprocess.run([floor, mix], check=True, capture_output=True, text=True).stdout
        pkts = int(out.split()[0])
        size = os.path.getsize(mix)
        print("capture: %d MiB, %d packets (bench/gen-traffic -m %d)" % (size >> 20, pkts, a.size))

        got = compare(a, tmp, env, embargo, floor, rules, mix, pkts)

        # start-up with 10k indicators
        pack = os.path.join(tmp, "big.yaml")
        write_big_pack(pack, 10000)
        tiny = os.path.join(ROOT, "pcaps", "detect-kaspersky.pcap")
        cold, _, _ = median_of(a.runs, [embargo, "scan", "-q", "--no-cache", "-r", pack, "-o",
                                        "/dev/null", tiny], env=env)
        run([embargo, "scan", "-q", "-r", pack, "-o", "/dev/null", tiny], env=env)
        warm, _, _ = median_of(a.runs, [embargo, "scan", "-q", "-r", pack, "-o", "/dev/null",
                                        tiny], env=env)

        # peak RSS, full and a quarter
        _, _, _, errf = run([embargo, "scan", "-o", "/dev/null", mix], env=env)
        _, _, _, errq = run([embargo, "scan", "-o", "/dev/null", quarter], env=env)
        rss_full, rss_quarter = peak_rss_kib(errf), peak_rss_kib(errq)

        print()
        print_compare(got, pkts)
        print("%-48s %7.3f s   %-26s %s" % ("start-up, 10k indicators, cold compile", cold,
                                               "<= 1 s", verdict(cold <= 1)))
        print("%-48s %7.3f s   %-26s %s" % ("start-up, 10k indicators, from the cache", warm,
                                               "<= 0.05 s", verdict(warm <= 0.05)))
        print("%-48s %5.1f MiB   %-26s %s" % ("peak RSS, %d MiB capture, -j 1" % a.size,
                                               rss_full / 1024, "<= 64 MiB (at 1 GiB)",
                                               verdict(rss_full / 1024 <= 64)))
        print("%-48s %5.1f MiB   %s" % ("peak RSS, %d MiB capture, -j 1" % max(a.size // 4, 1),
                                         rss_quarter / 1024, "(flat?)"))

        why = live.usable() if a.live_size > 0 else "--live-size 0"
        if why:
            print("\nlive figure skipped: " + why)
        else:
            cap = os.path.join(tmp, "live.pcap")
            subprocess.run([gen, "-m", str(a.live_size), "-o", cap], check=True)
            rfile = os.path.join(tmp, "live.rules")
            exp = subprocess.run([embargo, "rules", "export", "--format", "suricata", rules],
                                 capture_output=True, text=True)
            open(rfile, "w").write(exp.stdout)
            print()
            print_live(live.measure(tmp, embargo, env, shutil.which("suricata"),
                                    rfile if exp.returncode == 0 else None, cap))

        if a.real:
            real = os.path.join(tmp, "real.pcap")
            used, rpkts = concat_real(a.real, real)
            print()
            print("real-traffic mix: %d captures from %s, %d packets, %.1f MiB"
                  % (used, ", ".join(a.real), rpkts, os.path.getsize(real) / 1048576))
            if rpkts:
                print_compare(compare(a, tmp, env, embargo, floor, rules, real, rpkts), rpkts)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
