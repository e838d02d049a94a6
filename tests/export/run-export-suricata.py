#!/usr/bin/python3
"""Check that the Suricata export of the shipped pack loads and agrees with embargo.

    /usr/bin/python3 tests/export/run-export-suricata.py --embargo build/embargo \
        --suricata /usr/bin/suricata --rules rules --cases tests/pcap \
        [--expectations tests/export/expectations.yaml] [--load-only] [-v] [CASE...]

1. `embargo rules export --format suricata RULES` > exported.rules; `suricata -T` must load
   every rule (0 failed).
2. For each tests/pcap case that uses the shipped pack (no `rules:` in its test.yaml, and
   an exit status of 0 or 1): `embargo scan` and `suricata -r` on its pcaps; per flow (the
   unordered pair of endpoints plus the protocol), the set of embargo sids each raises
   (Suricata's from `alert.metadata.embargo_sid`) must be equal, except for the
   differences listed for the case in expectations.yaml, each with its reason.
   A listed difference that no longer happens fails too, so the list stays true.
Prints PASS/FAIL per case; exits 0 only if all passed.
"""

import argparse
import ipaddress
import json
import os
import shutil
import subprocess
import sys
import tempfile

import yaml

MIN_YAML = """%YAML 1.1
---
default-log-dir: {logdir}
app-layer:
  protocols:
    tls:
      enabled: yes
      detection-ports:
        dp: 443
      ja4-fingerprints: yes
    http:
      enabled: yes
    dns:
      tcp:
        enabled: yes
        detection-ports:
          dp: 53
      udp:
        enabled: yes
        detection-ports:
          dp: 53
    quic:
      enabled: yes
stream:
  checksum-validation: no
  midstream: true
outputs:
  - eve-log:
      enabled: yes
      filetype: regular
      filename: eve.json
      types:
        - alert
classification-file: /etc/suricata/classification.config
reference-config-file: /etc/suricata/reference.config
"""


def flow_key(ev):
    """The flow, direction-free: "PROTO lo_ip:port hi_ip:port" (IPv6 compressed)."""
    proto = str(ev.get("proto", "")).upper()
    a = (str(ipaddress.ip_address(ev.get("src_ip"))), ev.get("src_port", 0))
    b = (str(ipaddress.ip_address(ev.get("dest_ip"))), ev.get("dest_port", 0))
    lo, hi = sorted([a, b], key=lambda x: (str(x[0]), int(x[1] or 0)))
    return "%s %s:%s %s:%s" % (proto, lo[0], lo[1], hi[0], hi[1])


def read_alerts(path, sid_of):
    flows = {}
    if not os.path.exists(path):
        return flows
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            ev = json.loads(line)
            if ev.get("event_type") != "alert":
                continue
            sid = sid_of(ev)
            if sid is not None:
                flows.setdefault(flow_key(ev), set()).add(sid)
    return flows


def embargo_sid(ev):
    return int(ev["alert"]["signature_id"])


def suricata_sid(ev):
    md = ev["alert"].get("metadata", {})
    if "embargo_sid" in md:
        return int(md["embargo_sid"][0])
    return None  # not one of ours (e.g. a decoder event rule): ignored


def ban_args(args):
    """The ban options of `embargo scan` among a case's arguments."""
    out = []
    for i, a in enumerate(args):
        if a in ("--scope", "--restricts") and i + 1 < len(args):
            out += [a, args[i + 1]]
        elif a == "--proposed":
            out.append(a)
    return out


def shipped_cases(cases_dir, wanted):
    out = []
    for name in sorted(os.listdir(cases_dir)):
        d = os.path.join(cases_dir, name)
        tf = os.path.join(d, "test.yaml")
        if not os.path.isfile(tf) or (wanted and name not in wanted):
            continue
        with open(tf) as f:
            cfg = yaml.safe_load(f) or {}
        if "rules" in cfg or cfg.get("exit", 0) not in (0, 1):
            continue
        pcaps = [os.path.normpath(os.path.join(d, p)) for p in cfg.get("pcaps", ["input.pcap"])]
        if not all(os.path.isfile(p) for p in pcaps):
            continue
        # "{case}" in args is the case directory, as in tests/pcap/run-case.py
        out.append((name, pcaps, [str(a).replace("{case}", d) for a in cfg.get("args", [])]))
    return out


def run(cmd, **kw):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--embargo", required=True)
    ap.add_argument("--suricata", default="suricata")
    ap.add_argument("--rules", required=True)
    ap.add_argument("--cases", required=True)
    ap.add_argument("--expectations",
                    default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                         "expectations.yaml"))
    ap.add_argument("--load-only", action="store_true")
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("case", nargs="*")
    opts = ap.parse_args()

    with open(opts.expectations) as f:
        expect = (yaml.safe_load(f) or {}).get("cases", {}) or {}

    tmp = tempfile.mkdtemp(prefix="embargo-export-")
    ok = True
    try:
        rules_file = os.path.join(tmp, "exported.rules")
        with open(rules_file, "w") as out:
            r = subprocess.run([opts.embargo, "rules", "export", "--format", "suricata",
                                opts.rules], stdout=out, stderr=subprocess.PIPE, text=True)
        if r.returncode != 0:
            print("FAIL export: exit %d\n%s" % (r.returncode, r.stderr))
            return 1
        nrules = sum(1 for l in open(rules_file) if l.startswith("alert "))
        if opts.verbose and r.stderr:
            print(r.stderr, end="")
        conf = os.path.join(tmp, "suricata.yaml")
        logdir = os.path.join(tmp, "log")
        os.mkdir(logdir)
        with open(conf, "w") as f:
            f.write(MIN_YAML.format(logdir=logdir))
        t = run([opts.suricata, "-T", "-c", conf, "-S", rules_file, "-l", logdir])
        loaded = [l for l in t.stderr.splitlines() + t.stdout.splitlines()
                  if "rules successfully loaded" in l]
        if t.returncode != 0 or not loaded or " 0 rules failed" not in loaded[0]:
            print("FAIL load: suricata -T exit %d\n%s%s" % (t.returncode, t.stdout, t.stderr))
            return 1
        print("PASS load: %d exported rules; %s" % (nrules, loaded[0].split(": ", 1)[-1]))
        if opts.load_only:
            return 0

        for name, pcaps, args in shipped_cases(opts.cases, set(opts.case)):
            cdir = os.path.join(tmp, name)
            os.mkdir(cdir)
            eve_e = os.path.join(cdir, "embargo.json")
            e = run([opts.embargo, "scan", "-q", "-r", opts.rules, "-o", eve_e] + args + pcaps,
                    env=dict(os.environ, TZ="UTC"))
            if e.returncode not in (0, 1):
                print("FAIL %s: embargo scan exit %d: %s" % (name, e.returncode, e.stderr))
                ok = False
                continue
            want = read_alerts(eve_e, embargo_sid)
            got = {}
            # A case that chooses bans (--scope, --restricts, --proposed) is compared with
            # rules exported for the same choice.
            case_rules = rules_file
            bans = ban_args(args)
            if bans:
                case_rules = os.path.join(cdir, "exported.rules")
                with open(case_rules, "w") as out:
                    subprocess.run([opts.embargo, "rules", "export", "--format", "suricata"] +
                                   bans + [opts.rules], stdout=out, stderr=subprocess.PIPE)
            for i, p in enumerate(pcaps):
                sdir = os.path.join(cdir, "suricata%d" % i)
                os.mkdir(sdir)
                s = run([opts.suricata, "-c", conf, "-S", case_rules, "-l", sdir, "-k", "none",
                         "-r", p])
                if s.returncode != 0:
                    print("FAIL %s: suricata -r %s exit %d: %s" % (name, p, s.returncode,
                                                                   s.stderr[-2000:]))
                    ok = False
                for k, v in read_alerts(os.path.join(sdir, "eve.json"), suricata_sid).items():
                    got.setdefault(k, set()).update(v)

            # Differences, then the ones expectations.yaml explains.
            diffs = set()
            for k in set(want) | set(got):
                for sid in want.get(k, set()) - got.get(k, set()):
                    diffs.add(("embargo-only", k, sid))
                for sid in got.get(k, set()) - want.get(k, set()):
                    diffs.add(("suricata-only", k, sid))
            listed = set()
            for d in (expect.get(name) or []):
                for which in ("embargo-only", "suricata-only"):
                    for item in d.get(which, []) or []:
                        listed.add((which, item["flow"], int(item["sid"])))
            unexplained = diffs - listed
            stale = listed - diffs
            nflows = len(set(want) | set(got))
            if unexplained or stale:
                ok = False
                print("FAIL %s (%d flows)" % (name, nflows))
                for d in sorted(unexplained):
                    print("  unexplained %s: %s sid %d" % d)
                for d in sorted(stale):
                    print("  listed but not seen %s: %s sid %d" % d)
            else:
                print("PASS %s (%d flows, %d alerting, %d listed differences)" %
                      (name, nflows, len(want), len(listed)))
            if opts.verbose:
                for k in sorted(set(want) | set(got)):
                    print("    %s embargo=%s suricata=%s" % (k, sorted(want.get(k, [])),
                                                             sorted(got.get(k, []))))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
