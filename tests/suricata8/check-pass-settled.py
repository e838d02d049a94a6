#!/usr/bin/python3
"""Passing settled flows (plugin/suricata/detect-sc8-tx.c, docs/suricata.md "Passing settled
flows"), on public captures, in one runmode:

    /usr/bin/python3 tests/suricata8/check-pass-settled.py \
        --suricata /var/cache/embargo/suricata-8.0.7/bin/suricata \
        --plugin build/plugin/suricata/sc8/embargo.so --embargo build/embargo \
        --runmode single|autofp RULES PCAP... [:: RULES PCAP...]

For each group (a pack and its captures), Suricata 8 runs three times in transactions mode:
  on    embargo's rules alone (flows are passed once settled, the default);
  off   the same with `embargo.pass-settled-flows: no`;
  other the same as `on` plus one rule that is not embargo's;
  logged the same as `on` with a pcap-log that honours pass rules (`off` has it too).
Must hold: `on` raises exactly the alerts of `off` (same rule, flow, field and value: a
passed flow loses none); `on` passes some flows, and only TLS, QUIC, protocols that never hand
over to another parser, or flows Suricata gave up on (never DNS, HTTP, nor SMTP, FTP,
IMAP, POP3, LDAP, PostgreSQL while Suricata still parses them); `off` and `other` pass none;
`logged` passes flows too and its pcap-log keeps as many packets as `off`'s (a pcap-log with
`honor-pass-rules` drops packets marked for no inspection, which the packets of passed flows
then must not be).

--set KEY=VALUE adds a Suricata setting to every run; --expect-sid SID requires that each group
raise SID without passing (a check that cannot lose an alert that never came proves nothing).

Exits 0 when all held, 77 when Suricata 8 or the plugin is missing, else 1.
"""

import argparse
import collections
import importlib.util
import json
import os
import struct
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("run_suricata8_case",
                                              os.path.join(HERE, "run-suricata8-case.py"))
sc8 = importlib.util.module_from_spec(spec)
spec.loader.exec_module(sc8)

# Never passed: flows whose protocol a reader still reads (DNS: its answers feed attribution;
# HTTP: keep-alive brings more requests). Other flows may be passed once settled (QUIC once
# its client's whole ClientHello was read), a STARTTLS protocol only once Suricata stopped
# parsing it (it does not follow some upgrades into TLS): what shows that nothing was lost is
# the same alerts with and without.
NEVER_PASS = {"dns", "http", "http1"}
OTHER_RULE = ('alert tcp any any -> any any (msg:"not embargo\'s"; flow:established; '
              'content:"embargo-check-pass-settled-no-such-bytes"; sid:9000001; rev:1;)\n')


def run(opts, rules, pcaps, variant, tmp):
    sig = os.path.join(tmp, "embargo.rules")
    code, err = sc8.export_rules(opts, rules, sig)
    if code != 0:
        raise sc8.CaseFailure("export of %s: exit %d %s" % (rules, code, err))
    if variant == "other":
        with open(sig, "a") as f:
            f.write(OTHER_RULE)
    with open(os.path.join(tmp, "classification.config"), "w") as f:
        f.write(sc8.CLASSIFICATION)
    open(os.path.join(tmp, "reference.config"), "w").close()
    conf = sc8.suricata_yaml(tmp, opts, rules)
    for key, value in opts.set:
        node = conf
        for part in key.split(".")[:-1]:
            node = node.setdefault(part, {})
        node[key.split(".")[-1]] = value
    if variant == "off":
        conf["embargo"]["pass-settled-flows"] = False
    if variant in ("off", "logged"):
        conf["outputs"].insert(0, {"pcap-log": {
            "enabled": True, "filename": "log.pcap", "mode": "normal", "limit": "4000mb",
            "max-files": 1, "honor-pass-rules": True}})
    args = [opts.suricata, "-l", tmp, "-S", sig, "-k", "none"]
    code, output, cmd, _ = sc8.sc7.run_suricata_on(args, conf, tmp, pcaps, opts, 300)
    if code != 0:
        raise sc8.CaseFailure("%s: exit %d\n%s" % (cmd, code, output[-2000:]))
    events = sc8.read_events(tmp, None)
    return events, count_logged(tmp)


def count_logged(tmp):
    """Packets in the run's pcap-log files (none: None)."""
    names = [n for n in os.listdir(tmp) if n.startswith("log.pcap")]
    if not names:
        return None
    n = 0
    for name in names:
        with open(os.path.join(tmp, name), "rb") as f:
            head = f.read(24)
            order = "<" if head[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
            while True:
                rec = f.read(16)
                if len(rec) < 16:
                    break
                f.seek(struct.unpack(order + "IIII", rec)[2], 1)
                n += 1
    return n


def alert_key(ev):
    ctx = ev["alert"].get("context", {}).get("embargo", {})
    return (sc8.five_tuple(ev), ev["alert"]["signature_id"], ctx.get("field"), ctx.get("value"))


def check_group(opts, rules, pcaps):
    runs, logged = {}, {}
    for variant in ("on", "off", "other", "logged"):
        with tempfile.TemporaryDirectory(prefix="embargo-pass-") as tmp:
            runs[variant], logged[variant] = run(opts, rules, pcaps, variant, tmp)
    if logged["off"] is None or logged["logged"] != logged["off"]:
        raise sc8.CaseFailure("a pcap-log honouring pass rules kept %s packets with passing, "
                              "%s without" % (logged["logged"], logged["off"]))
    alerts = {v: sorted(alert_key(e) for e in evs if e.get("event_type") == "alert")
              for v, evs in runs.items()}
    # The same alerts: in `single`, as many of each; in `autofp`, the same set. With several
    # workers, Suricata itself may cut one connection into two flows when a group's next
    # capture jumps the clock while a worker still holds the previous capture's packets (the
    # flow times out, its late packets start a new flow mid-stream): both flows then alert,
    # in a run with passing as in one without (seen on detect-kaspersky.pcap's HTTP flow, one
    # run in six, `off`).
    # The cut may also fall inside the HTTP request, which then no flow parses: its alerts
    # are missing from that run (seen once in a loaded CI run, `on`, and once under load,
    # `off`). So in `autofp` a connection Suricata cut into several flows in any run is left
    # out of the comparisons; every other one must alert alike.
    cut = set()
    if opts.runmode != "single":
        for evs in runs.values():
            seen = collections.Counter(sc8.five_tuple(e) for e in evs
                                       if e.get("event_type") == "flow")
            cut |= {k for k, n in seen.items() if n > 1}
        alerts = {v: [k for k in a if k[0] not in cut] for v, a in alerts.items()}
    on, off = collections.Counter(alerts["on"]), collections.Counter(alerts["off"])
    if (on != off) if opts.runmode == "single" else (set(on) != set(off)):
        lost = sorted((off - on).elements())
        extra = sorted((on - off).elements())
        raise sc8.CaseFailure("passing changed the alerts: lost %s, new %s" % (lost, extra))
    for sid in opts.expect_sid:
        if not any(k[1] == sid for k in alerts["off"]):
            raise sc8.CaseFailure("without passing, sid %d did not alert: nothing to compare" % sid)
    if set(alerts["logged"]) != set(alerts["off"]):
        raise sc8.CaseFailure("with a pcap-log, passing changed the alerts")
    if not set(alerts["on"]) <= set(alerts["other"]):
        raise sc8.CaseFailure("with another rule loaded, alerts were lost: %s" %
                              sorted(set(alerts["on"]) - set(alerts["other"])))
    passed = {}
    for v, evs in runs.items():
        # A flow without app-layer state is passed as a `pass` rule passes it ("action":
        # "pass"); one with, by taking its rule groups away: both say "embargo": {"passed":
        # true}, and only passing may set either.
        passed[v] = [e for e in evs if e.get("event_type") == "flow"
                     and (e.get("flow", {}).get("action") == "pass"
                          or e.get("embargo", {}).get("passed") is True)]
        marked = [e for e in passed[v] if e.get("embargo", {}).get("passed") is not True]
        if v == "on" and marked:
            raise sc8.CaseFailure("a passed flow's record lacks \"embargo\": {\"passed\": "
                                  "true}: %s" % json.dumps(marked[0])[:400])
    if not passed["logged"]:
        raise sc8.CaseFailure("with a pcap-log honouring pass rules, no flow was passed")
    for v in ("off", "other"):
        if passed[v]:
            raise sc8.CaseFailure("%s: %d flows passed, none may be" % (v, len(passed[v])))
    for e in passed["on"]:
        app = e.get("app_proto")
        if app in NEVER_PASS:
            raise sc8.CaseFailure("a %s flow (%s) was passed: %s" % (
                app, e.get("proto"), json.dumps(e)[:400]))
    if not passed["on"]:
        raise sc8.CaseFailure("no flow was passed")
    flows = sum(1 for e in runs["on"] if e.get("event_type") == "flow")
    apps = sorted({str(e.get("app_proto")) for e in passed["on"]})
    return "%d alerts in each; %d of %d flows passed (%s); pcap-log %d packets%s" % (
        len(alerts["on"]), len(passed["on"]), flows, ", ".join(apps), logged["off"],
        "; %d connection(s) Suricata cut into several flows left out" % len(cut) if cut else "")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--suricata", required=True)
    ap.add_argument("--plugin", required=True)
    ap.add_argument("--embargo", required=True)
    ap.add_argument("--runmode", default="single", choices=["single", "autofp"])
    ap.add_argument("--cache-dir", default="no")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="a Suricata setting for every run (dotted key), e.g. "
                         "app-layer.protocols.dns.udp.detection-ports.dp=53,5300")
    ap.add_argument("--expect-sid", action="append", type=int, default=[],
                    help="a sid every group must raise without passing (so that the "
                         "comparison has something to lose)")
    ap.add_argument("groups", nargs="+", help="RULES PCAP... [:: RULES PCAP...]")
    opts = ap.parse_args()
    opts.mode, opts.ips, opts.verbose = "transactions", False, False
    opts.set = [tuple(kv.split("=", 1)) for kv in opts.set]
    # Suricata runs in its log directory: every path absolute
    opts.suricata, opts.plugin, opts.embargo = map(os.path.abspath,
                                                   (opts.suricata, opts.plugin, opts.embargo))
    opts.groups = [a if a == "::" else os.path.abspath(a) for a in opts.groups]
    for path in (opts.suricata, opts.plugin):
        if not os.path.exists(path):
            print("SKIP: no %s" % path)
            return 77
    groups, cur = [], []
    for a in opts.groups + ["::"]:
        if a == "::":
            if cur:
                groups.append(cur)
            cur = []
        else:
            cur.append(a)
    failed = False
    for g in groups:
        rules, pcaps = g[0], g[1:]
        name = "%s on %s" % (os.path.relpath(rules), ", ".join(os.path.basename(p) for p in pcaps))
        try:
            print("ok   %s (%s): %s" % (name, opts.runmode, check_group(opts, rules, pcaps)))
        except sc8.CaseFailure as e:
            print("FAIL %s (%s): %s" % (name, opts.runmode, e))
            failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
