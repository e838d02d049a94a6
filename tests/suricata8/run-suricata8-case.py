#!/usr/bin/python3
"""Run the end-to-end pcap cases (tests/pcap/<case>/) through Suricata 8 with embargo.so's
`embargo` keyword (plugin/suricata/detect-sc8.c).

    /usr/bin/python3 tests/suricata8/run-suricata8-case.py \
        --suricata /var/cache/embargo/suricata-8.0.7/bin/suricata \
        --plugin build/plugin/suricata/sc8/embargo.so --embargo build/embargo \
        --rules-default rules [--schema eve-schema.json] [-v] [--keep] CASE_DIR...
    ... --ips CASE_DIR      the same, as an IPS: drop rules, --simulate-ips

For each case: exports the case's pack with `embargo rules export --format suricata-plugin`
(`--action drop` with --ips), writes a suricata.yaml that loads the plugin and points
`embargo.rules` at the same pack, runs

    suricata -r PCAP -c suricata.yaml -l TMP -S embargo.rules -k none --runmode single

and applies the case's test.yaml checks to Suricata's own alert records: alert.signature_id
is the pack's sid, alert.metadata comes from the exported rule, alert.context.embargo from
the engine. As for Suricata 7 (tests/suricata/run-suricata-case.py, whose helpers this
imports), the header fields Suricata numbers itself (pcap_cnt, flow_id) are dropped from
every match, and expectations.yaml here lists, with reasons, the cases and checks
Suricata 8 cannot reproduce.

With --ips (rules exported with `--action drop`, i.e. `drop:flow`) the checks are those of
an inline sensor: every alert is `blocked`; the packets dropped by a rule are exactly the
packets that alerted; the other dropped packets follow an alert in its flow (Suricata drops
the rest of the flow); and Suricata's stats agree (ips.blocked = drop records,
ips.drop_reason.rules = alerting packets, ips.accepted = the other packets, some of them).

--runmode workers captures live instead, as the Suricata 7 runner does (its run_workers:
a veth pair, AF_PACKET with two threads, tcpreplay), with expectations-workers.yaml over
the mode's file; not with --ips, whose checks follow pcap_cnt.

Exits 0 if every case passed, 77 if every case was skipped (ctest's SKIP_RETURN_CODE),
else 1.
"""

import argparse
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


sc7 = _load("run_suricata_case", os.path.join(HERE, "..", "suricata", "run-suricata-case.py"))
rc = sc7.rc  # tests/pcap/run-case.py: the check semantics
CaseFailure = rc.CaseFailure

# Numbered by Suricata from its own bookkeeping: its packet counter and its flow hash.
HEADER_ONLY = ("pcap_cnt", "flow_id")
SKIPPED = sc7.SKIPPED

# The class the exported rules use; Suricata's own classification.config has the same line.
CLASSIFICATION = "config classification: policy-violation,Potential Corporate Privacy Violation,1\n"


def suricata_yaml(tmp, opts, rules, bans=None):
    return {
        "default-log-dir": tmp,
        "plugins": [opts.plugin],
        "embargo": dict({"rules": rules, "cache-dir": opts.cache_dir, "mode": opts.mode,
                         "stream-payload": getattr(opts, "stream_payload", "yes") == "yes"},
                        **(bans or {})),
        "classification-file": os.path.join(tmp, "classification.config"),
        "reference-config-file": os.path.join(tmp, "reference.config"),
        "outputs": [
            {"eve-log": {"enabled": True, "filetype": "regular", "filename": "eve.json",
                         "types": [{"alert": {"metadata": True}},
                                   {"drop": {"alerts": True, "flows": "all"}},
                                   {"stats": {"totals": True, "threads": False}},
                                   "flow"]}},
        ],
        "stats": {"enabled": True, "interval": 8},
        "app-layer": {"protocols": {"quic": {"enabled": True}}},
        # docs/suricata.md recommends it: connections already open when the sensor starts
        # (or whose handshake it missed) are followed and parsed too
        "stream": {"midstream": True},
        "engine": {"init-failure-fatal": True},
        "logging": {"default-log-level": "notice",
                    "outputs": [{"console": {"enabled": True}}]},
    }


def export_rules(opts, rules, dest, bans=None):
    cmd = [opts.embargo, "rules", "export", "--format", "suricata-plugin"]
    for key, value in (bans or {}).items():  # the same bans as the plugin's settings
        cmd += ["--" + key] + ([] if key == "proposed" else [value])
    if opts.ips:
        cmd += ["--action", "drop"]
    proc = subprocess.run(cmd + [rules], capture_output=True)
    with open(dest, "wb") as f:
        f.write(proc.stdout)
    return proc.returncode, proc.stderr.decode("utf-8", "replace")


def run_suricata(case_dir, cfg, opts, tmp):
    rules = os.path.join(case_dir, cfg["rules"]) if "rules" in cfg else opts.rules_default
    pcaps = [os.path.join(case_dir, p) for p in cfg.get("pcaps", ["input.pcap"])]
    with open(os.path.join(tmp, "classification.config"), "w") as f:
        f.write(CLASSIFICATION)
    open(os.path.join(tmp, "reference.config"), "w").close()
    sig = os.path.join(tmp, "embargo.rules")
    bans = sc7.ban_settings(cfg)
    export_rc, export_err = export_rules(opts, rules, sig, bans)
    args = [opts.suricata, "-l", tmp, "-S", sig, "-k", "none"]
    if opts.ips:
        args.append("--simulate-ips")
    # the file reader or, for workers, a live veth (the function the Suricata 7 runner uses)
    code, output, cmd, note = sc7.run_suricata_on(
        args, suricata_yaml(tmp, opts, rules, bans), tmp, pcaps, opts, cfg.get("timeout", 120),
        expect_start_failure=cfg["exit"] == 2)
    context = "export: exit %d %s\ncommand: %s\nexit: %d\noutput:\n%s" % (
        export_rc, export_err.strip(), cmd, code, rc._indent(output))
    if opts.verbose:
        print(context + ("\n" + note if note else ""))
    if code < 0:
        raise CaseFailure("killed by signal %d\n%s" % (-code, context))
    return code, output, context


def read_events(tmp, validator):
    events = []
    for n, line in enumerate(sc7.read_lines(os.path.join(tmp, "eve.json")), 1):
        try:
            ev = json.loads(line)
        except ValueError as e:
            raise CaseFailure("eve.json line %d is not JSON (%s): %r" % (n, e, line))
        if validator is not None and ev.get("event_type") == "alert":
            errs = sorted(validator.iter_errors(ev), key=lambda e: list(e.path))
            if errs:
                raise CaseFailure("eve.json line %d fails the schema: %s at %s\n%s" % (
                    n, errs[0].message, "/".join(map(str, errs[0].absolute_path)), line))
        events.append(ev)
    return events


def five_tuple(ev):
    a = (ev.get("src_ip"), ev.get("src_port"))
    b = (ev.get("dest_ip"), ev.get("dest_port"))
    return (ev.get("proto"),) + tuple(sorted([a, b], key=str))


def ips_checks(events, alerts):
    """Inline, with `drop:flow` rules: each alerting packet is dropped by the rule, the
    packets of its flow that follow are dropped with the flow, and nothing else."""
    drops = [e for e in events if e.get("event_type") == "drop"]
    stats = [e for e in events if e.get("event_type") == "stats"]
    if not alerts:
        if drops:
            raise CaseFailure("IPS: no alert, yet %d packets dropped" % len(drops))
        return "no alert, nothing dropped"
    not_blocked = [a for a in alerts if a["alert"].get("action") != "blocked"]
    if not_blocked:
        raise CaseFailure("IPS: alerts not blocked:\n%s" % rc._indent(
            "\n".join(rc.summarise(a) for a in not_blocked)))
    alerting = {a.get("pcap_cnt") for a in alerts}
    by_rule = {d.get("pcap_cnt") for d in drops if d["drop"].get("reason") == "rules"}
    if by_rule != alerting:
        raise CaseFailure("IPS: packets dropped by a rule %s, packets that alerted %s" % (
            sorted(by_rule), sorted(alerting)))
    first = {}  # flow -> its first alerting packet
    for a in alerts:
        key = five_tuple(a)
        first[key] = min(first.get(key, a["pcap_cnt"]), a["pcap_cnt"])
    stray = [d for d in drops if d["drop"].get("reason") != "rules" and
             (five_tuple(d) not in first or d.get("pcap_cnt") < first[five_tuple(d)])]
    if stray:
        raise CaseFailure("IPS: packets dropped outside the alerting flows:\n%s" %
                          rc._indent("\n".join(json.dumps(d) for d in stray)))
    if not stats:
        raise CaseFailure("IPS: no stats record")
    st = stats[-1]["stats"]
    ips = st.get("ips") or {}
    pkts = st.get("decoder", {}).get("pkts")
    blocked, accepted = ips.get("blocked"), ips.get("accepted")
    if blocked != len(drops) or (ips.get("drop_reason") or {}).get("rules") != len(alerting):
        raise CaseFailure("IPS: stats ips %r; %d drop records, %d alerting packets" % (
            ips, len(drops), len(alerting)))
    if not accepted or accepted + blocked != pkts:
        raise CaseFailure("IPS: stats ips.accepted %r + blocked %r != decoder.pkts %r" % (
            accepted, blocked, pkts))
    return ("%d alerts; %d packets dropped by the rules, %d more of their %d flows; "
            "%d accepted" % (len(alerts), len(alerting), len(drops) - len(by_rule), len(first),
                             accepted))


def run_case(case_dir, opts, validator, expectations):
    case_dir = os.path.abspath(case_dir)
    name = os.path.basename(case_dir)
    exp = expectations.get(name) or {}
    why = sc7.case_skip(name, exp, opts.runmode)
    if why is not None:
        return None, why
    with open(os.path.join(case_dir, "test.yaml")) as f:
        cfg = yaml.safe_load(f) or {}
    exit_expected = cfg["exit"]
    tmp = tempfile.mkdtemp(prefix="embargo-suricata8-")
    try:
        try:
            code, output, context = run_suricata(case_dir, cfg, opts, tmp)
        except sc7.Unavailable as e:
            return None, "workers: %s" % e
        if exit_expected == 2:
            if code == 0:
                raise CaseFailure("Suricata started although embargo scan fails here\n" +
                                  context)
            regex = exp.get("stderr", cfg.get("stderr"))
            if regex and not re.search(regex, output, re.MULTILINE):
                raise CaseFailure("output does not match /%s/\n%s" % (regex, context))
            return 0, None
        if code != 0:
            raise CaseFailure("suricata exit status %d\n%s" % (code, context))
        events = read_events(tmp, validator)
        alerts = [sc7.normalise_addresses(e) for e in events if e.get("event_type") == "alert"]
        if opts.ips:
            return ips_checks(events, alerts), None
        if cfg.get("eve-empty") and alerts:
            raise CaseFailure("no alert expected, got %d:\n%s" % (
                len(alerts), rc._indent("\n".join(rc.summarise(a) for a in alerts))))
        if exit_expected == 1 and not alerts and "no-alerts" not in exp:
            raise CaseFailure("embargo scan alerts here, Suricata raised no alert\n" + context)
        if exit_expected == 0 and alerts:
            raise CaseFailure("embargo scan finds nothing here, Suricata alerted:\n%s" %
                              rc._indent("\n".join(rc.summarise(a) for a in alerts)))
        return sc7.apply_checks(cfg, exp, expectations, alerts,
                                sc7.header_only(HEADER_ONLY, opts.runmode))
    finally:
        if opts.keep:
            print("kept %s" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description="Run tests/pcap cases through Suricata 8.")
    ap.add_argument("--suricata", required=True, help="the Suricata 8 binary")
    ap.add_argument("--plugin", required=True, help="path to the Suricata 8 embargo.so")
    ap.add_argument("--embargo", required=True, help="the embargo command (rules export)")
    ap.add_argument("--rules-default", required=True,
                    help="rules file or directory used when a case has no 'rules:'")
    ap.add_argument("--mode", default="transactions", choices=["transactions", "packets", "both"],
                    help="embargo.mode: match Suricata's transactions (default), run embargo's "
                         "engine on every packet, or both")
    ap.add_argument("--expectations", default=None,
                    help="default: expectations-<mode>.yaml beside this script")
    ap.add_argument("--cache-dir", help="embargo.cache-dir (default: a scratch directory)")
    ap.add_argument("--schema", help="EVE JSON schema; every alert is validated against it")
    ap.add_argument("--runmode", default="single", choices=["single", "autofp", "workers"],
                    help="Suricata's runmode: autofp runs several detect threads, each with "
                         "its own engine state; workers captures live on a veth pair "
                         "(AF_PACKET, %d threads, needs root) that tcpreplay feeds the "
                         "captures" % sc7.WORKERS_THREADS)
    ap.add_argument("--replay-pps", type=float, default=sc7.REPLAY_PPS,
                    help="workers: tcpreplay's packets per second (default %(default)s)")
    ap.add_argument("--ips", action="store_true",
                    help="drop rules and --simulate-ips; check drops instead of test.yaml")
    ap.add_argument("--stream-payload", default="yes", choices=["yes", "no"],
                    help="embargo.stream-payload (transactions mode; embargo.so's default is no, "
                         "the cases run with it on)")
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("--keep", action="store_true", help="keep the scratch directory")
    ap.add_argument("cases", nargs="+", metavar="CASE_DIR")
    opts = ap.parse_args()
    for attr in ("plugin", "rules_default", "embargo"):
        setattr(opts, attr, os.path.abspath(getattr(opts, attr)))
    for what, path in (("suricata", opts.suricata), ("plugin", opts.plugin),
                       ("embargo", opts.embargo)):
        if shutil.which(path) is None and not os.path.exists(path):
            print("%s not found: %s" % (what, path), file=sys.stderr)
            return 2
    if opts.ips and opts.runmode == "workers":
        print("--ips checks the drops by pcap_cnt: single or autofp only", file=sys.stderr)
        return 2
    if opts.expectations is None:
        opts.expectations = os.path.join(HERE, "expectations-%s.yaml" % opts.mode)
    expectations, errors = sc7.load_expectations(
        opts.expectations, opts.runmode, os.path.join(HERE, "expectations-workers.yaml"))
    if errors:
        print("\n".join(errors), file=sys.stderr)
        return 2
    validator = rc.load_schema_validator(opts.schema)
    own_cache = opts.cache_dir is None
    if own_cache:
        opts.cache_dir = tempfile.mkdtemp(prefix="embargo-suricata8-cache-")
    failed, skipped = [], []
    try:
        for case in opts.cases:
            name = os.path.basename(os.path.normpath(case))
            try:
                done, info = sc7.judge(expectations.get(name) or {}, opts,
                                       lambda: run_case(case, opts, validator, expectations))
                if done is None:
                    skipped.append(name)
                    print(sc7.skip_line(name, info))
                elif opts.ips:
                    print("PASS %s (IPS: %s)" % (name, done))
                else:
                    print("PASS %s (%d checks%s)" % (
                        name, done, ", %d skipped, see expectations.yaml" % info if info else ""))
            except (CaseFailure, OSError, yaml.YAMLError, KeyError) as e:
                failed.append(name)
                print("FAIL %s: %s" % (name, e))
    finally:
        if own_cache:
            shutil.rmtree(opts.cache_dir, ignore_errors=True)
    if len(opts.cases) > 1:
        print("%d passed, %d skipped, %d failed%s" % (
            len(opts.cases) - len(failed) - len(skipped), len(skipped), len(failed),
            (": " + " ".join(failed)) if failed else ""))
    if failed:
        return 1
    return SKIPPED if len(skipped) == len(opts.cases) else 0


if __name__ == "__main__":
    sys.exit(main())
