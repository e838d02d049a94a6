#!/usr/bin/python3
"""Run the end-to-end pcap cases (tests/pcap/<case>/) through Suricata with embargo.so.

    /usr/bin/python3 tests/suricata/run-suricata-case.py --suricata /usr/bin/suricata \
        --plugin build/plugin/suricata/embargo.so --rules-default rules \
        [--schema shared/reference/eve-schema-suricata-8.0.6.json] [-v] [--keep] CASE_DIR...

For each case: writes a minimal suricata.yaml that loads the plugin and has two eve-log
outputs, `filetype: embargo` (eve.json) and `filetype: regular` (eve-regular.json), runs

    suricata -r PCAP -c suricata.yaml -l TMP -k none --runmode single -S /dev/null

and checks that
  - Suricata exits 0 (a case that expects `exit: 2` of `embargo scan` must make Suricata
    fail to start, with its `stderr:` regex found in Suricata's output);
  - eve.json minus embargo's alerts holds the records of eve-regular.json (as a multiset
    of JSON values: threads interleave differently in two outputs, and Suricata orders
    dns.grouped's keys differently each time): nothing lost or changed;
  - every embargo alert is JSON (and valid against the schema when one is given);
  - the case's test.yaml checks hold on the alerts (the records Suricata writes itself are
    not what the checks are about), with the adjustments of expectations.yaml: the header
    fields that Suricata fills in differently (pcap_cnt, flow_id, timestamp) are dropped
    from every match, and a negative check that only made sense with them is skipped;
    whole cases or single checks Suricata cannot see are skipped there, with the reason.

The check semantics are run-case.py's own (imported, not copied). Exits 0 if every case
passed, 77 if every case was skipped (ctest's SKIP_RETURN_CODE), else 1.
"""

import argparse
import importlib.util
import ipaddress
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location(
    "run_case", os.path.join(HERE, "..", "pcap", "run-case.py"))
rc = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(rc)
CaseFailure = rc.CaseFailure

# Header fields Suricata fills in from its own bookkeeping: pcap_cnt counts the packet
# that completed the record (for HTTP, often the response), flow_id is Suricata's hash,
# and an HTTP record's timestamp is that packet's.
HEADER_ONLY = ("pcap_cnt", "flow_id", "timestamp")

SKIPPED = 77




def types():
    """A fresh list each time: Suricata's YAML reader knows no anchors or aliases.
    `extended` HTTP logging adds http_method and protocol, which the checks look at;
    `extended` TLS logging (version, validity, ja3/ja3s) is what docs/suricata.md
    recommends, so the plugin is tested on the records a sensor set up so writes."""
    return ["alert", "dns", {"tls": {"extended": True}}, {"http": {"extended": True}},
            "quic", "flow"]


def suricata_yaml(tmp, plugin, rules, bans=None):
    return {
        "default-log-dir": tmp,
        "plugins": [plugin],
        "outputs": [
            {"eve-log": {"enabled": True, "filetype": "embargo", "filename": "eve.json",
                         "embargo": dict({"rules": rules}, **(bans or {})),
                         "types": types()}},
            {"eve-log": {"enabled": True, "filetype": "regular", "filename": "eve-regular.json",
                         "types": types()}},
        ],
        "app-layer": {"protocols": {"quic": {"enabled": True}}},
        # An output that fails to start (bad rules) stops Suricata instead of being dropped.
        "engine": {"init-failure-fatal": True},
        "logging": {"default-log-level": "notice",
                    "outputs": [{"console": {"enabled": True}}]},
    }


def ban_settings(cfg):
    """The case's --scope/--restricts/--proposed (embargo scan's options) as the plugin's
    settings (embargo.scope, .restricts, .proposed: docs/suricata.md)."""
    args, out = cfg.get("args") or [], {}
    for i, a in enumerate(args):
        if a in ("--scope", "--restricts") and i + 1 < len(args):
            out[a[2:]] = args[i + 1]
        elif a == "--proposed":
            out["proposed"] = "yes"
    return out


def ignored(key, prefixes):
    base = key.split(".__")[0]
    return any(base == p or base.startswith(p + ".") for p in prefixes)


def selects(selector, flt):
    """Does a skip-checks entry pick this check (by its count and part of its match)?"""
    if "count" in selector and selector["count"] != flt.get("count"):
        return False
    match = flt.get("match") or {}
    if "src-ports" in selector:  # [low, high]: the check's src_port lies in it
        low, high = selector["src-ports"]
        if not isinstance(match.get("src_port"), int) or not low <= match["src_port"] <= high:
            return False
    return all(k in match and rc.same(v, match[k])
               for k, v in (selector.get("match") or {}).items())


def describe_skip(selector):
    """A skip-checks entry in a few words: its selector and the start of its reason."""
    sel = {k: v for k, v in selector.items() if k != "reason"}
    reason = " ".join(str(selector.get("reason", "no reason given")).split())
    return "%s, reason: %s" % (json.dumps(sel, sort_keys=True),
                               reason if len(reason) <= 70 else reason[:67] + "...")


def check_expectation_keys(expectations, path, cases_dir=os.path.join(HERE, "..", "pcap")):
    """Every top-level key of an expectations file is `defaults` or a case of tests/pcap:
    an entry for a renamed or removed case would otherwise be ignored silently.
    Returns the error messages (empty if all is well)."""
    if not isinstance(expectations, dict):
        return ["%s: not a mapping of cases" % path]
    cases = {d for d in os.listdir(cases_dir)
             if os.path.isfile(os.path.join(cases_dir, d, "test.yaml"))}
    return ["%s: '%s' is neither 'defaults' nor a case of %s" % (
                path, key, os.path.normpath(cases_dir))
            for key in expectations if key != "defaults" and key not in cases]


def normalise_addresses(ev):
    """Suricata 7 writes IPv6 addresses uncompressed (2001:0db8:0006:0000:...); compare
    them as addresses, in the compressed form the checks and embargo scan use."""
    ev = dict(ev)
    for key in ("src_ip", "dest_ip"):
        try:
            ev[key] = ipaddress.ip_address(ev[key]).compressed
        except (KeyError, TypeError, ValueError):
            pass
    return ev


def key_ignored(paths, prefixes):
    """A has-key / not-has-key check on an ignored path (one or a list)."""
    paths = paths if isinstance(paths, list) else [paths]
    return any(ignored(p, prefixes) for p in paths)


def apply_checks(cfg, exp, expectations, events, header_only):
    """test.yaml's checks on the alert records, adjusted as expectations.yaml says:
    checks picked by skip-checks, stats checks (embargo scan's own record) and negative
    checks on ignored fields are skipped; ignored keys (header_only, ignore-keys) are
    dropped from the others; value-map rewrites values Suricata spells differently;
    extra-checks are added. Every failed check is reported, not only the first.
    Returns (checks done, checks skipped)."""
    defaults = expectations.get("defaults") or {}
    prefixes = list(header_only) + list(defaults.get("ignore-keys") or []) + \
        list(exp.get("ignore-keys") or [])
    value_map = defaults.get("value-map") or {}
    checks = list(enumerate(cfg.get("checks") or [], 1))
    checks += [("extra %d" % i, c) for i, c in enumerate(exp.get("extra-checks") or [], 1)]
    skips = exp.get("skip-checks") or []
    used = [False] * len(skips)
    done = skipped = 0
    failures = []
    for i, check in checks:
        flt = check["filter"]
        picked = [n for n, s in enumerate(skips) if isinstance(i, int) and selects(s, flt)]
        for n in picked:
            used[n] = True
        if picked:
            skipped += 1
            continue
        match = flt.get("match") or {}
        if match.get("event_type") == "stats":
            skipped += 1  # embargo scan's own stats record; Suricata's has other counters
            continue
        kept = {k: value_map.get(k, {}).get(v, v) if isinstance(v, str) else v
                for k, v in match.items() if not ignored(k, prefixes)
                and not (k in ("has-key", "not-has-key") and key_ignored(v, prefixes))}
        if len(kept) != len(match) and flt["count"] == 0:
            skipped += 1  # a negative check on a field Suricata fills in differently
            continue
        got = [n for n, ev in enumerate(events) if rc.matches(kept, ev)]
        if len(got) != flt["count"]:
            failures.append("check %s failed: expected count %d, got %d\n  match: %s\n%s" % (
                i, flt["count"], len(got), json.dumps(kept), rc.near_misses(kept, events)))
            continue
        done += 1
    # A skip that picks no check is stale (the check was changed, renamed or removed):
    # it would hide nothing today and whatever matches it tomorrow.
    failures += ["skip-checks entry %d (%s) selects no check of test.yaml: remove it, or "
                 "correct it if the check changed" % (n + 1, describe_skip(s))
                 for n, s in enumerate(skips) if not used[n]]
    if failures:
        seen = "\n".join(rc.summarise(e) for e in events) or "(no alerts)"
        raise CaseFailure("%s\nalerts seen (%d):\n%s" % (
            "\n".join(failures), len(events), rc._indent(seen)))
    return done, skipped


def read_lines(path):
    if not os.path.exists(path):
        return []
    with open(path, "rb") as f:
        data = f.read()
    if data and not data.endswith(b"\n"):
        raise CaseFailure("%s does not end with a newline" % path)
    return data.decode("utf-8").split("\n")[:-1] if data else []


def run_case(case_dir, opts, validator, expectations):
    case_dir = os.path.abspath(case_dir)
    name = os.path.basename(case_dir)
    exp = expectations.get(name) or {}
    if name == "defaults":
        raise CaseFailure("'defaults' is not a case")
    if "skip" in exp:
        return None, exp["skip"]
    if opts.runmode != "single" and "threads-skip" in exp:
        return None, "%s: %s" % (opts.runmode, exp["threads-skip"])
    with open(os.path.join(case_dir, "test.yaml")) as f:
        cfg = yaml.safe_load(f) or {}
    exit_expected = cfg["exit"]
    rules = os.path.join(case_dir, cfg["rules"]) if "rules" in cfg else opts.rules_default
    pcaps = [os.path.join(case_dir, p) for p in cfg.get("pcaps", ["input.pcap"])]

    tmp = tempfile.mkdtemp(prefix="embargo-suricata-")
    try:
        if len(pcaps) == 1:
            source = pcaps[0]
        else:
            # Several captures: Suricata reads a directory of them, in name order.
            source = os.path.join(tmp, "pcaps")
            os.mkdir(source)
            for i, p in enumerate(pcaps):
                # copies: Suricata's directory reader skips symbolic links
                shutil.copyfile(p, os.path.join(source, "%03d-%s" % (i, os.path.basename(p))))
        conf = os.path.join(tmp, "suricata.yaml")
        with open(conf, "w") as f:
            f.write("%YAML 1.1\n---\n")
            yaml.safe_dump(suricata_yaml(tmp, opts.plugin, rules, ban_settings(cfg)), f)
        cmd = [opts.suricata, "-r", source, "-c", conf, "-l", tmp, "-k", "none",
               "--runmode", opts.runmode, "-S", "/dev/null"]
        try:
            proc = subprocess.run(cmd, cwd=tmp, env=dict(os.environ, TZ="UTC"),
                                  capture_output=True, timeout=cfg.get("timeout", 120))
        except subprocess.TimeoutExpired:
            raise CaseFailure("timed out: %s" % " ".join(cmd))
        output = (proc.stdout + proc.stderr).decode("utf-8", "replace")
        context = "command: %s\nexit: %d\noutput:\n%s" % (
            " ".join(cmd), proc.returncode, rc._indent(output))
        if opts.verbose:
            print(context)
        if proc.returncode < 0:
            raise CaseFailure("killed by signal %d\n%s" % (-proc.returncode, context))
        if exit_expected == 2:
            if proc.returncode == 0:
                raise CaseFailure("Suricata started although embargo scan fails here\n"
                                  + context)
            if "stderr" in cfg and not re.search(cfg["stderr"], output, re.MULTILINE):
                raise CaseFailure("output does not match /%s/\n%s" % (cfg["stderr"], context))
            return 0, None
        if proc.returncode != 0:
            raise CaseFailure("suricata exit status %d\n%s" % (proc.returncode, context))

        lines = read_lines(os.path.join(tmp, "eve.json"))
        regular = read_lines(os.path.join(tmp, "eve-regular.json"))
        events, alert_lines, others = [], [], []
        for n, line in enumerate(lines, 1):
            try:
                ev = json.loads(line)
            except ValueError as e:
                raise CaseFailure("eve.json line %d is not JSON (%s): %r" % (n, e, line))
            if not isinstance(ev, dict):
                raise CaseFailure("eve.json line %d is not an object: %r" % (n, line))
            # Suricata's own alerts would carry gid/signature_id of its rules; there are none
            # (-S /dev/null), so every alert here is embargo's.
            if ev.get("event_type") != "alert":
                others.append(line)
                continue
            if validator is not None:
                errs = sorted(validator.iter_errors(ev), key=lambda e: list(e.path))
                if errs:
                    raise CaseFailure("eve.json line %d fails the schema: %s at %s\n%s" % (
                        n, errs[0].message, "/".join(map(str, errs[0].absolute_path)), line))
            events.append(ev)
            alert_lines.append(line)
        # The same records, compared as multisets of JSON values: with worker, flow-manager
        # and recycler threads writing, the interleaving across threads differs between two
        # outputs, and Suricata 7 itself orders dns.grouped's keys differently each time.
        def canon(lines_):
            return sorted(json.dumps(json.loads(x), sort_keys=True) for x in lines_)
        if canon(others) != canon(regular):
            raise CaseFailure("eve.json without embargo's alerts differs from Suricata's "
                              "regular output (%d vs %d lines)\n%s" % (
                                  len(others), len(regular), context))
        if cfg.get("eve-empty") and events:
            raise CaseFailure("no alert expected, got %d:\n%s" % (
                len(events), rc._indent("\n".join(alert_lines))))
        if exit_expected == 1 and not events and "no-alerts" not in exp:
            raise CaseFailure("embargo scan alerts here, the plugin wrote no alert\n" + context)
        if exit_expected == 0 and events:
            raise CaseFailure("embargo scan finds nothing here, the plugin alerted:\n%s" %
                              rc._indent("\n".join(alert_lines)))

        return apply_checks(cfg, exp, expectations,
                            [normalise_addresses(ev) for ev in events], HEADER_ONLY)
    finally:
        if opts.keep:
            print("kept %s" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description="Run tests/pcap cases through Suricata.")
    ap.add_argument("--suricata", default="suricata", help="the suricata binary")
    ap.add_argument("--plugin", required=True, help="path to embargo.so")
    ap.add_argument("--rules-default", required=True,
                    help="rules file or directory used when a case has no 'rules:'")
    ap.add_argument("--expectations", default=os.path.join(HERE, "expectations.yaml"))
    ap.add_argument("--schema", help="EVE JSON schema; every alert is validated against it")
    ap.add_argument("--runmode", default="single", choices=["single", "autofp"],
                    help="Suricata's runmode: autofp runs several threads, each with its own "
                         "engine state")
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("--keep", action="store_true", help="keep the scratch directory")
    ap.add_argument("cases", nargs="+", metavar="CASE_DIR")
    opts = ap.parse_args()
    opts.plugin = os.path.abspath(opts.plugin)
    opts.rules_default = os.path.abspath(opts.rules_default)
    if shutil.which(opts.suricata) is None:
        print("suricata not found: %s" % opts.suricata, file=sys.stderr)
        return 2
    if not os.path.exists(opts.plugin):
        print("plugin not found: %s" % opts.plugin, file=sys.stderr)
        return 2
    with open(opts.expectations) as f:
        expectations = yaml.safe_load(f) or {}
    errors = check_expectation_keys(expectations, opts.expectations)
    if errors:
        print("\n".join(errors), file=sys.stderr)
        return 2

    validator = rc.load_schema_validator(opts.schema)
    failed, skipped = [], []
    for case in opts.cases:
        name = os.path.basename(os.path.normpath(case))
        try:
            done, info = run_case(case, opts, validator, expectations)
            if done is None:
                skipped.append(name)
                print("SKIP %s: %s" % (name, " ".join(str(info).split())))
            else:
                print("PASS %s (%d checks%s)" % (
                    name, done, ", %d skipped, see expectations.yaml" % info if info else ""))
        except (CaseFailure, OSError, yaml.YAMLError, KeyError) as e:
            failed.append(name)
            print("FAIL %s: %s" % (name, e))
    if len(opts.cases) > 1:
        print("%d passed, %d skipped, %d failed%s" % (
            len(opts.cases) - len(failed) - len(skipped), len(skipped), len(failed),
            (": " + " ".join(failed)) if failed else ""))
    if failed:
        return 1
    return SKIPPED if len(skipped) == len(opts.cases) else 0


if __name__ == "__main__":
    sys.exit(main())
